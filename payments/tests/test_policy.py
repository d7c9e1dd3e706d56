"""The cancellation policy, row by row, and the refund booking's cancellation triggers."""

from datetime import UTC, datetime, timedelta

import pytest

from booking import policy
from booking import services as booking
from booking.checkout import checkout_start
from booking.models import CancelledBy, Visit, VisitStatus
from booking.services import visit_refund_by_policy
from concierge.errors import InvalidState
from payments.gateways import fake
from payments.models import FakeGatewayObject, PaymentStatus, Refund, RefundReason, RefundStatus

STARTS = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def visit(status, by="", hours_before=None):
    cancelled_at = STARTS - timedelta(hours=hours_before) if hours_before is not None else None
    return Visit(status=status, cancelled_by=by, cancelled_at=cancelled_at, starts_at=STARTS)


@pytest.mark.parametrize(
    ("visit", "rule", "refunded", "kept"),
    [
        (visit("cancelled", CancelledBy.PATIENT, 72), policy.Rule.PATIENT_EARLY, 10000, 0),
        (visit("cancelled", CancelledBy.PATIENT, 24), policy.Rule.PATIENT_EARLY, 10000, 0),  # exactly 24 h
        (visit("cancelled", CancelledBy.PATIENT, 23.99), policy.Rule.PATIENT_LATE, 5000, 5000),
        (visit("cancelled", CancelledBy.PATIENT, 1), policy.Rule.PATIENT_LATE, 5000, 5000),
        (visit("cancelled", CancelledBy.STAFF, 1), policy.Rule.STAFF_OR_CLINIC, 10000, 0),
        (visit("cancelled", CancelledBy.CLINIC, 1), policy.Rule.STAFF_OR_CLINIC, 10000, 0),
        (visit("no_show"), policy.Rule.NO_SHOW, 0, 10000),
    ],
    ids=["patient 72h", "patient 24h", "patient 23h59", "patient 1h", "staff", "clinic", "no-show"],
)
def test_every_row_of_the_policy_table(visit, rule, refunded, kept, settings):
    settings.PAYMENT_LATE_CANCEL_FEE_CENTS = 5000
    decision = policy.cancellation_refund(visit=visit, paid_cents=10000)
    assert (decision.rule, decision.refund_cents, decision.kept_cents) == (rule, refunded, kept)


def test_the_late_fee_never_exceeds_what_was_paid(settings):
    settings.PAYMENT_LATE_CANCEL_FEE_CENTS = 15000
    decision = policy.cancellation_refund(visit=visit("cancelled", CancelledBy.PATIENT, 2), paid_cents=10000)
    assert (decision.refund_cents, decision.kept_cents) == (0, 10000)


def test_a_visit_that_is_not_cancelled_is_not_refunded_by_policy():
    with pytest.raises(InvalidState):
        policy.cancellation_refund(visit=visit("confirmed"), paid_cents=10000)


# --- through booking's cancellation -----------------------------------------------------------


@pytest.fixture
def paid(held, patient, commit):
    payment = checkout_start(patient=patient, visit=held)
    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    held.refresh_from_db()
    assert held.status == VisitStatus.CONFIRMED
    payment.refresh_from_db()
    return payment


def cancel(visit, by, commit, actor=None):
    with commit():
        cancelled = booking.visit_cancel(visit=visit, by=by, actor=actor)
        return visit_refund_by_policy(visit=cancelled)


def test_patient_cancelling_25_hours_ahead_gets_the_whole_deposit_back(paid, held, patient, commit):
    refund = cancel(held, CancelledBy.PATIENT, commit, actor=patient)

    refund.refresh_from_db()
    paid.refresh_from_db()
    assert refund.reason_code == RefundReason.CANCELLATION
    assert refund.amount_cents == 10000
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.visit == held
    assert paid.status == PaymentStatus.REFUNDED
    assert paid.amount_refunded_cents == 10000
    gateway_refund = FakeGatewayObject.objects.get(kind="refund")
    assert gateway_refund.data["amount"] == 10000
    assert gateway_refund.idempotency_key == refund.idempotency_key


def test_patient_cancelling_late_keeps_the_fee(paid, held, patient, clock, commit, settings):
    settings.BOOKING_CHANGE_CUTOFF_HOURS = 12  # online changes allowed closer in than the refund window
    settings.PAYMENT_LATE_CANCEL_FEE_CENTS = 5000
    clock.shift(timedelta(hours=2))  # 23 hours before the visit

    refund = cancel(held, CancelledBy.PATIENT, commit, actor=patient)

    paid.refresh_from_db()
    assert refund.amount_cents == 5000
    assert paid.status == PaymentStatus.PARTIALLY_REFUNDED
    assert paid.amount_refunded_cents == 5000
    assert paid.refundable_cents == 5000


@pytest.mark.parametrize("by", [CancelledBy.STAFF, CancelledBy.CLINIC])
def test_staff_or_clinic_cancelling_refunds_everything_even_late(paid, held, clock, commit, by):
    clock.shift(timedelta(hours=20))  # 5 hours before the visit

    refund = cancel(held, by, commit)

    paid.refresh_from_db()
    assert refund.amount_cents == 10000
    assert paid.status == PaymentStatus.REFUNDED


def test_a_no_show_refunds_nothing(paid, held, commit):
    Visit.objects.filter(pk=held.pk).update(status=VisitStatus.NO_SHOW)
    held.refresh_from_db()
    with commit():
        assert visit_refund_by_policy(visit=held) is None
    assert not Refund.objects.exists()
    paid.refresh_from_db()
    assert paid.status == PaymentStatus.SUCCEEDED


def test_refunding_a_cancellation_twice_refunds_once(paid, held, patient, commit):
    first = cancel(held, CancelledBy.PATIENT, commit, actor=patient)
    with commit():
        again = visit_refund_by_policy(visit=held)

    assert again.pk == first.pk
    assert Refund.objects.count() == 1
    assert FakeGatewayObject.objects.filter(kind="refund").count() == 1


def test_cancelling_an_unpaid_hold_cancels_its_payment_so_it_cannot_be_paid(held, patient, commit):
    payment = checkout_start(patient=patient, visit=held)
    assert cancel(held, CancelledBy.PATIENT, commit, actor=patient) is None

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED
    assert fake.intent_retrieve(intent_id=payment.intent_id).status == "canceled"
    assert not Refund.objects.exists()


def test_a_series_visit_cancelled_refunds_its_own_share(cleared, infusion, patient, commit):
    series = booking.series_hold(
        patient=cleared,
        service=infusion,
        visits=[(STARTS - timedelta(days=7), None), (STARTS - timedelta(days=5), None)],
    )
    payment = checkout_start(patient=patient, series=series)
    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    second = series.visits.order_by("starts_at").last()

    refund = cancel(second, CancelledBy.STAFF, commit)

    payment.refresh_from_db()
    assert refund.amount_cents == 10000
    assert payment.amount_cents == 20000
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
