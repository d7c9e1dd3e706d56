"""The schedule board: each nurse's day laid out (visits, travel, free time), visits at risk, the week,
and a constant number of queries however many nurses and visits."""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking import services
from booking.models import Visit, VisitStatus
from booking.tests import factories as bf
from concierge.tests.factories import UserFactory
from roster.models import Licence
from staff.board import board_for_day, board_for_week

from .conftest import NOW, TUESDAY, book, ny

pytestmark = pytest.mark.django_db


def local(moment):
    return moment.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M")


def test_the_board_lays_out_a_nurses_day_with_travel_and_free_time(cleared, cleared_too, infusion, maya, priya):
    book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    book(cleared_too, infusion, ny(TUESDAY, 14), provider=maya)

    board = board_for_day(day=TUESDAY, now=NOW)

    assert [row.name for row in board.rows] == ["Maya Chen", "Priya Shah"]
    maya_row, priya_row = board.rows
    assert [v.time_label for v in maya_row.visits] == ["10:00 AM-12:00 PM EST", "2:00-4:00 PM EST"]
    assert [v.patient_name for v in maya_row.visits] == ["Pat Example", "Olive Example"]
    # From the base to the first visit, between the visits (same ZIP: the 15-minute minimum), home after.
    assert [(v.travel_before, v.travel_after) for v in maya_row.visits] == [(15, 0), (15, 15)]
    segments = [(s.kind, local(s.start), local(s.end)) for s in maya_row.segments]
    assert segments == [
        ("free", "08:00", "09:45"),
        ("travel", "09:45", "10:00"),
        ("visit", "10:00", "12:00"),
        ("free", "12:00", "13:45"),
        ("travel", "13:45", "14:00"),
        ("visit", "14:00", "16:00"),
        ("travel", "16:00", "16:15"),
        ("free", "16:15", "18:00"),
    ]
    assert (maya_row.working_minutes, maya_row.booked_minutes, maya_row.free_minutes) == (600, 240, 315)
    # The axis runs 7 AM to 7 PM in 5-minute columns: 10:00 is column 37, a two-hour visit 24 columns.
    assert (board.axis_start, board.axis_end, board.columns) == (7, 19, 144)
    visit = next(s for s in maya_row.segments if s.kind == "visit")
    assert (visit.column, visit.span) == (37, 24)
    # Priya works and has nothing booked: all free.
    assert [(s.kind, local(s.start), local(s.end)) for s in priya_row.segments] == [("free", "08:00", "18:00")]
    assert board.at_risk == []


def test_visits_at_risk_unassigned_licence_expiring_hold_running_out_outside_hours(
    clock, cleared, cleared_too, infusion, maya, priya
):
    Licence.objects.filter(provider=priya).update(expires_on=date(2026, 3, 20))
    with_priya = book(cleared, infusion, ny(TUESDAY, 10), provider=priya)
    held = services_hold(cleared_too, infusion, ny(TUESDAY, 10), maya)
    Visit.objects.filter(pk=held.pk).update(hold_expires_at=NOW + timedelta(minutes=3))
    nobody = bf.VisitFactory(starts_at=ny(TUESDAY, 11), provider=None)
    late = bf.VisitFactory(starts_at=ny(TUESDAY, 19), provider=maya)

    board = board_for_day(day=TUESDAY, now=NOW)

    risks = {v.visit.pk: [str(r) for r in v.risks] for v in board.at_risk}
    assert risks == {
        with_priya.pk: ["licence for NY expires Mar 20, 2026"],
        held.pk: ["the hold runs out at 9:03 AM EST"],
        nobody.pk: ["no nurse assigned"],
        late.pk: ["outside the nurse's working hours"],
    }
    assert [v.visit.pk for v in board.unassigned] == [nobody.pk]
    priya_row = next(r for r in board.rows if r.name == "Priya Shah")
    assert [str(n) for n in priya_row.notes] == ["RN NY licence expires Mar 20"]
    # The axis grows to show the evening visit.
    assert board.axis_end == 21


def services_hold(patient, service, starts_at, provider):
    return services.visit_hold(patient=patient, service=service, starts_at=starts_at, provider=provider)


