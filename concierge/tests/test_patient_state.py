"""The patient's state version and the pages kept under it (concierge/patient_state.py).

A kept page must never be shown after a change to what it shows has committed, whatever path
wrote it: a service, the admin's bulk update, raw SQL, another table that leads to the patient.
"""

import re
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from concierge import patient_state, schedule
from concierge.models import User
from concierge.patient_state import patient_state_log_fold
from concierge.patient_state import patient_state_version as version_of
from concierge.testing import VerifiedClient

# These tests commit for real (transaction=True), as requests do: a page is kept only outside a
# transaction that has changed the schedule, and a test's own transaction has.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def patient_state_version(patient_id):
    """How many committed changes of the patient's state (the version's count)."""
    return version_of(patient_id)[0]


ALEX = "patient@demo.conciergemd.example"
SERVICE = "home-infusion"
# What a kept page may read besides the watched tables: the session row (cached_db) and the
# version's own two tables.
NOT_PAGE_STATE = {"django_session", patient_state.LOG_TABLE, patient_state.FOLDED_TABLE}


@pytest.fixture
def demo(db):
    call_command("seed_demo", verbosity=0)


def signed_in(email):
    """A signed-in browser that has its CSRF cookie (as it would from the login page)."""
    client = VerifiedClient()
    client.force_login(User.objects.get(email=email))
    client.get("/dashboard/account/")
    return client


def patient_pages(user):
    day = timezone.localdate() + timedelta(days=3)
    return [
        reverse("portal:dashboard"),
        reverse("booking:days", args=[SERVICE]),
        reverse("booking:times", args=[SERVICE, day.isoformat()]),
    ]


def test_every_watched_table_carries_the_trigger_and_every_table_a_kept_page_reads_is_watched(demo):
    triggered = patient_state.patient_state_triggered_tables()
    assert triggered == set(patient_state.patient_state_watched())

    read = set()
    for user in User.objects.filter(groups__name="patient"):
        client = signed_in(user.email)
        for path in patient_pages(user):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            assert response.status_code in (200, 302), (user.email, path, response.status_code)
            read |= {table for q in queries for table in re.findall(r'(?:FROM|JOIN) "(\w+)"', q["sql"])}
    unwatched = read - triggered - set(schedule._watched) - NOT_PAGE_STATE
    assert not unwatched, unwatched
    assert {"booking_visit", "patients_clearance", "booking_safetyhold", "portal_threadmessage"} <= read


def test_the_version_moves_with_every_kind_of_write_and_only_for_the_patient_named(demo):
    from booking.models import SafetyHold, Visit
    from patients.models import PatientProfile
    from payments.models import Payment, Refund, RefundReason

    alex = User.objects.get(email=ALEX)
    other = User.objects.filter(groups__name="patient").exclude(pk=alex.pk).first()
    start = patient_state_version(alex.pk)
    other_start = patient_state_version(other.pk)

    PatientProfile.objects.filter(user=alex).update(mobile_phone="+12125550199")  # a bulk update
    after_update = patient_state_version(alex.pk)
    assert after_update > start

    with connection.cursor() as cursor:  # raw SQL, as a psql session would
        cursor.execute("UPDATE patients_patientprofile SET address_line2 = 'Apt 9' WHERE user_id = %s", [alex.pk])
    after_sql = patient_state_version(alex.pk)
    assert after_sql > after_update

    # A table that names the patient through another row: a hold through its visit, a refund
    # through its payment.
    visit = Visit.objects.filter(patient=alex).first()
    SafetyHold.objects.create(visit=visit, previous_status=visit.status)
    after_hold = patient_state_version(alex.pk)
    assert after_hold > after_sql
    payment = Payment.objects.filter(patient=alex).first()
    Refund.objects.create(payment=payment, amount_cents=100, reason_code=RefundReason.choices[0][0], reason="test")
    after_refund = patient_state_version(alex.pk)
    assert after_refund > after_hold
    Refund.objects.filter(payment=payment).delete()
    assert patient_state_version(alex.pk) > after_refund

    # An update that changes nothing moves nothing; nobody else's version moved.
    settled = patient_state_version(alex.pk)
    PatientProfile.objects.filter(user=alex).update(mobile_phone="+12125550199")
    assert patient_state_version(alex.pk) == settled
    assert patient_state_version(other.pk) == other_start


