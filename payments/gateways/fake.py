"""The local test gateway: Stripe's shapes and behaviour without Stripe.

Same functions as `stripe_gateway`. It keeps its PaymentIntents and refunds in our database
(`FakeGatewayObject`), honours idempotency keys like Stripe, and serves a local card page (see
`views.fake_pay`). Whatever changes on its side is announced like Stripe does: a Stripe-shaped
event, signed with STRIPE_WEBHOOK_SECRET, handed to the very function the webhook URL calls.

Test cards (any future expiry, any 3-digit CVC):
    4242 4242 4242 4242  succeeds
    4000 0000 0000 0002  declined ("Your card was declined.")
    4000 0000 0000 9995  declined ("Your card has insufficient funds.")
"""

import json
import secrets
import time
from collections.abc import Callable

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from ..models import FakeGatewayObject
from ..webhooks import WebhookResult, webhook_receive
from .types import (
    GatewayError,
    IntentResult,
    Metadata,
    RefundResult,
    StripeObject,
    intent_from_dict,
    refund_from_dict,
)

SUCCESS_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"
DECLINES = {
    DECLINE_CARD: ("card_declined", "Your card was declined."),
    "4000000000009995": ("card_declined", "Your card has insufficient funds."),
}

# Tests switch this off to play a webhook that never arrived (reconciliation must then fix it).
DELIVER_EVENTS = True


def _new_id(prefix: str) -> str:
    return f"{prefix}_fake_{secrets.token_hex(12)}"


def _get(object_id: str, kind: str) -> FakeGatewayObject:
    obj = FakeGatewayObject.objects.filter(pk=object_id, kind=kind).first()
    if obj is None:
        raise GatewayError(f"No such {kind}: '{object_id}'", code="resource_missing")
    return obj


def _create_once(kind: str, idempotency_key: str, build: Callable[[], StripeObject]) -> FakeGatewayObject:
    """Create an object, or return the one made earlier with the same key (as Stripe does)."""
    existing = FakeGatewayObject.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    data = build()
    try:
        with transaction.atomic():
            return FakeGatewayObject.objects.create(
                id=data["id"], kind=kind, idempotency_key=idempotency_key, data=data
            )
    except IntegrityError:
        return FakeGatewayObject.objects.get(idempotency_key=idempotency_key)


def _intent_public(data: StripeObject) -> StripeObject:
    """The intent as a webhook carries it: the latest charge as an id, like Stripe."""
    public = dict(data)
    charge = public.get("latest_charge")
    public["latest_charge"] = charge["id"] if isinstance(charge, dict) else charge
    return public


# --- the gateway's functions (same as stripe_gateway) ---------------------------------------


def intent_create(
    *, amount_cents: int, currency: str, idempotency_key: str, description: str, metadata: Metadata
) -> IntentResult:
    def build() -> StripeObject:
        intent_id = _new_id("pi")
        return {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount_cents,
            "currency": currency,
            "description": description,
            "metadata": {k: str(v) for k, v in metadata.items()},
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "last_payment_error": None,
            "latest_charge": None,
            "created": int(time.time()),
            "livemode": False,
        }

    return intent_from_dict(_create_once("payment_intent", idempotency_key, build).data)


def intent_retrieve(*, intent_id: str) -> IntentResult:
    return intent_from_dict(_get(intent_id, "payment_intent").data)


def intent_cancel(*, intent_id: str, idempotency_key: str) -> IntentResult:
    obj = _get(intent_id, "payment_intent")
    status = obj.data["status"]
    if status == "canceled":
        return intent_from_dict(obj.data)
    if status == "succeeded":
        raise GatewayError(
            "You cannot cancel this PaymentIntent because it has a status of succeeded.",
            code="payment_intent_unexpected_state",
        )
    obj.data.update(status="canceled", cancellation_reason="abandoned")
    obj.save(update_fields=["data"])
    _deliver("payment_intent.canceled", _intent_public(obj.data))
    return intent_from_dict(obj.data)


def refund_create(*, intent_id: str, amount_cents: int, idempotency_key: str, metadata: Metadata) -> RefundResult:
    existing = FakeGatewayObject.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return refund_from_dict(existing.data)
    intent = _get(intent_id, "payment_intent")
    charge = intent.data.get("latest_charge")
    if intent.data["status"] != "succeeded" or not isinstance(charge, dict):
        raise GatewayError(
            f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
            code="charge_not_refundable",
        )
    if amount_cents > charge["amount"] - charge["amount_refunded"]:
        raise GatewayError(
            f"Refund amount (${amount_cents / 100:.2f}) is greater than unrefunded amount on charge.",
            code="amount_too_large",
        )

    def build() -> StripeObject:
        return {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount_cents,
            "currency": intent.data["currency"],
            "payment_intent": intent_id,
            "charge": charge["id"],
            "status": "succeeded",
            "failure_reason": None,
            "metadata": {k: str(v) for k, v in metadata.items()},
            "created": int(time.time()),
        }

    obj = _create_once("refund", idempotency_key, build)
    charge["amount_refunded"] += amount_cents
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    intent.save(update_fields=["data"])
    _deliver("refund.created", obj.data)
    return refund_from_dict(obj.data)