def test_an_expired_licence_and_an_inactive_nurse_are_risks_too(cleared, infusion, maya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    Licence.objects.filter(provider=maya).update(expires_on=date(2026, 3, 1))
    maya.is_active = False
    maya.save()

    board = board_for_day(day=TUESDAY, now=NOW)

    row = board.rows[0]
    assert row.name == "Maya Chen"
    assert [str(r) for r in row.visits[0].risks] == [
        "no licence valid in NY on that day",
        "the nurse is no longer active",
    ]
    assert row.visits[0].visit == visit
    assert [str(n) for n in row.notes] == ["inactive"]


def _nurses_with_visits(count, visits_each):
    service = bf.ServiceFactory()
    for _ in range(count):
        provider = bf.ProviderFactory()
        for i in range(visits_each):
            starts = ny(TUESDAY, 8 + 3 * i)
            bf.VisitFactory(
                patient=UserFactory(role="patient"),
                service=service,
                provider=provider,
                starts_at=starts,
                blocked_from=starts - timedelta(minutes=15),
                blocked_until=starts + timedelta(hours=2, minutes=15),
            )
        bf.time_off(provider, ny(TUESDAY, 17), ny(TUESDAY, 18))


def test_the_board_takes_six_queries_for_one_nurse_or_many(clock, django_assert_max_num_queries):
    _nurses_with_visits(1, 2)
    with CaptureQueriesContext(connection) as one:
        assert len(board_for_day(day=TUESDAY).rows) == 1

    _nurses_with_visits(8, 3)
    with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as many:
        board = board_for_day(day=TUESDAY)
        rendered = [(s.kind, s.column) for row in board.rows for s in row.segments]

    assert len(board.rows) == 9 and rendered
    assert len(many) == len(one) == 6


def test_the_board_page_takes_the_same_queries_for_one_nurse_or_many(clock, scheduler_client):
    url = reverse("admin:booking_board") + "?date=2026-03-03"
    _nurses_with_visits(1, 2)
    scheduler_client.get(url)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as one:
        assert scheduler_client.get(url).status_code == 200
    _nurses_with_visits(8, 3)
    with CaptureQueriesContext(connection) as many:
        response = scheduler_client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('class="board-row"') == 9
    assert len(many) == len(one)


def test_the_week_counts_visits_hours_and_risks_per_nurse_and_day(clock, cleared, cleared_too, infusion, maya, priya):
    book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    book(cleared_too, infusion, ny(TUESDAY, 14), provider=maya)
    bf.VisitFactory(starts_at=ny(TUESDAY + timedelta(days=1), 11), provider=None)

    week = board_for_week(first_day=date(2026, 3, 2))

    maya_row = next(r for r in week["rows"] if r.name == "Maya Chen")
    tuesday = maya_row.cells[1]
    assert (tuesday.visits, tuesday.booked_minutes, tuesday.working_minutes, tuesday.utilisation) == (2, 240, 600, 40)
    sunday = maya_row.cells[6]
    assert (sunday.visits, sunday.working_minutes, sunday.utilisation) == (0, 0, None)
    assert week["unassigned"] == [0, 0, 1, 0, 0, 0, 0]


def test_the_board_page_shows_the_day_with_links_to_open_and_reassign(clock, scheduler_client, cleared, infusion, maya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)

    page = scheduler_client.get(reverse("admin:booking_board"), {"date": "2026-03-03"}).content.decode()

    assert "Schedule for Tuesday, March 3, 2026" in page
    assert "Maya Chen" in page and "10:00 AM-12:00 PM EST" in page and "Pat Example" in page
    assert reverse("admin:booking_visit_change", args=[visit.pk]) in page
    assert (
        reverse("admin:booking_visit_reassign", args=[visit.pk])
        + "?next=/admin/booking/visit/board/%3Fdate%3D2026-03-03"
        in page
    )
    assert 'class="seg seg-visit status-confirmed bc-37 bs-24"' in page
    assert "style=" not in page.split('id="content-main"')[1]  # the strict CSP: geometry is classes


def test_a_bad_date_shows_today_and_the_week_page_works(clock, scheduler_client, cleared, infusion, maya):
    book(cleared, infusion, ny(TUESDAY, 10), provider=maya)

    assert (
        "Monday, March 2, 2026"
        in scheduler_client.get(reverse("admin:booking_board"), {"date": "31/02"}).content.decode()
    )
    page = scheduler_client.get(reverse("admin:booking_board_week"), {"start": "2026-03-04"}).content.decode()
    assert "Week of March 2, 2026" in page and "Maya Chen" in page


def test_cancelled_and_expired_visits_are_not_on_the_board(clock, cleared, infusion, maya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    services.visit_cancel(visit=visit, by="staff", reason="test")

    (row,) = [r for r in board_for_day(day=TUESDAY, now=NOW).rows if r.name == "Maya Chen"]
    assert row.visits == []  # the row stays (Maya works), free all day
    assert [(s.kind, local(s.start), local(s.end)) for s in row.segments] == [("free", "08:00", "18:00")]
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CANCELLED
