"""Demo data for the local run and for trying the product. Idempotent: run it twice, same result.

Logins are listed in the README. Refused where DEMO_DATA_ALLOWED is off (production).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from concierge.demo import DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create or refresh the demo logins and data (local run and tests only)."

    def handle(self, *args, **options):
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError("Demo data is disabled in this environment (DEMO_DATA_ALLOWED is off).")
        with transaction.atomic():
            summary = seed_demo()
        for line in summary:
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Every demo login uses the password {DEMO_PASSWORD!r}."))