def test_the_version_moves_when_the_write_commits_not_before(demo):
    from patients.models import PatientProfile

    alex = User.objects.get(email=ALEX)
    before = patient_state_version(alex.pk)
    written, release = threading.Event(), threading.Event()

    def write():
        try:
            with transaction.atomic():
                PatientProfile.objects.filter(user=alex).update(mobile_phone="+12125550123")
                written.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=write)
    thread.start()
    assert written.wait(10)
    assert patient_state_version(alex.pk) == before  # written, not committed
    release.set()
    thread.join(10)
    assert patient_state_version(alex.pk) > before


def test_folding_the_log_keeps_every_version_and_the_next_write_still_moves_it(demo, settings):
    from patients.models import PatientProfile

    patients = list(User.objects.filter(groups__name="patient"))
    before = {p.pk: patient_state_version(p.pk) for p in patients}
    from concierge.tasks import patient_state_log_fold as fold_task

    assert settings.CELERY_BEAT_SCHEDULE["concierge-patient-state-log-fold"]["task"] == fold_task.name
    assert fold_task.apply().get() > 0  # as the beat runs it
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM concierge_patientstatechange")
        assert cursor.fetchone()[0] == 0
    assert {p.pk: patient_state_version(p.pk) for p in patients} == before

    alex = User.objects.get(email=ALEX)
    PatientProfile.objects.filter(user=alex).update(mobile_phone="+12125550111")
    assert patient_state_version(alex.pk) == before[alex.pk] + 1
    patient_state_log_fold()
    assert patient_state_version(alex.pk) == before[alex.pk] + 1


def test_a_kept_dashboard_costs_three_statements_and_shows_every_change_at_once(demo):
    from booking.models import Visit, VisitStatus
    from patients.models import PatientProfile

    alex = User.objects.get(email=ALEX)
    client = signed_in(ALEX)
    first = client.get("/dashboard/")
    assert first.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/dashboard/")
    assert again.content == first.content
    # Besides the session (a table in the test settings, Redis in production): the login, the
    # profile (who may see the page, in which zone) and the version.
    read = [q["sql"] for q in queries if '"django_session"' not in q["sql"]]
    assert len(read) == 3, [sql[:80] for sql in read]
    assert patient_state.LOG_TABLE in read[-1]

    # A change through raw SQL: the greeting follows at once.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE patients_patientprofile SET preferred_name = 'Lex' WHERE user_id = %s", [alex.pk])
    assert "Hello, Lex" in client.get("/dashboard/").content.decode()
    PatientProfile.objects.filter(user=alex).update(preferred_name="")  # a bulk update
    assert "Hello, Lex" not in client.get("/dashboard/").content.decode()

    # The admin's bulk update cancelling every upcoming visit: the page lists none any more.
    upcoming = Visit.objects.filter(patient=alex, starts_at__gte=timezone.now()).exclude(status=VisitStatus.CANCELLED)
    assert upcoming.exists()
    assert "No visits booked yet." not in client.get("/dashboard/").content.decode()
    upcoming.update(status=VisitStatus.CANCELLED)
    assert "No visits booked yet." in client.get("/dashboard/").content.decode()


def test_danger_words_in_a_message_show_on_the_kept_dashboard_and_days_page_at_once(demo):
    from portal import messaging

    alex = User.objects.get(email=ALEX)
    client = signed_in(ALEX)
    days_url = reverse("booking:days", args=[SERVICE])
    dashboard_before = client.get("/dashboard/").content.decode()
    days_before = client.get(days_url).content.decode()
    assert client.get("/dashboard/").content.decode() == dashboard_before  # kept
    assert "crisis-panel" not in dashboard_before and "crisis-panel" not in days_before

    messaging.thread_start(
        patient=alex, topic="health", subject="Tonight", body="I want to kill myself tonight", form_token="t1"
    )

    # The infusions wait for a clinician: both pages say so at once.
    dashboard_after = client.get("/dashboard/").content.decode()
    days_after = client.get(days_url).content.decode()
    assert "Your visits are on hold." in dashboard_after and "crisis-panel" in dashboard_after
    assert "Your visits are on hold." not in dashboard_before
    assert days_after != days_before


