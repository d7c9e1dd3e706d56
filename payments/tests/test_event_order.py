"""Payments converge whatever the order: every pair and triple of the gateway's events, in every
order (and each delivered twice), ends in the state of the in-order run.

The patient pays (succeeded), then the whole deposit is refunded in Stripe's dashboard
(refund.created, charge.refunded). Each event's handler reads the gateway's objects, never the
event's body, and the payment's status is what its amounts say, so any one event brings
everything up to date and the others change nothing.
"""

from itertools import permutations

import pytest

from booking.checkout import checkout_start
from booking.models import VisitStatus
from notifications.models import Message
from payments.gateways import fake
from payments.models import Payment, PaymentStatus, RefundStatus, WebhookEvent
from payments.services import payments_reconcile

from .helpers import intent_event, post_event

EVENTS = ("payment_intent.succeeded", "refund.created", "charge.refunded")
ORDERS = [order for size in (2, 3) for order in permutations(EVENTS, size)]


def final_state(payment, visit):
    payment.refresh_from_db()
    visit.refresh_from_db()
    return {
        "payment": (payment.status, payment.amount_refunded_cents),
        "visit": visit.status,
        "refunds": sorted((r.amount_cents, r.status) for r in payment.refunds.all()),
        "receipts": Message.objects.filter(template="payment_receipt").count(),
    }


def in_order_state(amount):
    return {
        "payment": (PaymentStatus.REFUNDED, amount),
        "visit": VisitStatus.CONFIRMED,
        "refunds": [(amount, RefundStatus.SUCCEEDED)],
        "receipts": 1,
    }


@pytest.fixture
def payment(held, patient):
    return checkout_start(patient=patient, visit=held)


@pytest.fixture
def events(payment):
    """The card went through and the whole amount was refunded at the gateway; no event arrived yet."""
    fake.DELIVER_EVENTS = False
    fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    refund = fake.refund_create(
        intent_id=payment.intent_id, amount_cents=payment.amount_cents, idempotency_key="dash-1", metadata={}
    )
    fake.DELIVER_EVENTS = True
    charge = fake._get(payment.intent_id, "payment_intent").data["latest_charge"]
    refund_obj = fake._get(refund.id, "refund").data
    return {
        "payment_intent.succeeded": lambda: intent_event("payment_intent.succeeded", payment.intent_id),
        "refund.created": lambda: fake.event_build("refund.created", dict(refund_obj)),
        "charge.refunded": lambda: fake.event_build(
            "charge.refunded", {**charge, "payment_intent": payment.intent_id, "refunded": True}
        ),
    }


def test_in_order_the_payment_ends_refunded_with_one_receipt(client, payment, held, commit):
    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    with commit():
        fake.refund_create(
            intent_id=payment.intent_id, amount_cents=payment.amount_cents, idempotency_key="dash-1", metadata={}
        )

    assert final_state(payment, held) == in_order_state(payment.amount_cents)


@pytest.mark.parametrize("order", ORDERS, ids=["+".join(o) for o in ORDERS])
def test_any_order_ends_where_the_in_order_run_does(client, payment, held, events, commit, order):
    built = [events[name]() for name in order]
    for event in built + built:  # each one redelivered after the others
        with commit():
            assert post_event(client, event).status_code == 200

    assert final_state(payment, held) == in_order_state(payment.amount_cents)
    assert WebhookEvent.objects.count() == len(order)


def test_a_refund_event_the_gateway_does_not_know_changes_nothing(client, payment, held, events, commit):
    forged = fake.event_build(
        "refund.created",
        {"id": "re_unknown", "object": "refund", "amount": payment.amount_cents, "status": "succeeded",
         "payment_intent": payment.intent_id, "metadata": {}},
    )  # fmt: skip
    with commit():
        response = post_event(client, forged)

    assert response.status_code == 200
    assert "does not know" in WebhookEvent.objects.get().outcome
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded_cents, payment.refunds.count()) == (
        PaymentStatus.REQUIRES_PAYMENT,
        0,
        0,
    )


def test_reconciliation_repairs_a_status_that_drifted_from_the_amounts(client, payment, held, commit):
    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    with commit():
        fake.refund_create(
            intent_id=payment.intent_id, amount_cents=payment.amount_cents, idempotency_key="dash-1", metadata={}
        )
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.SUCCEEDED)  # drift, however it came

    with commit():
        report = payments_reconcile()

    assert any("-> refunded" in line for line in report.changes), report.changes
    assert final_state(payment, held) == in_order_state(payment.amount_cents)
