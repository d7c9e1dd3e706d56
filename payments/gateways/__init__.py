"""Payment gateways, picked by the PAYMENT_GATEWAY setting like Django picks EMAIL_BACKEND.

Each gateway module has the same functions, one per API call, each returning a typed result
(`types.py`) or raising `GatewayError` / `GatewayUnavailable`:

    intent_create(*, amount_cents, currency, idempotency_key, description, metadata) -> IntentResult
    intent_retrieve(*, intent_id) -> IntentResult
    intent_cancel(*, intent_id, idempotency_key) -> IntentResult
    refund_create(*, intent_id, amount_cents, idempotency_key, metadata) -> RefundResult
    refund_retrieve(*, refund_id) -> RefundResult
    refund_list(*, intent_id) -> list[RefundResult]

`stripe` calls Stripe with the SDK; `fake` keeps Stripe-shaped objects in our database, serves
a local card page and delivers its events, signed, through the same webhook code as Stripe's.
"""

from importlib import import_module
from typing import TYPE_CHECKING, cast

from django.conf import settings

from .types import Gateway, GatewayError, GatewayUnavailable, IntentResult, RefundResult  # noqa: F401

MODULES = {"stripe": "payments.gateways.stripe_gateway", "fake": "payments.gateways.fake"}


def gateway_name() -> str:
    name = settings.PAYMENT_GATEWAY
    if name not in MODULES:
        raise ValueError(f"PAYMENT_GATEWAY must be one of {sorted(MODULES)}, not {name!r}")
    return name


def gateway_for(name: str | None = None) -> Gateway:
    """The gateway module by name; by default the configured one. A payment keeps using the one it began with."""
    # A module has no declared type; the check below makes mypy hold both modules to Gateway's shape.
    return cast(Gateway, import_module(MODULES[name or gateway_name()]))


if TYPE_CHECKING:
    from . import fake, stripe_gateway

    _SAME_SHAPE: tuple[Gateway, Gateway] = (fake, stripe_gateway)
