"""The schedule cache: a 14-day browse searches once, and no committed change is ever missed.

These tests commit for real (transaction=True): the schedule version changes after a commit,
as in production, and a transaction that wrote the schedule never reads the cache.
"""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking import services
from booking.forms import start_param
from booking.models import Visit, VisitStatus
from booking.tests import factories as f
from booking.tests.conftest import NOW, TUESDAY, ny
from booking.views.common import DAYS_PER_PAGE
from concierge import schedule
from concierge.models import User
from roster.models import Provider, TimeOff, WeeklyShift

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pat(client, cleared):
    client.force_login(cleared)
    return client


def days_url():
    return reverse("booking:days", args=["home-infusion"])


def times_url(day=TUESDAY):
    return reverse("booking:times", args=["home-infusion", day.isoformat()])


def times(client, day=TUESDAY):
    """The start times a patient is offered on the times page, as shown ("10:00 AM EST")."""
    response = client.get(times_url(day))
    assert response.status_code == 200
    return re.findall(r"\d{1,2}:\d\d [AP]M EST", response.content.decode())


def searches(queries):
    """How many searches the captured queries ran (each reads the weekly shifts once)."""
    return sum('"roster_weeklyshift"' in q["sql"] for q in queries)


def test_the_days_page_then_each_of_the_14_days_searches_once(pat, clock):
    with CaptureQueriesContext(connection) as queries:
        assert pat.get(days_url()).status_code == 200
        offered = [times(pat, NOW.date() + timedelta(days=i)) for i in range(DAYS_PER_PAGE)]

    assert searches(queries) == 1
    assert any(offered)


def test_what_the_cache_answers_is_what_a_fresh_search_answers(pat, clock):
    pat.get(days_url())
    cached = times(pat)
    schedule._bump()  # a new version: the next page searches the database again

    assert times(pat) == cached and "10:00 AM EST" in cached


def _hold_ten_o_clock(w):
    services.visit_hold(patient=w.cleared_too, service=w.infusion, starts_at=ny(TUESDAY, 10))


def _time_off(w):
    TimeOff.objects.create(provider=w.maya, starts_at=ny(TUESDAY, 8), ends_at=ny(TUESDAY, 18), reason="Dentist")


def _shifts_deleted(w):
    WeeklyShift.objects.filter(provider=w.maya).delete()


def _provider_updated(w):
    Provider.objects.filter(pk=w.maya.pk).update(is_active=False)


def _login_disabled(w):
    user = User.objects.get(pk=w.maya.user_id)
    user.is_active = False
    user.save()


def _area_left(w):
    w.nyc.providers.remove(w.maya)


def _visit_row_updated(w):
    # Any write to the table counts, even one no service made (a bulk update, a data fix).
    wednesday = ny(TUESDAY + timedelta(days=1), 8, 30)
    visit = f.VisitFactory(patient=w.cleared_too, provider=w.maya, service=w.infusion, starts_at=wednesday)
    ten, noon = ny(TUESDAY, 10), ny(TUESDAY, 12)
    Visit.objects.filter(pk=visit.pk).update(starts_at=ten, ends_at=noon, blocked_from=ten, blocked_until=noon)


@pytest.mark.parametrize(
    "change",
    [_hold_ten_o_clock, _time_off, _shifts_deleted, _provider_updated, _login_disabled, _area_left, _visit_row_updated],
    ids=lambda change: change.__name__.strip("_"),
)
def test_every_committed_change_is_seen_by_the_next_page(pat, clock, maya, nyc, cleared_too, infusion, change):
    assert "10:00 AM EST" in times(pat)

    change(SimpleNamespace(maya=maya, nyc=nyc, cleared_too=cleared_too, infusion=infusion))

    assert "10:00 AM EST" not in times(pat)


def test_a_hold_that_runs_out_frees_its_time_with_no_write_at_all(pat, clock, cleared_too, infusion):
    services.visit_hold(patient=cleared_too, service=infusion, starts_at=ny(TUESDAY, 10))
    assert "10:00 AM EST" not in times(pat)

    clock.move_to(NOW + timedelta(minutes=11))  # past the 10-minute hold; the expiry task has not run

    assert Visit.objects.get().status == VisitStatus.HELD
    assert "10:00 AM EST" in times(pat)


def test_a_stale_answer_can_never_book_a_taken_time(pat, clock, cleared_too, infusion, monkeypatch):
    assert "10:00 AM EST" in times(pat)
    # The version change is lost (say Redis failed right after the commit): pages may now show a
    # time that is gone, but the guard decides under its locks from the database.
    monkeypatch.setattr(schedule, "_bump", lambda: None)
    services.visit_hold(patient=cleared_too, service=infusion, starts_at=ny(TUESDAY, 10))
    assert "10:00 AM EST" in times(pat)

    response = pat.post(reverse("booking:review", args=["home-infusion"]), {"starts_at": start_param(ny(TUESDAY, 10))})

    assert response.status_code == 409 and "just taken" in response.content.decode()
    assert Visit.objects.count() == 1


def coverage(client, zip_code):
    return client.get(reverse("booking:coverage"), {"zip_code": zip_code}).content.decode()


def test_the_coverage_answer_is_kept_until_an_area_changes(client, nyc, infusion):
    assert "Phoenix" not in coverage(client, "85004")
    with CaptureQueriesContext(connection) as queries:
        coverage(client, "10001")
        coverage(client, "10001")
    assert len([q for q in queries if '"booking_servicearea"' in q["sql"]]) == 1  # the second is kept

    f.ServiceAreaFactory(name="Phoenix", state="AZ", base_zip="85004", radius_miles=20, services=[infusion])

    assert "Phoenix" in coverage(client, "85004")


def test_an_area_that_stops_offering_a_service_is_seen_by_the_next_times_page(pat, clock, nyc, infusion):
    assert pat.get(days_url()).status_code == 200
    assert "10:00 AM EST" in times(pat)

    nyc.services.remove(infusion)

    assert "10:00 AM EST" not in pat.get(times_url()).content.decode()


def test_a_zip_we_do_not_know_is_marked_on_the_field_and_kept(client):
    page = coverage(client, "1234x")

    assert 'value="1234x"' in page and 'aria-invalid="true"' in page
    assert 'class="textinput form-control is-invalid"' in page
    assert 'aria-describedby="id_zip_code_helptext id_zip_code_error"' in page
    assert 'id="id_zip_code_error"' in page and "We do not recognise this ZIP code" in page