def refund_retrieve(*, refund_id: str) -> RefundResult:
    return refund_from_dict(_get(refund_id, "refund").data)


def refund_list(*, intent_id: str) -> list[RefundResult]:
    objs = FakeGatewayObject.objects.filter(kind="refund", data__payment_intent=intent_id)
    return [refund_from_dict(o.data) for o in objs]


# --- the customer's side: what Stripe.js and the card networks do ----------------------------


def intent_pay(*, client_secret: str, card_number: str) -> IntentResult:
    """Try a card on an intent, as the Payment Element would, and announce the outcome.

    One card check at a time per intent, as at Stripe: "pay" pressed twice charges once, and the
    second is told the payment is already complete. The outcome is announced after the change
    is committed, outside the intent's lock.
    """
    with transaction.atomic():
        obj = (
            FakeGatewayObject.objects.select_for_update()
            .filter(kind="payment_intent", data__client_secret=client_secret)
            .first()
        )
        if obj is None:
            raise GatewayError("This payment could not be found.", code="resource_missing")
        event_type = _card_check(obj, card_number)
    _deliver(event_type, _intent_public(obj.data))
    return intent_from_dict(obj.data)


def _card_check(obj: FakeGatewayObject, card_number: str) -> str:
    data = obj.data
    if data["status"] == "succeeded":
        raise GatewayError("This payment is already complete.", code="payment_intent_unexpected_state")
    if data["status"] == "canceled":
        raise GatewayError("This payment was cancelled.", code="payment_intent_unexpected_state")
    number = "".join(ch for ch in card_number if ch.isdigit())
    if number == SUCCESS_CARD:
        data.update(
            status="succeeded",
            last_payment_error=None,
            latest_charge={
                "id": _new_id("ch"),
                "object": "charge",
                "amount": data["amount"],
                "amount_refunded": 0,
                "refunded": False,
                "disputed": False,
            },
        )
        event_type = "payment_intent.succeeded"
    elif number in DECLINES:
        code, message = DECLINES[number]
        data.update(
            status="requires_payment_method",
            last_payment_error={
                "type": "card_error",
                "code": code,
                "decline_code": "generic_decline",
                "message": message,
            },
        )
        event_type = "payment_intent.payment_failed"
    else:
        raise GatewayError("Your card number is incorrect.", code="incorrect_number")
    obj.save(update_fields=["data"])
    return event_type


# --- what tests (and a curious developer) use to play Stripe's part -------------------------


def intent_set(intent_id: str, *, event_type: str | None = None, **changes: object) -> IntentResult:
    """Change an intent as Stripe might (e.g. status="processing") and optionally announce it."""
    obj = _get(intent_id, "payment_intent")
    obj.data.update(changes)
    obj.save(update_fields=["data"])
    if event_type:
        _deliver(event_type, _intent_public(obj.data))
    return intent_from_dict(obj.data)


def refund_set_status(refund_id: str, status: str, *, failure_reason: str = "") -> RefundResult:
    """A refund's status changes at the bank (a card closed since: `failed`), announced as refund.updated."""
    obj = _get(refund_id, "refund")
    obj.data.update(status=status, failure_reason=failure_reason or None)
    obj.save(update_fields=["data"])
    if status in ("failed", "canceled"):
        intent = _get(obj.data["payment_intent"], "payment_intent")
        intent.data["latest_charge"]["amount_refunded"] -= obj.data["amount"]
        intent.save(update_fields=["data"])
    _deliver("refund.updated", obj.data)
    return refund_from_dict(obj.data)


def dispute_create(intent_id: str, *, reason: str = "fraudulent") -> StripeObject:
    """The cardholder disputes the charge with their bank."""
    intent = _get(intent_id, "payment_intent")
    charge = intent.data["latest_charge"]
    charge["disputed"] = True
    intent.save(update_fields=["data"])
    dispute = {
        "id": _new_id("dp"),
        "object": "dispute",
        "amount": charge["amount"],
        "charge": charge["id"],
        "payment_intent": intent_id,
        "reason": reason,
        "status": "needs_response",
    }
    FakeGatewayObject.objects.create(id=dispute["id"], kind="dispute", data=dispute)
    _deliver("charge.dispute.created", dispute)
    return dispute


def event_build(event_type: str, obj: StripeObject) -> StripeObject:
    return {
        "id": _new_id("evt"),
        "object": "event",
        "api_version": settings.STRIPE_API_VERSION,
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "type": event_type,
        "data": {"object": obj},
    }


def sign(payload: str, *, timestamp: int | None = None, secret: str | None = None) -> str:
    """A Stripe-Signature header for a body, made exactly as Stripe makes it."""
    return stripe.WebhookSignature.generate_signature_header(
        payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp=timestamp
    )


def _deliver(event_type: str, obj: StripeObject) -> WebhookResult | None:
    if not DELIVER_EVENTS:
        return None
    event = event_build(event_type, obj)
    FakeGatewayObject.objects.create(id=event["id"], kind="event", data=event)
    payload = json.dumps(event)
    # Stripe retries a delivery that did not get a 2xx; here the return page and reconciliation
    # are the retry, so the answer is only passed back to whoever is curious.
    return webhook_receive(payload=payload.encode(), sig_header=sign(payload))
