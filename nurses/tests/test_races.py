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
