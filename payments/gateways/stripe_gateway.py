"""Stripe, through the official SDK: one function per API call, typed results, pinned API version.

Every call that creates something carries an idempotency key made from our own row, so a retry
after a timeout or a crash gets Stripe's first answer back instead of a second charge or refund.
Metadata carries our row ids only: nothing about the patient or the visit goes to Stripe.
"""

import logging
from collections.abc import Callable

import stripe
from django.conf import settings
from stripe.params import PaymentIntentCreateParams, RefundCreateParams

from .types import (
    GatewayError,
    GatewayUnavailable,
    IntentResult,
    Metadata,
    RefundResult,
    StripeObject,
    intent_from_dict,
    refund_from_dict,
)

logger = logging.getLogger(__name__)

# Tests swap this for a fake HTTP client under the real SDK (no network); None = the SDK's own.
http_client_factory: Callable[[], stripe.HTTPClient] | None = None


def _client() -> stripe.StripeClient:
    http_client = http_client_factory() if http_client_factory else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        stripe_version=settings.STRIPE_API_VERSION,
        http_client=http_client,
        # The SDK retries connection errors and 409/5xx with the same idempotency key.
        max_network_retries=2,
    )


def _call(what: str, fn: Callable[[], stripe.StripeObject]) -> StripeObject:
    try:
        return fn().to_dict()
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        logger.warning("stripe %s: temporary failure %s", what, type(exc).__name__)
        raise GatewayUnavailable(code=getattr(exc, "code", "") or "") from exc
    except stripe.StripeError as exc:
        # Card and request errors carry a message Stripe writes for people; log only the code.
        logger.warning("stripe %s: refused (%s, code=%s)", what, type(exc).__name__, getattr(exc, "code", ""))
        message = getattr(exc, "user_message", None) or str(exc)
        raise GatewayError(message, code=getattr(exc, "code", "") or "") from exc


def intent_create(
    *, amount_cents: int, currency: str, idempotency_key: str, description: str, metadata: Metadata
) -> IntentResult:
    params: PaymentIntentCreateParams = {
        "amount": amount_cents,
        "currency": currency,
        "description": description,
        "metadata": {k: str(v) for k, v in metadata.items()},
        # Cards (and the wallets built on them) answer within seconds; bank debits take days,
        # far longer than a booking hold. Since API version 2026-09-30.endive the old
        # payment_method_types parameter is refused (400 payment_method_types_no_longer_supported);
        # allowed_payment_method_types keeps the same limit.
        "allowed_payment_method_types": ["card"],
    }
    data = _call(
        "payment_intents.create",
        lambda: _client().v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key}),
    )
    return intent_from_dict(data)


def intent_retrieve(*, intent_id: str) -> IntentResult:
    # The latest charge comes along so that refunds and disputes made elsewhere show up.
    data = _call(
        "payment_intents.retrieve",
        lambda: _client().v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]}),
    )
    return intent_from_dict(data)


def intent_cancel(*, intent_id: str, idempotency_key: str) -> IntentResult:
    data = _call(
        "payment_intents.cancel",
        lambda: _client().v1.payment_intents.cancel(
            intent_id, params={"cancellation_reason": "abandoned"}, options={"idempotency_key": idempotency_key}
        ),
    )
    return intent_from_dict(data)


def refund_create(*, intent_id: str, amount_cents: int, idempotency_key: str, metadata: Metadata) -> RefundResult:
    params: RefundCreateParams = {
        "payment_intent": intent_id,
        "amount": amount_cents,
        "metadata": {k: str(v) for k, v in metadata.items()},
    }
    data = _call(
        "refunds.create",
        lambda: _client().v1.refunds.create(params=params, options={"idempotency_key": idempotency_key}),
    )
    return refund_from_dict(data)


def refund_retrieve(*, refund_id: str) -> RefundResult:
    return refund_from_dict(_call("refunds.retrieve", lambda: _client().v1.refunds.retrieve(refund_id)))


def refund_list(*, intent_id: str) -> list[RefundResult]:
    data = _call(
        "refunds.list",
        lambda: _client().v1.refunds.list(params={"payment_intent": intent_id, "limit": 100}),
    )
    return [refund_from_dict(item) for item in data.get("data", [])]
