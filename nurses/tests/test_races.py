"""Two taps at once on a phone with a bad connection (real threads on PostgreSQL): one effect."""

import pytest

from booking.models import VisitStatus
from concierge.testing import race
from notifications.models import Message
from nurses import services
from nurses.models import ChartEvent, VisitChart, VitalsReading

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_on_my_way_taps_at_once_make_one_chart_and_one_text(visit, nurse, sms_outbox):
    outcomes = race(*[lambda: services.visit_on_my_way(visit=visit, nurse=nurse)] * 2)

    assert [o.error for o in outcomes] == [None, None]
    assert {o.value.pk for o in outcomes} == {VisitChart.objects.get().pk}
    assert Message.objects.filter(visit=visit, template="on_my_way").count() == 1
    assert ChartEvent.objects.filter(kind="on_my_way").count() == 1
    visit.refresh_from_db()
    assert visit.status == VisitStatus.EN_ROUTE


def test_two_check_ins_at_once_make_one_arrival_and_one_baseline(visit, nurse):
    def check_in():
        return services.visit_check_in(
            visit=visit,
            nurse=nurse,
            adult_present=True,
            prep_followed=True,
            baseline=services.Vitals(None, 124, 78, 72, 98, 14),
        )

    outcomes = race(check_in, check_in)

    assert [o.error for o in outcomes] == [None, None]
    assert VitalsReading.objects.count() == 1 and ChartEvent.objects.filter(kind="check_in").count() == 1
    visit.refresh_from_db()
    assert visit.status == VisitStatus.IN_PROGRESS


def test_a_warning_sign_racing_the_check_in_never_lets_the_dose_through(visit, nurse, patient, clock):
    """Pat answers PHQ-9 item 9 at the very moment Nia checks in: whichever wins, no dose follows."""
    from decimal import Decimal

    from patients.tests.factories import screening

    from .conftest import ny

    clock.move_to(ny(10))

    def check_in():
        return services.visit_check_in(
            visit=visit,
            nurse=nurse,
            adult_present=True,
            prep_followed=True,
            baseline=services.Vitals(None, 124, 78, 72, 98, 14),
        )

    outcomes = race(check_in, lambda: screening(patient, "phq9", answers=[0, 0, 0, 0, 0, 0, 0, 0, 2]))

    assert outcomes[1].error is None  # the answer is always kept (with its alert)
    visit.refresh_from_db()
    if outcomes[0].error is None:  # checked in first: under way, not held, but nothing may start
        assert visit.status == VisitStatus.IN_PROGRESS
    else:  # held first: the check-in was refused with the reason
        assert isinstance(outcomes[0].error, services.InfusionNotAllowed)
        assert visit.status == VisitStatus.ON_HOLD
    with pytest.raises((services.InfusionNotAllowed, services.WrongStep)):
        services.dose_record(
            visit=visit,
            nurse=nurse,
            weight=Decimal("80"),
            weight_unit="kg",
            confirmed_dose_mg=Decimal("40.0"),
            lot_number="KT-1",
            volume_ml=Decimal("100"),
            started_at=ny(10),
        )
