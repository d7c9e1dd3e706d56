"""Paying for a held visit: start, decline, retry, succeed; late payments; receipts."""

from datetime import timedelta

import pytest
from django.core import mail

from booking import services as booking
from booking.checkout import checkout_start
from booking.errors import HoldExpired
from booking.models import CancelledBy, VisitStatus
from booking.services import visit_refund_by_policy
from concierge.errors import NotAllowed
from notifications.content import forbidden_words_in
from notifications.models import Message
from payments import services
from payments.errors import AlreadyPaid, PaymentUnavailable
from payments.gateways import GatewayUnavailable, fake
from payments.models import FakeGatewayObject, Payment, PaymentStatus, Refund, RefundReason, RefundStatus

from .conftest import TUESDAY, ny
from .helpers import DECLINE, SUCCESS


def test_start_creates_one_payment_and_one_intent_however_often_it_is_called(held, patient):
    first = checkout_start(patient=patient, visit=held)
    again = checkout_start(patient=patient, visit=held)

    assert again.pk == first.pk
    assert first.amount_cents == 10000  # the deposit, decided at hold
    assert first.currency == "usd"
    assert first.status == PaymentStatus.REQUIRES_PAYMENT
    assert first.intent_id.startswith("pi_fake_")
    assert first.allocations.get().visit == held
    assert FakeGatewayObject.objects.filter(kind="payment_intent").count() == 1
    intent = fake.intent_retrieve(intent_id=first.intent_id)
    assert intent.amount_cents == 10000
    assert intent.metadata == {"payment_id": str(first.pk)}  # our row id, nothing about the patient


def test_a_crash_after_the_gateway_answered_reuses_the_same_idempotency_key(held, patient, monkeypatch):
    """The intent was created at the gateway but our process died before recording it."""
    real_create = fake.intent_create
    keys = []

    def create_then_crash(**kwargs):
        keys.append(kwargs["idempotency_key"])
        real_create(**kwargs)
        raise GatewayUnavailable()

    monkeypatch.setattr(fake, "intent_create", create_then_crash)
    with pytest.raises(PaymentUnavailable):
        checkout_start(patient=patient, visit=held)
    payment = Payment.objects.get()
    assert payment.intent_id == ""

    monkeypatch.setattr(fake, "intent_create", lambda **kw: keys.append(kw["idempotency_key"]) or real_create(**kw))
    payment = checkout_start(patient=patient, visit=held)

    assert keys == [payment.idempotency_key, payment.idempotency_key]
    assert FakeGatewayObject.objects.filter(kind="payment_intent").count() == 1  # one intent, not two
    assert payment.intent_id == FakeGatewayObject.objects.get(kind="payment_intent").id


def test_declined_then_paid_confirms_the_visit_and_sends_one_receipt(held, patient, commit):
    payment = checkout_start(patient=patient, visit=held)

    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=DECLINE)
    payment.refresh_from_db()
    held.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert payment.failure_message == "Your card was declined."
    assert held.status == VisitStatus.HELD
    assert mail.outbox == []

    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=SUCCESS)
    payment.refresh_from_db()
    held.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.succeeded_at is not None
    assert payment.charge_id.startswith("ch_fake_")
    assert held.status == VisitStatus.CONFIRMED
    receipts = [m for m in mail.outbox if "receipt" in m.subject]
    assert len(receipts) == 1
    receipt = receipts[0]
    assert receipt.to == [patient.email]
    assert "$100.00" in receipt.body
    assert "Home visit" in receipt.body
    assert "Tue Mar 3, 10:00 AM EST" in receipt.body
    assert "$350.00" in receipt.body  # the rest of the price, not charged now
    assert not forbidden_words_in(receipt.subject)
    assert not forbidden_words_in(receipt.body)
    assert not forbidden_words_in(receipt.alternatives[0][0])


def test_the_same_success_seen_twice_confirms_once(held, patient, commit):
    payment = checkout_start(patient=patient, visit=held)
    with commit():
        intent = fake.intent_pay(client_secret=payment.client_secret, card_number=SUCCESS)
    with commit():
        line = services.payment_sync(payment=payment, intent=intent, source="test")

    assert line == ""
    assert len([m for m in mail.outbox if "receipt" in m.subject]) == 1


