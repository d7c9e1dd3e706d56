"""What every payment gateway returns: typed results in our own words, whichever gateway answered.

Both gateways (Stripe and the local fake) speak Stripe's object shapes, so one parser turns a
PaymentIntent or Refund dictionary (from the API, a webhook or the fake's table) into these.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.utils.translation import gettext_lazy as _


class GatewayError(Exception):
    """The gateway said no (a bad request, a card problem, a refund too large). Retrying will not help."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached or answered 5xx / 429: the same call may be retried later."""

    def __init__(self, message: str | None = None, *, code: str = "") -> None:
        super().__init__(message or str(_("The payment service is not answering.")), code=code)


@dataclass(frozen=True)
class IntentResult:
    """A PaymentIntent, as much of it as we use."""

    id: str
    status: str  # Stripe's: requires_payment_method, requires_action, processing, succeeded, canceled, ...
    amount_cents: int
    currency: str
    client_secret: str = ""
    charge_id: str = ""
    failure_message: str = ""  # the last attempt's decline message, written for the cardholder
    amount_refunded_cents: int = 0  # known when the latest charge came with the intent
    disputed: bool = False
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str  # pending, requires_action, succeeded, failed, canceled
    amount_cents: int
    intent_id: str = ""
    failure_reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


# What our metadata at the gateway carries: our row ids (the gateway turns every value into a string).
Metadata = Mapping[str, str | int]


class Gateway(Protocol):
    """The shape every gateway module has (`stripe_gateway`, `fake`): one function per API call."""

    def intent_create(
        self, *, amount_cents: int, currency: str, idempotency_key: str, description: str, metadata: Metadata
    ) -> IntentResult: ...

    def intent_retrieve(self, *, intent_id: str) -> IntentResult: ...

    def intent_cancel(self, *, intent_id: str, idempotency_key: str) -> IntentResult: ...

    def refund_create(
        self, *, intent_id: str, amount_cents: int, idempotency_key: str, metadata: Metadata
    ) -> RefundResult: ...

    def refund_retrieve(self, *, refund_id: str) -> RefundResult: ...

    def refund_list(self, *, intent_id: str) -> list[RefundResult]: ...


# A Stripe object (an intent, a refund, an event) as JSON: its shape is Stripe's, hence Any.
StripeObject = dict[str, Any]


def intent_from_dict(data: StripeObject) -> IntentResult:
    charge = data.get("latest_charge")
    charge_id, refunded, disputed = "", 0, False
    if isinstance(charge, dict):
        charge_id = charge.get("id") or ""
        refunded = int(charge.get("amount_refunded") or 0)
        disputed = bool(charge.get("disputed"))
    elif isinstance(charge, str):
        charge_id = charge
    error = data.get("last_payment_error") or {}
    return IntentResult(
        id=data["id"],
        status=data.get("status") or "",
        amount_cents=int(data.get("amount") or 0),
        currency=data.get("currency") or "usd",
        client_secret=data.get("client_secret") or "",
        charge_id=charge_id,
        failure_message=(error.get("message") or "") if isinstance(error, dict) else "",
        amount_refunded_cents=refunded,
        disputed=disputed,
        metadata=dict(data.get("metadata") or {}),
    )


def refund_from_dict(data: StripeObject) -> RefundResult:
    intent = data.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    return RefundResult(
        id=data["id"],
        status=data.get("status") or "",
        amount_cents=int(data.get("amount") or 0),
        intent_id=intent or "",
        failure_reason=data.get("failure_reason") or "",
        metadata=dict(data.get("metadata") or {}),
    )
