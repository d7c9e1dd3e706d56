"""The patient's dashboard and visit list read a fixed number of rows' worth of statements, however
many visits, holds and check-ins the patient has, and read only what their rows show."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.models import SafetyHold, VisitStatus
from booking.tests.factories import ProviderFactory, VisitFactory
from concierge.tests.factories import UserFactory
from patients.tests.factories import cleared

from .factories import home_visit, thread_for, video_visit

pytestmark = pytest.mark.django_db


def history(patient, clinician, n):
    """`n` of each visit the dashboard lists (booked visits with their nurse, visits on hold, one
    after a danger sign, infusions to check in about), a video evaluation, and three messages (with
    fewer than the three it shows, the dashboard counts the unread ones without a statement)."""
    cleared(patient, clinician)
    soon = timezone.now() + timedelta(days=2)
    for i in range(n):
        nurse = ProviderFactory(user=UserFactory(role="nurse", first_name=f"Nurse{i}"))
        VisitFactory(patient=patient, provider=nurse, starts_at=soon + timedelta(days=i))
        held = VisitFactory(patient=patient, status=VisitStatus.ON_HOLD, starts_at=soon + timedelta(days=20 + i))
        SafetyHold.objects.create(
            visit=held, previous_status=VisitStatus.CONFIRMED, reasons=["phq9_item9"], safety=i == 0
        )
        home_visit(patient, ended_hours_ago=20 + i)
    for i in range(3):
        thread_for(patient, subject=f"Question {i}")
    video_visit(patient, starts_at=soon - timedelta(hours=12))


def statements(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries], response.content.decode()


@pytest.mark.parametrize("path", ["/dashboard/", "/visits/"])
def test_the_page_costs_the_same_statements_for_one_visit_of_each_kind_as_for_five(
    client, profile, other_profile, clinician, path
):
    history(profile.user, clinician, 1)
    history(other_profile.user, clinician, 5)  # the dashboard shows five visits and three check-ins

    client.force_login(profile.user)
    one, _ = statements(client, path)
    client.force_login(other_profile.user)
    five, page = statements(client, path)

    assert len(five) == len(one), "\n".join(five)
    # The rows are there, with their nurses: a field a row shows but the list did not read would
    # have cost a statement per row above.
    for i in range(4):  # the dashboard shows the next five: the video evaluation, then these
        assert f"Nurse{i}" in page


def test_the_dashboard_says_how_many_visits_are_on_hold_and_988_after_a_danger_sign(client, profile, clinician):
    history(profile.user, clinician, 2)
    client.force_login(profile.user)

    page = client.get("/dashboard/").content.decode()

    assert "Your visits are on hold." in page
    assert 'class="crisis-panel"' in page
    call_us = page.split("You can also call us:")[1].split("</p>")[0]  # the clinic's number, as a link
    assert f'href="tel:{settings.CLINIC_PHONE_E164}">{settings.CLINIC_PHONE}</a>' in call_us
    SafetyHold.objects.filter(safety=True).update(safety=False)
    SafetyHold.objects.filter(pk=SafetyHold.objects.order_by("pk").first().pk).delete()
    page = client.get("/dashboard/").content.decode()
    assert "Your visit is on hold." in page
    assert 'class="crisis-panel"' not in page


def test_the_visit_lists_read_only_what_their_rows_show(client, profile, clinician):
    """A visit with its service and nurse is ~50 columns; a row shows six, and the list reads
    those and the street and ZIP (to tell a visit booked before the patient moved), not the visit."""
    history(profile.user, clinician, 2)
    client.force_login(profile.user)

    for path in ("/dashboard/", "/visits/"):
        sql, _ = statements(client, path)
        lists = [s for s in sql if s.startswith('SELECT "booking_visit"."id"') and "LIMIT 1" not in s]
        assert lists, sql
        for select in lists:
            columns = select.split(" FROM ", 1)[0]
            assert '"address_line2"' not in columns and '"city"' not in columns, select
            assert columns.count(", ") < 20, select  # of ~50


def test_the_video_evaluations_card_costs_no_statement_more(client, profile, clinician):
    """The join button reads only `booking.telehealth.JOIN_FIELDS` of the evaluation."""
    cleared(profile.user, clinician)
    client.force_login(profile.user)
    client.get("/dashboard/")
    without, page = statements(client, "/dashboard/")
    assert "Your video evaluation" not in page

    video_visit(profile.user, starts_at=timezone.now() + timedelta(minutes=5))  # the room is open
    with_card, page = statements(client, "/dashboard/")

    assert len(with_card) == len(without), "\n".join(with_card)
    assert "Your video evaluation" in page and "Join video visit" in page
