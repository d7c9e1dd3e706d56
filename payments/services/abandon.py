"""Payments nobody will finish: an open payment is cancelled here, and its intent at the gateway.

The visit was cancelled (`visit_payments_cancel_open`), its hold lapsed (booking's checkout calls
`payment_abandon`), or the payment never reached the gateway (reconciliation). If the patient
paid meanwhile, the gateway refuses the cancel and the sync that follows honours the money.
"""

from django.db import transaction
from django.utils import timezone

from concierge.locking import bounded_lock_waits
from concierge.tasks import enqueue_on_commit

from ..gateways import GatewayError, GatewayUnavailable, gateway_for
from ..models import Payment, PaymentAllocation, PaymentStatus
from .sync import payment_sync

S = PaymentStatus


def _payment_cancel_open(payment: Payment, *, note: str) -> str:
    """Inside a transaction: an open payment will not be paid here; its intent is cancelled after commit."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if not payment.is_open:
        return ""
    payment.status = S.CANCELLED
    payment.cancelled_at = timezone.now()
    payment.save(update_fields=["status", "cancelled_at", "updated_at"])
    if payment.intent_id:
        enqueue_on_commit("payments.tasks.payment_abandon", payment.pk)
    return f"payment {payment.pk}: cancelled ({note})"


@transaction.atomic
def visit_payments_cancel_open(*, visit_id: int, note: str) -> None:
    """The visit will not be kept: its open payments can no longer be paid (intents cancelled after commit)."""
    with bounded_lock_waits():
        for allocation in PaymentAllocation.objects.filter(visit_id=visit_id).select_related("payment"):
            if allocation.payment.is_open:
                _payment_cancel_open(allocation.payment, note=note)


def payment_abandon(*, payment_id: int) -> str:
    """Cancel a payment's intent at the gateway, and follow whatever the gateway then says.

    If the patient paid in the meantime, the cancel fails and the sync sees "succeeded": the
    visit is confirmed if its time can still be had, otherwise refunded.
    """
    payment = Payment.objects.get(pk=payment_id)
    if not payment.intent_id:
        with transaction.atomic():
            return _payment_cancel_open(payment, note="never reached the gateway")
    before = payment.status
    gateway = gateway_for(payment.gateway)
    try:
        intent = gateway.intent_cancel(intent_id=payment.intent_id, idempotency_key=f"{payment.idempotency_key}-cancel")
    except GatewayUnavailable:
        raise
    except GatewayError:
        intent = gateway.intent_retrieve(intent_id=payment.intent_id)
    line = payment_sync(payment=payment, intent=intent, source="cancel")
    # The gateway's own event may have applied the change already: report it from before/after.
    payment.refresh_from_db()
    if line or payment.status == before:
        return line
    return f"payment {payment.pk}: {before} -> {payment.status} (cancel)"