def test_a_paid_visit_cannot_be_paid_again(held, patient, commit):
    payment = checkout_start(patient=patient, visit=held)
    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=SUCCESS)

    with pytest.raises(AlreadyPaid) as caught:
        checkout_start(patient=patient, visit=held)
    assert caught.value.extra["payment_id"] == payment.pk
    assert Payment.objects.count() == 1


def test_nobody_pays_for_someone_elses_visit(held, other_patient):
    with pytest.raises(NotAllowed):
        checkout_start(patient=other_patient, visit=held)
    assert not Payment.objects.exists()


def test_an_expired_hold_cannot_start_a_payment(held, patient, clock):
    clock.shift(timedelta(minutes=11))
    with pytest.raises(HoldExpired):
        checkout_start(patient=patient, visit=held)


def test_paid_after_the_hold_ran_out_takes_the_time_back_when_it_is_still_free(held, patient, clock, commit):
    payment = checkout_start(patient=patient, visit=held)
    clock.shift(timedelta(minutes=11))
    assert booking.visit_holds_expire() == 1

    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=SUCCESS)

    held.refresh_from_db()
    payment.refresh_from_db()
    assert held.status == VisitStatus.CONFIRMED
    assert payment.status == PaymentStatus.SUCCEEDED
    assert not Refund.objects.exists()


def test_paid_after_the_time_was_taken_is_refunded_and_everyone_is_told(
    held, patient, cleared_too, infusion, clock, commit
):
    payment = checkout_start(patient=patient, visit=held)
    clock.shift(timedelta(minutes=11))
    booking.visit_holds_expire()
    rival = booking.visit_hold(patient=cleared_too, service=infusion, starts_at=ny(TUESDAY, 10))
    assert rival.provider_id == held.provider_id

    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=SUCCESS)

    held.refresh_from_db()
    payment.refresh_from_db()
    refund = Refund.objects.get()
    assert held.status == VisitStatus.EXPIRED  # never double-booked
    assert refund.reason_code == RefundReason.UNFULFILLED
    assert refund.amount_cents == 10000
    assert refund.status == RefundStatus.SUCCEEDED  # sent after commit, confirmed by the gateway's event
    assert refund.refund_id.startswith("re_fake_")
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.amount_refunded_cents == 10000
    notice = [m for m in mail.outbox if m.to == [patient.email]]
    assert len(notice) == 1
    assert "refunded $100.00" in notice[0].body
    assert not forbidden_words_in(notice[0].subject + notice[0].body)
    alert = Message.objects.get(template="staff_alert")
    assert alert.to_address == "care@conciergemd.example"
    assert payment.reference in alert.context["body"]


def test_a_visit_cancelled_while_the_patient_paid_is_refunded(held, patient, commit):
    payment = checkout_start(patient=patient, visit=held)
    intent_before = fake.intent_retrieve(intent_id=payment.intent_id)
    fake.DELIVER_EVENTS = False
    with commit():
        booking.visit_cancel(visit=held, by=CancelledBy.PATIENT, actor=patient)
        visit_refund_by_policy(visit=held)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED
    assert fake.intent_retrieve(intent_id=payment.intent_id).status == "canceled"
    assert intent_before.status == "requires_payment_method"

    # The card went through at the same moment anyway (the cancel lost the race at the gateway).
    fake.intent_set(payment.intent_id, status="requires_payment_method")
    fake.DELIVER_EVENTS = True
    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=SUCCESS)
    payment.refresh_from_db()
    held.refresh_from_db()
    assert held.status == VisitStatus.CANCELLED
    assert payment.status == PaymentStatus.REFUNDED
    assert Refund.objects.get().reason_code == RefundReason.UNFULFILLED


def test_a_series_is_paid_together_and_confirmed_together(cleared, infusion, patient, commit):
    series = booking.series_hold(
        patient=cleared,
        service=infusion,
        visits=[(ny(TUESDAY, 10), None), (ny(TUESDAY + timedelta(days=2), 10), None)],
    )
    payment = checkout_start(patient=patient, series=series)
    assert payment.amount_cents == 20000
    assert payment.allocations.count() == 2

    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=SUCCESS)

    assert set(series.visits.values_list("status", flat=True)) == {VisitStatus.CONFIRMED}
    receipt = next(m for m in mail.outbox if "receipt" in m.subject)
    assert receipt.body.count("Home visit") == 2
