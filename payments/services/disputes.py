"""Disputes: the cardholder contested a charge with their bank. The payment is marked; staff hear once."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from concierge.locking import bounded_lock_waits

from .. import notices
from ..display import money
from ..models import Payment, PaymentStatus

S = PaymentStatus


def _dispute_mark(payment: Payment, *, dispute_id: str, dispute_status: str, now: datetime) -> str:
    first = payment.status != S.DISPUTED
    payment.status = S.DISPUTED
    payment.dispute_id = dispute_id or payment.dispute_id
    payment.dispute_status = dispute_status or payment.dispute_status
    payment.disputed_at = payment.disputed_at or now
    payment.save(update_fields=["status", "dispute_id", "dispute_status", "disputed_at", "updated_at"])
    if first:
        notices.staff_alert(
            key=f"dispute-{payment.pk}",
            subject="A payment is disputed",
            body=(
                f"The cardholder disputed payment {payment.reference} ({money(payment.amount_cents)}). "
                f"Answer the dispute in Stripe before its deadline.\n{notices.admin_url(payment)}"
            ),
        )
    return "disputed"


@transaction.atomic
def payment_dispute_record(*, payment: Payment, dispute_id: str, dispute_status: str) -> str:
    """The cardholder disputed the charge (or the dispute moved on): mark it, tell staff once."""
    with bounded_lock_waits():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if (
            payment.status == S.DISPUTED
            and payment.dispute_id == dispute_id
            and payment.dispute_status == dispute_status
        ):
            return ""
        before = payment.status
        _dispute_mark(payment, dispute_id=dispute_id, dispute_status=dispute_status, now=timezone.now())
    return f"payment {payment.pk}: {before} -> disputed ({dispute_status or 'open'})"
