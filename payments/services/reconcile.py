"""Reconciliation: recent payments and refunds compared with the gateway, and what a lost webhook left fixed.

Run daily by a task (payments.tasks.payments_reconcile) and by `manage.py reconcile_payments`.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from concierge.errors import TryAgainLater

from ..gateways import GatewayError, gateway_for
from ..models import OPEN_STATUSES, Payment, Refund, RefundStatus
from .abandon import _payment_cancel_open
from .refunds import payment_refunds_recount, refund_submit, refund_sync
from .sync import payment_sync


@dataclass
class ReconcileReport:
    checked: int = 0
    changes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        if line:
            self.changes.append(line)


def payments_reconcile(*, days: int = 3, now: datetime | None = None) -> ReconcileReport:
    """Compare recent payments and refunds with the gateway's objects and fix what a lost webhook left.

    Every payment created or changed in the last `days` days is synced with its intent (paid,
    failed, cancelled, disputed), and its refunds with the gateway's list (status changes, refunds
    made in Stripe's dashboard). Refunds recorded but never sent are sent (after checking the
    gateway does not have them already: an idempotency key lives only 24 hours at Stripe).
    Payments that never reached the gateway are cancelled (booking releases those whose hold ran out).
    """
    now = now or timezone.now()
    since = now - timedelta(days=days)
    report = ReconcileReport()

    # 1. Crashed between our row and the gateway's answer an hour ago: nobody could have paid.
    for payment in Payment.objects.filter(
        status__in=OPEN_STATUSES, intent_id="", created_at__lt=now - timedelta(hours=1)
    ):
        with transaction.atomic():
            report.add(_payment_cancel_open(payment, note="never reached the gateway (reconcile)"))

    # 2. Every recent payment against its intent, and its refunds against the gateway's.
    recent = Payment.objects.exclude(intent_id="").filter(Q(created_at__gte=since) | Q(updated_at__gte=since))
    for payment in recent.order_by("pk"):
        report.checked += 1
        gateway = gateway_for(payment.gateway)
        try:
            intent = gateway.intent_retrieve(intent_id=payment.intent_id)
            report.add(payment_sync(payment=payment, intent=intent, source="reconcile"))
            payment.refresh_from_db()
            if payment.is_paid:
                for result in gateway.refund_list(intent_id=payment.intent_id):
                    report.add(refund_sync(refund=result, source="reconcile"))
                # Whatever order the events came in, the status is what the amounts say.
                report.add(payment_refunds_recount(payment=payment, source="reconcile"))
        except (GatewayError, TryAgainLater) as exc:
            report.problems.append(f"payment {payment.pk}: {getattr(exc, 'message', exc)}")

    # 3. Refunds written but never sent (their task was lost); give the task a few minutes first.
    unsent = Refund.objects.filter(status=RefundStatus.PENDING, refund_id="", created_at__lt=now - timedelta(minutes=5))
    for refund in unsent.select_related("payment"):
        gateway = gateway_for(refund.payment.gateway)
        try:
            known = [
                r
                for r in gateway.refund_list(intent_id=refund.payment.intent_id)
                if str(r.metadata.get("refund_row")) == str(refund.pk)
            ]
            if known:
                report.add(refund_sync(refund=known[0], source="reconcile"))
            else:
                report.add(refund_submit(refund_id=refund.pk))
        except (GatewayError, TryAgainLater) as exc:
            report.problems.append(f"refund {refund.pk}: {getattr(exc, 'message', exc)}")

    return report
