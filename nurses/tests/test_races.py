"""Two taps at once on a phone with a bad connection (real threads on PostgreSQL): one effect."""

import threading

import pytest
from django.db import connection

from booking.models import VisitStatus
from notifications.models import Message
from nurses import services
from nurses.models import ChartEvent, VisitChart, VitalsReading

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(workers):
    barrier = threading.Barrier(len(workers))
    results, errors = [], []

    def run(work):
        try:
            barrier.wait()
            results.append(work())
        except Exception as error:  # collected and asserted by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


def test_two_on_my_way_taps_at_once_make_one_chart_and_one_text(visit, nurse, sms_outbox):
    results, errors = race([lambda: services.visit_on_my_way(visit=visit, nurse=nurse)] * 2)

    assert errors == []
    assert {chart.pk for chart in results} == {VisitChart.objects.get().pk}
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

    _results, errors = race([check_in] * 2)

    assert errors == []
    assert VitalsReading.objects.count() == 1 and ChartEvent.objects.filter(kind="check_in").count() == 1
    visit.refresh_from_db()
    assert visit.status == VisitStatus.IN_PROGRESS
