"""The gateway's events (verified by payments/webhooks.py), handled once per event id, in any order.

Each event type has a handler that finds our row and reads the object's current state from the
gateway (outside any transaction); `webhook_event_handle` then records the event id and applies
the change in one transaction, through the same sync functions the return page and
reconciliation use.
"""

import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from concierge.locking import bounded_lock_waits

from ..gateways import GatewayError, GatewayUnavailable, IntentResult, RefundResult, gateway_for
from ..gateways.types import StripeObject
from ..models import Payment, Refund, WebhookEvent
from .disputes import payment_dispute_record
from .refunds import refund_sync
from .sync import payment_sync

# One logger name for the whole package, as before the split: log filters keyed on it still match.
logger = logging.getLogger(__package__)

# An event's handler finds our row and reads the gateway (no transaction, no lock), then returns
# the change to apply inside the event's transaction, or None when the object is not ours.
Apply = Callable[[], str]
Prepare = Callable[[StripeObject], Apply | None]


def _payment_for_intent_object(obj: StripeObject) -> Payment | None:
    payment = Payment.objects.filter(intent_id=obj.get("id", "")).first()
    if payment is None:
        payment_id = str((obj.get("metadata") or {}).get("payment_id", ""))
        if payment_id.isdigit():
            payment = Payment.objects.filter(pk=int(payment_id), intent_id="").first()
    return payment


def _fetch_intent(payment: Payment, intent_id: str) -> IntentResult | None:
    """The intent as the gateway has it now; None if the gateway does not know it.

    Never the event's own copy: the body of an event is a snapshot of some past moment, and a
    signed event about an object the gateway does not know changes nothing of ours."""
    try:
        return gateway_for(payment.gateway).intent_retrieve(intent_id=intent_id)
    except GatewayUnavailable:
        raise
    except GatewayError:
        logger.warning("payments: intent of payment %s not found at the gateway; event ignored", payment.pk)
        return None


def _prepare_intent_event(obj: StripeObject) -> Apply | None:
    payment = _payment_for_intent_object(obj)
    if payment is None:
        return None
    intent = _fetch_intent(payment, obj["id"])
    if intent is None:
        return _unknown_at_gateway
    return lambda: payment_sync(payment=payment, intent=intent, source="webhook")


def _unknown_at_gateway() -> str:
    return "ignored: the gateway does not know this object"


def _prepare_refund_event(obj: StripeObject) -> Apply | None:
    intent_id = obj.get("payment_intent") or ""
    payment = Payment.objects.filter(intent_id=intent_id).first() if intent_id else None
    row = Refund.objects.select_related("payment").filter(refund_id=obj.get("id", "")).first()
    payment = payment or (row.payment if row else None)
    if payment is None:
        return None
    try:
        current = gateway_for(payment.gateway).refund_retrieve(refund_id=obj["id"])
    except GatewayUnavailable:
        raise
    except GatewayError:
        logger.warning("payments: refund event for payment %s names a refund the gateway does not know", payment.pk)
        return _unknown_at_gateway
    # The refund can overtake the payment's own "succeeded": bring the payment up to date too.
    intent = _fetch_intent(payment, payment.intent_id) if payment.intent_id else None
    return lambda: _apply_all(payment, intent, [current])


def _prepare_charge_refunded(obj: StripeObject) -> Apply | None:
    """`charge.refunded`: the charge's refunds changed; read them all from the gateway."""
    intent_id = obj.get("payment_intent") or ""
    payment = Payment.objects.filter(intent_id=intent_id).first() if intent_id else None
    if payment is None:
        return None
    gateway = gateway_for(payment.gateway)
    intent = _fetch_intent(payment, intent_id)
    if intent is None:
        return _unknown_at_gateway
    try:
        refunds = gateway.refund_list(intent_id=intent_id)
    except GatewayUnavailable:
        raise
    except GatewayError:
        return _unknown_at_gateway
    return lambda: _apply_all(payment, intent, refunds)


def _apply_all(payment: Payment, intent: IntentResult | None, refunds: list[RefundResult]) -> str:
    lines = [payment_sync(payment=payment, intent=intent, source="webhook")] if intent else []
    lines += [refund_sync(refund=refund, source="webhook") for refund in refunds]
    return "; ".join(line for line in lines if line)


def _prepare_dispute_event(obj: StripeObject) -> Apply | None:
    intent_id = obj.get("payment_intent") or ""
    query = Q(intent_id=intent_id) if intent_id else Q(charge_id=obj.get("charge") or "-")
    payment = Payment.objects.filter(query).exclude(intent_id="").first()
    if payment is None:
        return None
    # A dispute can overtake the "succeeded" event: bring the payment up to date first.
    intent = _fetch_intent(payment, payment.intent_id)

    def apply() -> str:
        lines = [payment_sync(payment=payment, intent=intent, source="webhook")] if intent else []
        lines.append(
            payment_dispute_record(payment=payment, dispute_id=obj.get("id", ""), dispute_status=obj.get("status", ""))
        )
        return "; ".join(line for line in lines if line)

    return apply


# Checkout Sessions are not used (README: PaymentIntents); their events are recorded and ignored.
EVENT_HANDLERS: dict[str, Prepare] = {
    "payment_intent.succeeded": _prepare_intent_event,
    "payment_intent.payment_failed": _prepare_intent_event,
    "payment_intent.processing": _prepare_intent_event,
    "payment_intent.canceled": _prepare_intent_event,
    "payment_intent.requires_action": _prepare_intent_event,
    "refund.created": _prepare_refund_event,
    "refund.updated": _prepare_refund_event,
    "refund.failed": _prepare_refund_event,
    "charge.refund.updated": _prepare_refund_event,
    "charge.refunded": _prepare_charge_refunded,
    "charge.dispute.created": _prepare_dispute_event,
    "charge.dispute.updated": _prepare_dispute_event,
    "charge.dispute.closed": _prepare_dispute_event,
}


def webhook_event_handle(*, event: StripeObject) -> str:
    """Handle one verified gateway event, once per event id; returns what it did.

    The object's current state is read from the gateway first (outside any transaction), so
    events may arrive in any order. Then, in one transaction, the event id is recorded (the
    unique constraint lets exactly one of many concurrent copies through; the others wait for
    it and find it done) and the change applied. If anything fails (a lock not granted in time:
    TryAgainLater), nothing is kept, not even the event id, and Stripe's retry does it all again.
    """
    event_id, event_type = event["id"], event["type"]
    obj = event["data"]["object"]
    if WebhookEvent.objects.filter(event_id=event_id).exists():
        return "duplicate"
    prepare = EVENT_HANDLERS.get(event_type)
    apply = prepare(obj) if prepare else None
    with transaction.atomic(), bounded_lock_waits():
        try:
            with transaction.atomic():
                record = WebhookEvent.objects.create(
                    event_id=event_id,
                    type=event_type[:100],
                    object_id=str(obj.get("id", ""))[:255],
                    livemode=bool(event.get("livemode")),
                )
        except IntegrityError:
            return "duplicate"
        if apply is None:
            outcome = "ignored: not a payment of ours" if prepare else "ignored: event type not used"
        else:
            outcome = apply() or "no change"
        record.outcome = outcome[:255]
        record.processed_at = timezone.now()
        record.save(update_fields=["outcome", "processed_at"])
    return outcome
