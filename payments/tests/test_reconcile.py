"""Reconciliation: what a missed webhook left behind is found and fixed, and printed."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from booking.checkout import checkout_start, checkouts_release_abandoned
from booking.models import VisitStatus
from concierge.roles import roles_sync
from payments import services, tasks
from payments.gateways import fake
from payments.models import FakeGatewayObject, Payment, PaymentStatus, Refund, RefundReason, RefundStatus


def reconcile(*args):
    out = StringIO()
    call_command("reconcile_payments", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def payment(held, patient):
    return checkout_start(patient=patient, visit=held)


def test_a_payment_whose_webhook_never_came_is_completed_and_printed(payment, held, commit):
    fake.DELIVER_EVENTS = False
    fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)

    with commit():
        output = reconcile()

    payment.refresh_from_db()
    held.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert held.status == VisitStatus.CONFIRMED
    assert f"changed: payment {payment.pk}: requires_payment -> succeeded (reconcile); confirmed" in output
    assert "1 payments checked, 1 changes, 0 problems." in output

    with commit():
        assert "1 payments checked, 0 changes" in reconcile()  # a second run finds nothing to do


def test_a_refund_changed_at_the_gateway_without_an_event_is_updated(payment, staff_user, commit):
    roles_sync()
    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
        refund = services.refund_create(payment=payment, amount_cents=10000, reason="Phone cancel", actor=staff_user)
    refund.refresh_from_db()
    fake.DELIVER_EVENTS = False
    fake.refund_set_status(refund.refund_id, "failed", failure_reason="lost_or_stolen_card")

    with commit():
        output = reconcile("--days", "7")

    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert payment.status == PaymentStatus.SUCCEEDED
    assert f"refund {refund.pk}: succeeded -> failed (reconcile)" in output


def test_a_refund_whose_task_was_lost_is_sent_once(payment, held, clock, commit):
    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    payment.refresh_from_db()
    # Written, but the broker lost the task that sends it (no commit callbacks run here).
    refund = Refund.objects.create(
        payment=payment, visit=held, amount_cents=10000, reason_code=RefundReason.CANCELLATION, reason="policy"
    )
    clock.shift(timedelta(minutes=10))

    with commit():
        output = reconcile()
    with commit():
        reconcile()

    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.refund_id
    assert FakeGatewayObject.objects.filter(kind="refund").count() == 1
    assert f"refund {refund.pk}: pending -> succeeded" in output


def test_payments_left_open_after_the_hold_ran_out_are_cancelled(payment, held, clock, commit):
    clock.shift(timedelta(minutes=10 + 16))  # hold (10 min) and the grace (15 min) are over

    with commit():
        output = "\n".join(checkouts_release_abandoned())  # booking's clock, every five minutes

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED
    assert fake.intent_retrieve(intent_id=payment.intent_id).status == "canceled"
    assert f"payment {payment.pk}: requires_payment -> cancelled (cancel)" in output


def test_a_payment_that_never_reached_the_gateway_is_closed(held, patient, clock, commit):
    Payment.objects.create(patient=patient, visit=held, amount_cents=10000, gateway="fake")
    clock.shift(timedelta(hours=2))
    with commit():
        output = reconcile()
    assert Payment.objects.get().status == PaymentStatus.CANCELLED
    assert "never reached the gateway" in output


def test_the_daily_task_runs_the_same_reconciliation(payment, commit):
    fake.DELIVER_EVENTS = False
    fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    with commit():
        result = tasks.payments_reconcile.delay(days=3).get()
    assert result == {"checked": 1, "changed": 1, "problems": 0}
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


def test_days_must_be_positive(db):
    with pytest.raises(CommandError):
        reconcile("--days", "0")


def test_the_task_is_scheduled_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["payments-reconcile-daily"]
    assert entry["task"] == "payments.tasks.payments_reconcile"
    assert tasks.payments_reconcile.name == entry["task"]
