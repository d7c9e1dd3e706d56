"""Races with real threads on PostgreSQL: duplicate webhooks, the return page, expiring holds."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from booking import services as booking
from booking.checkout import checkout_start
from booking.errors import SlotTaken
from booking.models import BLOCKING_STATUSES, Visit, VisitStatus
from concierge.opaque import encode as oid
from notifications.models import Message
from payments.gateways import fake
from payments.models import Payment, PaymentStatus, Refund, RefundReason, WebhookEvent

from .conftest import TUESDAY, ny
from .helpers import intent_event, post_event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(*jobs):
    """Start every job at the same moment, each in its own thread with its own connection."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def runner(index, job):
        try:
            barrier.wait(10)
            results[index] = job()
        except Exception as exc:  # reported to the test below
            errors.append(exc)
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


def paid_at_gateway(payment):
    fake.DELIVER_EVENTS = False
    fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    fake.DELIVER_EVENTS = True


def receipts():
    return [m for m in mail.outbox if "receipt" in m.subject]


def test_fifty_copies_of_one_event_at_the_same_moment_have_one_effect(held, patient):
    payment = checkout_start(patient=patient, visit=held)
    paid_at_gateway(payment)
    event = intent_event("payment_intent.succeeded", payment.intent_id)

    results, errors = run_together(*[lambda: post_event(Client(), event).status_code for _ in range(50)])

    assert errors == []
    assert set(results) <= {200, 503}  # 503 only if a copy waited longer than the lock timeout
    assert results.count(200) >= 1
    assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1
    payment.refresh_from_db()
    held.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert held.status == VisitStatus.CONFIRMED
    assert len(receipts()) == 1
    assert (
        Message.objects.filter(visit=held, template="confirmation").count()
        == Message.objects.filter(visit=held, template="confirmation").values("channel").distinct().count()
    )


@pytest.mark.parametrize("round_", range(3))
def test_the_return_page_and_the_webhook_racing_confirm_once(held, patient, round_):
    payment = checkout_start(patient=patient, visit=held)
    paid_at_gateway(payment)
    event = intent_event("payment_intent.succeeded", payment.intent_id)

    def return_page():
        browser = Client()
        browser.force_login(patient)
        return browser.get(f"/pay/return/{oid(payment.pk)}/?payment_intent={payment.intent_id}").status_code

    results, errors = run_together(return_page, lambda: post_event(Client(), event).status_code)

    assert errors == []
    assert results == [302, 200]
    payment.refresh_from_db()
    held.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert held.status == VisitStatus.CONFIRMED
    assert len(receipts()) == 1
    assert Message.objects.filter(visit=held, template="confirmation", channel="email").count() == 1


def test_a_success_racing_the_hold_expiry_keeps_the_visit(held, patient, clock):
    payment = checkout_start(patient=patient, visit=held)
    paid_at_gateway(payment)
    event = intent_event("payment_intent.succeeded", payment.intent_id)
    clock.shift(timedelta(minutes=11))  # the hold ran out a minute ago; the sweep is running now

    results, errors = run_together(booking.visit_holds_expire, lambda: post_event(Client(), event).status_code)
    assert results[1] == 200

    assert errors == []
    held.refresh_from_db()
    payment.refresh_from_db()
    assert held.status == VisitStatus.CONFIRMED  # the time was still free: taken back
    assert payment.status == PaymentStatus.SUCCEEDED
    assert not Refund.objects.exists()


@pytest.mark.parametrize("round_", range(3))
def test_a_late_success_racing_another_patient_for_the_time_never_double_books(
    held, patient, cleared_too, infusion, clock, round_
):
    payment = checkout_start(patient=patient, visit=held)
    paid_at_gateway(payment)
    event = intent_event("payment_intent.succeeded", payment.intent_id)
    clock.shift(timedelta(minutes=11))
    booking.visit_holds_expire()

    def rival_books():
        try:
            return booking.visit_hold(patient=cleared_too, service=infusion, starts_at=ny(TUESDAY, 10))
        except SlotTaken:
            return "taken"

    results, errors = run_together(rival_books, lambda: post_event(Client(), event).status_code)

    assert errors == []
    held.refresh_from_db()
    payment.refresh_from_db()
    blocking = Visit.objects.filter(
        provider_id=held.provider_id, starts_at=ny(TUESDAY, 10), status__in=BLOCKING_STATUSES
    )
    assert blocking.count() == 1  # one visit at that time for the nurse, whoever won
    if held.status == VisitStatus.CONFIRMED:
        assert results[0] == "taken"
        assert not Refund.objects.exists()
        assert payment.status == PaymentStatus.SUCCEEDED
    else:
        assert isinstance(results[0], Visit)
        refund = Refund.objects.get()  # no money kept without a visit
        assert (refund.reason_code, refund.amount_cents) == (RefundReason.UNFULFILLED, 10000)
        assert payment.status == PaymentStatus.REFUNDED
    assert Payment.objects.count() == 1
