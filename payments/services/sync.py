"""Following the gateway: `payment_sync` is the one place where an intent's state reaches our rows.

The webhook, the return page, abandoning and reconciliation all call it. It locks in
concierge/locking.py's order (the visits' providers and patients, the visits, then the payment)
and moves the status forward only. The first sync that sees the money in sends
`signals.payment_succeeded` (booking confirms the visits or hands the money back), then the
receipt goes out, once, through the outbox.
"""

import logging

from django.db import transaction
from django.utils import timezone

from concierge.locking import bounded_lock_waits, lock_rows

from .. import notices
from ..gateways import IntentResult
from ..models import PAID_STATUSES, Payment, PaymentAllocation, PaymentStatus, RefundReason
from ..signals import payment_succeeded
from .disputes import _dispute_mark
from .refunds import _payment_refunds_total

# One logger name for the whole package, as before the split: log filters keyed on it still match.
logger = logging.getLogger(__package__)

S = PaymentStatus


def _payment_locked(payment_id: int) -> Payment:
    """The payment, fresh and locked after its visits' providers, patients and the visits themselves.

    concierge/locking.py's one order: a payment confirming a visit and a cancellation of that
    visit (booking locks the visit, then asks us to refund) queue up, never deadlock.
    """
    rows = list(
        PaymentAllocation.objects.filter(payment_id=payment_id).values_list(
            "visit_id", "visit__provider_id", "visit__patient_id"
        )
    )
    lock_rows(
        {
            "roster.Provider": [provider for _visit, provider, _patient in rows],
            "concierge.User": [patient for _visit, _provider, patient in rows],
            "booking.Visit": [visit for visit, _provider, _patient in rows],
            Payment: [payment_id],
        }
    )
    return Payment.objects.get(pk=payment_id)


def _status_of(intent: IntentResult) -> PaymentStatus:
    if intent.status == "succeeded":
        return S.SUCCEEDED
    if intent.status in ("processing", "requires_capture"):
        return S.PROCESSING
    if intent.status == "canceled":
        return S.CANCELLED
    if intent.status == "requires_payment_method" and intent.failure_message:
        return S.FAILED
    return S.REQUIRES_PAYMENT


@transaction.atomic
def payment_sync(*, payment: Payment, intent: IntentResult, source: str) -> str:
    """Bring a payment in line with the gateway's intent; returns what changed ("" if nothing).

    Moves forward only: a late "payment failed" never undoes "paid", a "processing" read
    before "succeeded" but applied after it changes nothing. The first caller to see the
    intent succeeded confirms the visit(s); if they can no longer be confirmed (the hold ran out
    and the time was taken, or the visit was cancelled meanwhile) the money goes back at once.
    """
    now = timezone.now()
    with bounded_lock_waits():
        payment = _payment_locked(payment.pk)
        if payment.intent_id and intent.id != payment.intent_id:
            logger.error("payments: intent %s does not belong to payment %s", intent.id, payment.pk)
            return ""
        before = payment.status
        target = _status_of(intent)
        notes: list[str] = []
        fields: set[str] = set()
        if not payment.intent_id:
            payment.intent_id = intent.id
            fields.add("intent_id")
        if target == S.SUCCEEDED and not payment.is_paid:
            # Also from CANCELLED: money was taken after all (the patient paid as we cancelled).
            payment.status = S.SUCCEEDED
            payment.succeeded_at = now
            payment.failure_message = ""
            fields |= {"status", "succeeded_at", "failure_message"}
        elif target == S.PROCESSING and payment.status in (S.REQUIRES_PAYMENT, S.FAILED):
            payment.status = S.PROCESSING
            fields.add("status")
        elif target == S.FAILED and payment.is_open:
            if payment.status != S.FAILED or payment.failure_message != intent.failure_message:
                payment.status = S.FAILED
                payment.failure_message = intent.failure_message[:255]
                fields |= {"status", "failure_message"}
        elif target == S.CANCELLED and payment.is_open:
            payment.status = S.CANCELLED
            payment.cancelled_at = now
            fields |= {"status", "cancelled_at"}
        if payment.is_paid and intent.charge_id and not payment.charge_id:
            payment.charge_id = intent.charge_id
            fields.add("charge_id")
        if fields:
            payment.full_clean()
            payment.save(update_fields=[*fields, "updated_at"])
        if before not in PAID_STATUSES and payment.is_paid:
            notes += _payment_fulfil(payment)
        if payment.is_paid and intent.disputed and payment.status != S.DISPUTED:
            notes.append(_dispute_mark(payment, dispute_id="", dispute_status="", now=now))
        if payment.is_paid and before not in PAID_STATUSES:
            # A refund can overtake the "succeeded" event (refund.created first): the status is
            # what the amounts say, so this order ends where the other one does.
            _payment_refunds_total(payment)
    if payment.status == before and not notes:
        return ""
    line = f"payment {payment.pk}: {before} -> {payment.status} ({source})"
    return "; ".join([line, *notes])


def _payment_fulfil(payment: Payment) -> list[str]:
    """The money is in: booking confirms the visit(s) or hands the money back; then the receipt.

    Booking's receiver of `payment_succeeded` runs here, inside our transaction and under our
    locks; "busy" (TryAgainLater) rolls everything back and the webhook answers 503.
    """
    notes: list[str] = []
    for _receiver, response in payment_succeeded.send(sender=Payment, payment=payment):
        notes += response or []
    unfulfilled = set(payment.refunds.filter(reason_code=RefundReason.UNFULFILLED).values_list("visit_id", flat=True))
    kept = [a for a in payment.allocations.all() if a.visit_id not in unfulfilled]
    if kept and payment.receipt_sent_at is None:
        payment.receipt_sent_at = timezone.now()
        payment.save(update_fields=["receipt_sent_at", "updated_at"])
        notices.receipt_enqueue(payment)
        notes.append("confirmed")
    return notes
