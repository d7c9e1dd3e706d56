"""The day's board and the week's are drawn once and kept under the schedule version: every change
that a board shows is on the next page, and what moves with the clock moves every minute.

These tests commit for real (transaction=True): the version changes after a commit, as in
production.
"""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking import services
from booking.models import Visit, VisitStatus
from booking.tests import factories as bf
from concierge import schedule
from concierge.models import User
from patients.models import PatientProfile
from roster.models import TimeOff
from staff.board import board_for_day, board_for_week

from .conftest import MONDAY, NOW, TUESDAY, book, logged_in, ny

pytestmark = pytest.mark.django_db(transaction=True)


def board(client, day=TUESDAY):
    response = client.get(reverse("admin:booking_board"), {"date": day.isoformat()})
    assert response.status_code == 200
    return response.content.decode()


def week(client, day=TUESDAY):
    response = client.get(reverse("admin:booking_board_week"), {"start": day.isoformat()})
    assert response.status_code == 200
    return response.content.decode()


def week_cell(page):
    """Maya's Tuesday on the week's board (Monday is the first column)."""
    row = re.search(r'<th scope="row">Maya Chen<br>.*?</tr>', page, re.S).group(0)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.findall(r"<td[^>]*>.*?</td>", row, re.S)[1])).strip()


def text(page):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split('id="content-main"')[1]))


def test_the_board_is_drawn_once_while_nothing_changes(clock, scheduler_client, cleared, infusion, maya):
    book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    first = board(scheduler_client)

    with CaptureQueriesContext(connection) as queries:
        again = board(scheduler_client)

    assert text(again) == text(first) and "Pat Example" in text(again)
    assert not any('"booking_visit"' in q["sql"] for q in queries)  # not read again


def test_the_week_is_drawn_once_and_shows_the_next_change(clock, scheduler_client, cleared, infusion, maya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    first = week(scheduler_client)
    assert week_cell(first).startswith("1 visit ")

    with CaptureQueriesContext(connection) as queries:
        again = week(scheduler_client)
    assert text(again) == text(first)
    assert not any('"booking_visit"' in q["sql"] for q in queries)  # not read again

    services.visit_cancel(visit=visit, by="staff", reason="test")

    assert week_cell(week(scheduler_client)).startswith("0 visits ")


def test_the_week_moves_with_the_clock(clock, scheduler_client, cleared, infusion, maya):
    runs_out = NOW + timedelta(minutes=10)
    bf.VisitFactory(
        patient=cleared,
        service=infusion,
        provider=maya,
        starts_at=ny(TUESDAY, 10),
        status=VisitStatus.HELD,
        hold_expires_at=runs_out,
    )
    assert week_cell(week(scheduler_client)) == "1 visit 20% booked"
    version = schedule.schedule_version()

    clock.move_to(runs_out - timedelta(minutes=4))  # no write: the hold now runs out within five minutes

    assert week_cell(week(scheduler_client)) == "1 visit 20% booked 1 at risk"
    assert schedule.schedule_version() == version


def _renamed(w):
    PatientProfile.objects.filter(user=w.cleared).update(preferred_name="Patty")


def _login_renamed(w):
    User.objects.filter(pk=w.maya.user_id).update(first_name="Mayana")  # the name only (not is_active)


def _cancelled(w):
    services.visit_cancel(visit=w.visit, by="staff", reason="test")


def _time_off(w):
    TimeOff.objects.create(provider=w.maya, starts_at=ny(TUESDAY, 14), ends_at=ny(TUESDAY, 18), reason="Dentist")


@pytest.mark.parametrize(
    ("change", "seen"),
    [
        (_renamed, lambda page: "Patty" in text(page)),
        (_login_renamed, lambda page: "Mayana" in text(page)),
        (_cancelled, lambda page: "0 visits" in text(page)),
        (_time_off, lambda page: 'class="seg seg-time_off' in page),
    ],
    ids=["patient-name", "nurse-name", "visit-cancelled", "time-off"],
)
def test_every_committed_change_is_on_the_next_board(clock, scheduler_client, cleared, infusion, maya, change, seen):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    assert not seen(board(scheduler_client))

    change(SimpleNamespace(cleared=cleared, maya=maya, visit=visit))

    assert seen(board(scheduler_client))


def test_a_last_login_does_not_throw_the_board_away(clock, scheduler_client, cleared, infusion, maya):
    book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    board(scheduler_client)
    version = schedule.schedule_version()

    User.objects.filter(pk=maya.user_id).update(last_login=NOW)

    assert schedule.schedule_version() == version


def test_the_board_moves_with_the_clock(clock, scheduler, scheduler_client, cleared, infusion, maya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    clock.move_to(ny(TUESDAY, 10, 14))
    scheduler_client.force_login(scheduler)  # a day later: a new session
    assert "late: not started" not in board(scheduler_client)
    version = schedule.schedule_version()

    clock.move_to(ny(TUESDAY, 10, 16))  # no write: only the minute changed (late after 15)

    assert "late: not started" in board(scheduler_client)
    assert schedule.schedule_version() == version and Visit.objects.get(pk=visit.pk).status == "confirmed"


def test_every_table_the_board_reads_is_watched(clock, cleared, infusion, maya):
    book(cleared, infusion, ny(TUESDAY, 10), provider=maya)

    with CaptureQueriesContext(connection) as queries:
        board_for_day(day=TUESDAY, now=NOW + timedelta(hours=1))
        board_for_week(first_day=TUESDAY - timedelta(days=1), now=NOW + timedelta(hours=1))

    read = {table for q in queries for table in re.findall(r'(?:FROM|JOIN) "(\w+)"', q["sql"])}
    assert read and read <= set(schedule._watched), read - set(schedule._watched)


def test_the_week_marks_today_and_moves_the_mark_at_midnight(clock, scheduler, scheduler_client):
    today = r'<th scope="col" class="today" aria-current="date"><a href="[^"]*\?date={}">'
    page = week(scheduler_client, MONDAY)
    assert re.search(today.format("2026-03-02"), page) and page.count('aria-current="date"') == 1

    clock.move_to(ny(TUESDAY, 0, 5))  # just after midnight where the clinic is
    scheduler_client = logged_in(scheduler)  # a night's idle ends the session

    page = week(scheduler_client, MONDAY)
    assert re.search(today.format("2026-03-03"), page) and page.count('aria-current="date"') == 1
    assert 'aria-current="date"' not in week(scheduler_client, MONDAY + timedelta(days=7))
