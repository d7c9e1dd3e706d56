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

from django.conf import settings

from .types import GatewayError, GatewayUnavailable, IntentResult, RefundResult  # noqa: F401

MODULES = {"stripe": "payments.gateways.stripe_gateway", "fake": "payments.gateways.fake"}


def gateway_name():
    name = settings.PAYMENT_GATEWAY
    if name not in MODULES:
        raise ValueError(f"PAYMENT_GATEWAY must be one of {sorted(MODULES)}, not {name!r}")
    return name


def gateway_for(name=None):
    """The gateway module by name; by default the configured one. A payment keeps using the one it began with."""
    return import_module(MODULES[name or gateway_name()])
