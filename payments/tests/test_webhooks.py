"""/stripe/webhook/: real signatures from the test secret; once per event; any order; 503 when busy."""

import json
import threading

import pytest
from django.core import mail
from django.db import connection, transaction

from booking.checkout import checkout_start
from booking.models import VisitStatus
from payments.gateways import fake
from payments.models import Payment, PaymentStatus, WebhookEvent

from .helpers import intent_event, old_timestamp, post_event


@pytest.fixture
def payment(held, patient):
    return checkout_start(patient=patient, visit=held)


@pytest.fixture
def paid_at_gateway(payment):
    """The card went through at Stripe, but Stripe's event has not reached us yet."""
    fake.DELIVER_EVENTS = False
    fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    fake.DELIVER_EVENTS = True
    return payment


def test_a_signed_event_is_applied_once(client, paid_at_gateway, held, commit):
    event = intent_event("payment_intent.succeeded", paid_at_gateway.intent_id)

    with commit():
        response = post_event(client, event)

    assert response.status_code == 200
    paid_at_gateway.refresh_from_db()
    held.refresh_from_db()
    assert paid_at_gateway.status == PaymentStatus.SUCCEEDED
    assert held.status == VisitStatus.CONFIRMED
    recorded = WebhookEvent.objects.get(event_id=event["id"])
    assert recorded.type == "payment_intent.succeeded"
    assert recorded.processed_at is not None
    assert "requires_payment -> succeeded" in recorded.outcome


def test_a_replayed_event_answers_200_and_changes_nothing(client, paid_at_gateway, commit):
    event = intent_event("payment_intent.succeeded", paid_at_gateway.intent_id)
    with commit():
        first = post_event(client, event)
    with commit():
        again = post_event(client, event)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == {"detail": "duplicate"}
    assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1
    assert len([m for m in mail.outbox if "receipt" in m.subject]) == 1


@pytest.mark.parametrize(
    "how",
    [
        "forged with another secret",
        "missing",
        "stale (signed 10 minutes ago)",
        "dated 10 minutes in the future",
        "tampered body",
        "garbage header",
    ],
)
def test_a_bad_signature_is_refused_and_nothing_changes(client, paid_at_gateway, held, how):
    event = intent_event("payment_intent.succeeded", paid_at_gateway.intent_id)
    payload = json.dumps(event)
    if how == "forged with another secret":
        response = post_event(client, event, secret="whsec_someone_else")
    elif how == "missing":
        response = client.post("/stripe/webhook/", data=payload, content_type="application/json")
    elif how == "stale (signed 10 minutes ago)":
        response = post_event(client, event, timestamp=old_timestamp(600))
    elif how == "dated 10 minutes in the future":
        response = post_event(client, event, timestamp=old_timestamp(-600))
    elif how == "tampered body":
        header = fake.sign(payload)
        tampered = payload.replace('"succeeded"', '"succeeded" ', 1)
        response = client.post(
            "/stripe/webhook/", data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )
    else:
        response = post_event(client, event, header="t=abc,v1=")

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    paid_at_gateway.refresh_from_db()
    held.refresh_from_db()
    assert paid_at_gateway.status == PaymentStatus.REQUIRES_PAYMENT
    assert held.status == VisitStatus.HELD


def test_a_signed_body_that_is_not_an_event_is_refused(client, db):
    payload = json.dumps({"hello": "world"})
    response = client.post(
        "/stripe/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=fake.sign(payload)
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_only_post_is_accepted(client, db):
    assert client.get("/stripe/webhook/").status_code == 405


def test_events_we_do_not_use_are_recorded_and_ignored(client, db):
    event = fake.event_build("checkout.session.expired", {"id": "cs_test_1", "object": "checkout.session"})
    response = post_event(client, event)
    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == "ignored: event type not used"


def test_an_intent_that_is_not_ours_is_ignored(client, db):
    event = fake.event_build("payment_intent.succeeded", {"id": "pi_unknown", "object": "payment_intent"})
    assert post_event(client, event).status_code == 200
    assert WebhookEvent.objects.get().outcome == "ignored: not a payment of ours"
    assert not Payment.objects.exists()


def test_out_of_order_a_late_failure_never_undoes_a_success(client, payment, held, commit):
    """Decline, then success; Stripe delivers the success first and the old failure after."""
    fake.DELIVER_EVENTS = False
    fake.intent_pay(client_secret=payment.client_secret, card_number=fake.DECLINE_CARD)
    failed_event = intent_event("payment_intent.payment_failed", payment.intent_id)
    fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    succeeded_event = intent_event("payment_intent.succeeded", payment.intent_id)

    with commit():
        assert post_event(client, succeeded_event).status_code == 200
        assert post_event(client, failed_event).status_code == 200

    payment.refresh_from_db()
    held.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.failure_message == ""
    assert held.status == VisitStatus.CONFIRMED


def test_out_of_order_an_old_failure_arriving_after_success_is_read_as_success(client, payment, held, commit):
    """The handler reads the intent's current state: a late 'failed' event finds it succeeded."""
    fake.DELIVER_EVENTS = False
    fake.intent_pay(client_secret=payment.client_secret, card_number=fake.DECLINE_CARD)
    failed_event = intent_event("payment_intent.payment_failed", payment.intent_id)
    fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)

    with commit():
        assert post_event(client, failed_event).status_code == 200  # only the failure arrived so far

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


def test_processing_then_succeeded_in_reverse_order(client, payment, held, commit):
    fake.DELIVER_EVENTS = False
    fake.intent_set(payment.intent_id, status="processing")
    processing_event = intent_event("payment_intent.processing", payment.intent_id)
    fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    succeeded_event = intent_event("payment_intent.succeeded", payment.intent_id)
    # The processing event's copy says "processing" even though the intent has moved on.
    assert processing_event["data"]["object"]["status"] == "processing"

    with commit():
        post_event(client, succeeded_event)
        post_event(client, processing_event)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


def test_a_cancelled_intent_closes_the_open_payment(client, payment):
    fake.DELIVER_EVENTS = False
    fake.intent_cancel(intent_id=payment.intent_id, idempotency_key="k1")
    post_event(client, intent_event("payment_intent.canceled", payment.intent_id))
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_lock_not_granted_in_time_answers_503_and_stripe_can_retry(client, settings, paid_at_gateway, held):
    """Someone holds the payment's row; the webhook gives up after the lock timeout, keeps nothing."""
    settings.LOCK_TIMEOUT_MS = 200
    event = intent_event("payment_intent.succeeded", paid_at_gateway.intent_id)
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                Payment.objects.select_for_update().get(pk=paid_at_gateway.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    assert locked.wait(10)
    try:
        busy = post_event(client, event)
    finally:
        release.set()
        holder.join()

    assert busy.status_code == 503
    assert not WebhookEvent.objects.filter(event_id=event["id"]).exists()
    paid_at_gateway.refresh_from_db()
    assert paid_at_gateway.status == PaymentStatus.REQUIRES_PAYMENT

    retried = post_event(client, event)  # Stripe's retry
    assert retried.status_code == 200
    paid_at_gateway.refresh_from_db()
    held.refresh_from_db()
    assert paid_at_gateway.status == PaymentStatus.SUCCEEDED
    assert held.status == VisitStatus.CONFIRMED
