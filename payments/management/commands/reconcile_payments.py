"""Compare recent payments with the gateway and fix what a missed webhook left; print the changes.

    python manage.py reconcile_payments            # the last 3 days
    python manage.py reconcile_payments --days 30

The daily Celery task (payments.tasks.payments_reconcile) calls the same service.
"""

from django.core.management.base import BaseCommand, CommandError

from payments.services import payments_reconcile


class Command(BaseCommand):
    help = "Compare recent payments and refunds with the payment gateway, fix differences, print what changed."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=3, help="How far back to look (default 3 days).")

    def handle(self, *args, days, **options):
        if days < 1:
            raise CommandError("--days must be 1 or more.")
        report = payments_reconcile(days=days)
        for line in report.changes:
            self.stdout.write(f"changed: {line}")
        for line in report.problems:
            self.stderr.write(f"problem: {line}")
        summary = f"{report.checked} payments checked, {len(report.changes)} changes, {len(report.problems)} problems."
        self.stdout.write(self.style.SUCCESS(summary) if not report.problems else self.style.WARNING(summary))
