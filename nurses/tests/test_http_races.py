"""Two taps at once over real HTTP (the live server: each request in its own thread and
connection): one effect, both taps land on the visit's page, never a 500."""

import pytest
from django.urls import reverse

from booking.models import VisitStatus
from concierge.testing import HttpBrowser, http_race, page_text
from notifications.models import Message
from nurses.models import ChartEvent, DischargeChecklist, DoseRecord, VisitChart, VitalsReading

from .conftest import ny
from .test_views import DOSE, VITALS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def url(name, visit):
    return reverse(f"nurses:{name}", args=[visit.pk])


def twice(browser, path, data):
    """The same form sent from two tabs at the same moment (a double tap on a bad connection)."""
    tabs = [browser.tab(), browser.tab()]
    return http_race(*[lambda t=t: t.post(path, data) for t in tabs])


def landed_on_the_visit(responses, visit):
    assert [r.status_code for r in responses] == [200, 200], [page_text(r)[:300] for r in responses]
    assert all(r.url.endswith(url("visit", visit)) for r in responses), [r.url for r in responses]


@pytest.fixture
def nia_browser(live_server, nurse, nia):
    return HttpBrowser(live_server.url, nurse)


def test_on_my_way_tapped_twice_at_once_texts_the_patient_once(nia_browser, visit):
    responses = twice(nia_browser, url("on_my_way", visit), {})

    landed_on_the_visit(responses, visit)
    assert Message.objects.filter(visit=visit, template="on_my_way", channel="sms").count() == 1
    assert ChartEvent.objects.filter(kind="on_my_way").count() == 1
    visit.refresh_from_db()
    assert visit.status == VisitStatus.EN_ROUTE


def test_check_in_tapped_twice_at_once_records_one_arrival(nia_browser, visit):
    responses = twice(nia_browser, url("check_in", visit), {"adult_present": "on", "prep_followed": "on", **VITALS})

    landed_on_the_visit(responses, visit)
    assert VitalsReading.objects.count() == 1
    assert ChartEvent.objects.filter(kind="check_in").count() == 1
    visit.refresh_from_db()
    assert visit.status == VisitStatus.IN_PROGRESS


def checked_in(browser, visit):
    response = browser.post(url("check_in", visit), {"adult_present": "on", "prep_followed": "on", **VITALS})
    assert response.url.endswith(url("visit", visit)), page_text(response)[:300]


def test_the_dose_recorded_twice_at_once_is_one_dose(nia_browser, visit, clock):
    checked_in(nia_browser, visit)
    clock.move_to(ny(9, 30))

    responses = twice(nia_browser, url("dose", visit), {**DOSE, "started_at": "09:10"})

    landed_on_the_visit(responses, visit)
    assert DoseRecord.objects.count() == 1
    assert "Dose recorded." in page_text(responses[0]) + page_text(responses[1])


def test_check_out_twice_at_once_signs_the_chart_once(nia_browser, visit, nurse, clock):
    checked_in(nia_browser, visit)
    clock.move_to(ny(10, 30))
    nia_browser.post(url("dose", visit), {**DOSE, "started_at": "09:10", "stopped_at": "09:50"})
    for taken_at in ("09:20", "09:35", "09:50", "10:25"):
        nia_browser.post(url("vitals", visit), {"taken_at": taken_at, **VITALS, "form_token": taken_at})
    checklist = dict.fromkeys(
        ("baseline_mental_status", "vitals_near_baseline", "adult_present", "instructions_given"), "on"
    )

    responses = twice(nia_browser, url("discharge", visit), {**checklist, "form_token": "dc"})
    landed_on_the_visit(responses, visit)
    assert DischargeChecklist.objects.count() == 1

    responses = twice(nia_browser, url("sign", visit), {"signature_name": nurse.get_full_name(), "confirm": "on"})
    landed_on_the_visit(responses, visit)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.COMPLETED
    assert ChartEvent.objects.filter(kind="signed").count() == 1
    assert VisitChart.objects.get().locked_at is not None
