"""Signed webhook deliveries and card payments, as Stripe and a patient would make them."""

import json
import time

from django.test import Client

from payments.gateways import fake

SUCCESS = fake.SUCCESS_CARD
DECLINE = fake.DECLINE_CARD


def post_event(client, event, *, timestamp=None, secret=None, header=None):
    """POST an event to /stripe/webhook/ with a real Stripe-Signature made from the test secret."""
    payload = json.dumps(event)
    if header is None:
        header = fake.sign(payload, timestamp=timestamp, secret=secret)
    extra = {"HTTP_STRIPE_SIGNATURE": header} if header else {}
    return (client or Client()).post("/stripe/webhook/", data=payload, content_type="application/json", **extra)


def intent_event(event_type, intent_id):
    """An event carrying the intent as the fake gateway holds it now."""
    obj = fake._get(intent_id, "payment_intent").data
    return fake.event_build(event_type, fake._intent_public(obj))


def old_timestamp(seconds=600):
    return int(time.time()) - seconds