def test_a_message_is_shown_once_on_a_kept_page(demo):
    client = signed_in(ALEX)
    client.get("/dashboard/")
    client.get("/dashboard/")  # kept now

    shown = client.post(reverse("patients:intake_discard"), follow=True).content.decode()
    assert "Your unsent changes were discarded." in shown
    assert "Your unsent changes were discarded." not in client.get("/dashboard/").content.decode()


def test_each_session_gets_a_page_whose_forms_work_in_that_session(demo):
    alex = User.objects.get(email=ALEX)
    first, second = VerifiedClient(enforce_csrf_checks=True), VerifiedClient(enforce_csrf_checks=True)
    for client in (first, second):
        client.force_login(alex)
        client.get("/dashboard/account/")  # the CSRF cookie
        client.get("/dashboard/")
    pages = [client.get("/dashboard/").content.decode() for client in (first, second)]  # kept
    tokens = [re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1) for page in pages]
    assert tokens[0] != tokens[1]
    # Each session's page carries a token its own session accepts (signing out is a form).
    for client, token in zip((first, second), tokens, strict=True):
        assert client.post(reverse("logout"), {"csrfmiddlewaretoken": token}).status_code == 200  # not 403
        assert client.get("/dashboard/").status_code == 302  # signed out


def test_pages_are_drawn_afresh_with_the_setting_off(demo, settings):
    settings.PATIENT_PAGES_KEPT = False
    client = signed_in(ALEX)
    client.get("/dashboard/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/dashboard/")
    assert len(queries) > 5


NURSE = "nurse@demo.conciergemd.example"


def test_every_table_the_nurses_kept_day_reads_is_watched(demo):
    from roster.models import Provider

    triggered = patient_state.patient_state_triggered_tables()
    read = set()
    for provider in Provider.objects.select_related("user"):
        client = signed_in(provider.user.email)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/nurse/")
        if response.status_code == 404:
            continue  # not a nurse's login (a clinician on the roster)
        assert response.status_code == 200
        read |= {table for q in queries for table in re.findall(r'(?:FROM|JOIN) "(\w+)"', q["sql"])}
    unwatched = read - triggered - set(schedule._watched) - NOT_PAGE_STATE
    assert not unwatched, unwatched
    assert {"booking_visit", "patients_patientprofile", "nurses_visitchart"} <= read


def test_the_nurses_kept_day_shows_a_patients_new_name_and_chart_at_once(demo):
    from booking.models import Visit
    from roster.models import Provider

    nurse = User.objects.get(email=NURSE)
    provider = Provider.objects.get(user=nurse)
    client = signed_in(NURSE)
    visit = Visit.objects.filter(provider=provider).order_by("starts_at").first()
    day = visit.starts_at.astimezone(ZoneInfo(provider.time_zone)).date()
    url = f"/nurse/?date={day.isoformat()}"
    first = client.get(url).content.decode()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).content.decode() == first  # kept
    read = [q["sql"] for q in queries if '"django_session"' not in q["sql"]]
    # The login, the two-step device (nurses must use one), the nurse's roster row, the versions.
    assert len(read) == 4, [sql[:80] for sql in read]

    with connection.cursor() as cursor:  # the patient's new name: raw SQL, as a psql session would
        cursor.execute(
            "UPDATE patients_patientprofile SET preferred_name = 'Quillon', legal_last_name = 'Quillfeather'"
            " WHERE user_id = %s",
            [visit.patient_id],
        )
    assert "Quillon" not in first
    assert "Quillon" in client.get(url).content.decode()  # the name on the card

    # A write to the patient's chart (a table two rows away from them) moves their version too.
    from nurses.models import VisitChart

    before = version_of(visit.patient_id)
    VisitChart.objects.update_or_create(visit=visit, defaults={"nurse": nurse})
    assert version_of(visit.patient_id) != before
