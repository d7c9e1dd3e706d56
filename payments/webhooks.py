"""The gateway's webhook: verify, then hand the event to the service that handles it once.

`webhook_receive` is what `/stripe/webhook/` calls with the raw body and the Stripe-Signature
header, and what the fake gateway calls with the events it signs: one code path for both.
"""

import json
import logging
import time
from dataclasses import dataclass

import stripe
from django.conf import settings

from concierge.errors import TryAgainLater

from . import services
from .gateways import GatewayUnavailable
from .gateways.types import StripeObject

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookResult:
    status: int  # the HTTP status to answer: 200 done (or already done), 400 refused, 503 retry later
    detail: str


def _event_from(payload: bytes | str) -> StripeObject:
    event = json.loads(payload)
    if not isinstance(event, dict):
        raise ValueError("not an object")
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise ValueError("no id or type")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise ValueError("no data.object")
    return event


def _signed_in_the_future(sig_header: str | None) -> bool:
    for part in (sig_header or "").split(","):
        key, _sep, value = part.partition("=")
        if key.strip() == "t" and value.strip().isdigit():
            return int(value) > time.time() + settings.STRIPE_WEBHOOK_CLOCK_SKEW_SECONDS
    return False


def webhook_receive(*, payload: bytes | str, sig_header: str | None) -> WebhookResult:
    """Verify the signature (forged, missing, older than the tolerance or dated in the future: 400, nothing changes),
    then handle the event once. A lock not granted in time, or the gateway not answering our
    re-read, gives 503 so that Stripe delivers the event again later."""
    try:
        stripe.WebhookSignature.verify_header(
            payload, sig_header, settings.STRIPE_WEBHOOK_SECRET, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
        )
        if _signed_in_the_future(sig_header):
            # Stripe's check refuses only the old; a signature from the future is a replay being
            # prepared (or a clock gone wrong): refused beyond a small allowance for clock skew.
            raise stripe.SignatureVerificationError("timestamp in the future", sig_header)
        event = _event_from(payload)
    except stripe.SignatureVerificationError:
        logger.warning("payments webhook: signature refused")
        return WebhookResult(400, "invalid signature")
    except ValueError:  # not JSON, not UTF-8, not an event
        logger.warning("payments webhook: body is not a Stripe event")
        return WebhookResult(400, "invalid payload")
    try:
        outcome = services.webhook_event_handle(event=event)
    except (TryAgainLater, GatewayUnavailable) as exc:
        logger.info("payments webhook: %s %s deferred (%s)", event["type"], event["id"], type(exc).__name__)
        return WebhookResult(503, "busy, retry later")
    logger.info("payments webhook: %s %s: %s", event["type"], event["id"], outcome)
    return WebhookResult(200, outcome)
