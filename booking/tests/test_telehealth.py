"""Video evaluations: a room for each confirmed evaluation, a join button the server opens 10 minutes
before the start, the clinician's list and the decision recorded against the visit, neutral reminders."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from booking import services, telehealth
from booking.models import VisitStatus
from concierge.opaque import encode as oid
from concierge.tests.factories import UserFactory
from notifications import content
from notifications import services as notify
from notifications.models import Message
from patients.models import Clearance

from . import factories as f
from .conftest import TUESDAY, ny

pytestmark = pytest.mark.django_db

ROOM = re.compile(r"^https://meet\.example\.com/conciergemd-[A-Za-z0-9_-]{20,}$")


@pytest.fixture
def dana(clinician, nyc, evaluation):
    """The cast's clinician as a provider licensed in NY, serving the New York area."""
    provider = f.clinician_provider(user=clinician)
    nyc.providers.add(provider)
    return provider


@pytest.fixture
def applicant(clock, patient, nyc):
    f.patient_profile(patient)
    return patient


def booked_evaluation(patient, evaluation, starts_at=None):
    visit = services.visit_hold(patient=patient, service=evaluation, starts_at=starts_at or ny(TUESDAY, 10))
    return services.visit_confirm(visit=visit)


@pytest.fixture
def visit(applicant, evaluation, dana):
    """Pat's video evaluation with Dana, Tuesday 3 March 2026, 10:00-10:45 EST."""
    return booked_evaluation(applicant, evaluation)


# --- the room ---------------------------------------------------------------------------------------


def test_confirming_an_evaluation_gives_it_an_unguessable_room_once(visit, applicant, evaluation, dana, other_patient):
    assert visit.status == VisitStatus.CONFIRMED
    assert ROOM.match(visit.video_url), visit.video_url
    again = services.visit_confirm(visit=visit)
    assert again.video_url == visit.video_url  # confirming twice keeps the room
    f.patient_profile(other_patient)
    other = booked_evaluation(other_patient, evaluation, ny(TUESDAY, 14))
    assert ROOM.match(other.video_url) and other.video_url != visit.video_url


def test_home_visits_get_no_room(cleared, infusion):
    home = services.visit_confirm(
        visit=services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    )
    assert home.video_url == ""


def test_without_a_template_staff_paste_the_link(settings, applicant, evaluation, dana, client, staff_user):
    settings.TELEHEALTH_URL_TEMPLATE = ""
    visit = booked_evaluation(applicant, evaluation)
    assert visit.video_url == ""
    assert telehealth.join_state(visit=visit).status == "no_link"
    client.force_login(staff_user)

    page = client.get("/staff/evaluations/").content.decode()
    assert "No video room yet: paste one below." in page

    bad = client.post(
        f"/staff/evaluations/{oid(visit.pk)}/link/", {f"v{visit.pk}-url": "http://zoom.example.com/j/123"}
    )
    assert bad.status_code == 400
    assert "Paste the full https:// address of the video room." in bad.content.decode()
    assert 'value="http://zoom.example.com/j/123"' in bad.content.decode()  # kept as typed
    visit.refresh_from_db()
    assert visit.video_url == ""

    good = client.post(
        f"/staff/evaluations/{oid(visit.pk)}/link/", {f"v{visit.pk}-url": "https://zoom.example.com/j/123"}
    )
    assert good["Location"] == "/staff/evaluations/"
    visit.refresh_from_db()
    assert visit.video_url == "https://zoom.example.com/j/123"


# --- the join button -----------------------------------------------------------------------------------


def test_the_join_button_opens_ten_minutes_before_and_closes_after_the_visit(client, visit, applicant):
    start = visit.starts_at

    with time_machine.travel(start - timedelta(minutes=10, seconds=1), tick=False):
        client.force_login(applicant)  # (a session lasts 12 hours; the clock jumps a day)
        page = client.get(f"/visits/{oid(visit.pk)}/").content.decode()
        assert "appears here on Tuesday, March 3 at <strong>9:50 AM EST</strong>" in page
        assert visit.video_url not in page and f"/visits/{oid(visit.pk)}/join/" not in page
        early = client.get(f"/visits/{oid(visit.pk)}/join/")
        assert early["Location"] == f"/visits/{oid(visit.pk)}/"
        assert "The video visit opens at 9:50 AM EST" in client.get(early["Location"]).content.decode()

    with time_machine.travel(start - timedelta(minutes=10), tick=False):
        client.force_login(applicant)
        page = client.get(f"/visits/{oid(visit.pk)}/").content.decode()
        assert f'href="/visits/{oid(visit.pk)}/join/"' in page and "Join video visit" in page
        assert visit.video_url not in page  # only the join link hands it out
        joined = client.get(f"/visits/{oid(visit.pk)}/join/")
        assert joined.status_code == 302 and joined["Location"] == visit.video_url
        assert joined["Cache-Control"].startswith("no-store") or "no-store" in joined["Cache-Control"]

    with time_machine.travel(visit.ends_at + timedelta(minutes=30), tick=False):
        client.force_login(applicant)
        assert "This video visit is over." in client.get(f"/visits/{oid(visit.pk)}/").content.decode()
        assert client.get(f"/visits/{oid(visit.pk)}/join/")["Location"] == f"/visits/{oid(visit.pk)}/"


def test_a_cancelled_evaluation_cannot_be_joined(visit):
    with time_machine.travel(visit.starts_at, tick=False):
        services.visit_cancel(visit=visit, by="staff")
        visit.refresh_from_db()
        assert telehealth.join_state(visit=visit).status == "cancelled"
        with pytest.raises(telehealth.InvalidState):
            telehealth.join_url_for(visit=visit, user=visit.patient)


def test_nobody_else_joins_the_patients_room(client, visit, other_patient, nurse, staff_user):
    with time_machine.travel(visit.starts_at, tick=False):
        client.force_login(other_patient)
        assert client.get(f"/visits/{oid(visit.pk)}/join/").status_code == 404
        client.force_login(nurse)
        assert client.get(f"/visits/{oid(visit.pk)}/join/").status_code == 403
        client.force_login(staff_user)  # schedulers set links; they do not join visits
        response = client.get(f"/staff/evaluations/{oid(visit.pk)}/join/")
        assert response["Location"] == "/staff/evaluations/"


def test_the_dashboard_shows_when_the_video_visit_opens(client, visit, applicant):
    with time_machine.travel(visit.starts_at - timedelta(hours=1), tick=False):
        client.force_login(applicant)
        page = client.get("/dashboard/").content.decode()
        assert "Your video evaluation" in page and "<strong>9:50 AM EST</strong>" in page


# --- the clinician's side ----------------------------------------------------------------------------


def test_the_clinician_sees_their_evaluations_and_joins_when_it_opens(client, visit, clinician):
    with time_machine.travel(visit.starts_at - timedelta(hours=2), tick=False):
        client.force_login(clinician)
        page = client.get("/staff/evaluations/").content.decode()
        assert "Tuesday, March 3, 10:00 AM EST" in page and visit.patient.get_full_name() in page
        assert f"/staff/evaluations/{oid(visit.pk)}/join/" not in page and "<strong>9:50 AM EST</strong>" in page
        assert f"/admin/patients/clearance/add/?patient={visit.patient_id}&amp;evaluation={visit.pk}" in page
    with time_machine.travel(visit.starts_at - timedelta(minutes=5), tick=False):
        client.force_login(clinician)
        page = client.get("/staff/evaluations/").content.decode()
        assert f'href="/staff/evaluations/{oid(visit.pk)}/join/"' in page
        assert client.get(f"/staff/evaluations/{oid(visit.pk)}/join/")["Location"] == visit.video_url


def test_another_clinician_neither_lists_nor_joins_it(client, visit):
    other = UserFactory(role="clinician", email="other.clinician@example.com")
    client.force_login(other)
    with time_machine.travel(visit.starts_at, tick=False):
        client.force_login(other)
        assert visit.patient.get_full_name() not in client.get("/staff/evaluations/").content.decode()
        assert client.get(f"/staff/evaluations/{oid(visit.pk)}/join/").status_code == 404
        assert (
            client.post(
                f"/staff/evaluations/{oid(visit.pk)}/link/", {f"v{visit.pk}-url": "https://x.example"}
            ).status_code
            == 404
        )


def test_patients_and_nurses_have_no_evaluations_page(client, visit, nurse):
    for user in (visit.patient, nurse):
        client.force_login(user)
        assert client.get("/staff/evaluations/").status_code == 403


def test_the_clinician_records_the_decision_against_the_evaluation(client, visit, clinician):
    client.force_login(clinician)
    with time_machine.travel(visit.starts_at + timedelta(minutes=20), tick=False):
        client.force_login(clinician)
        page = client.get(
            f"/admin/patients/clearance/add/?patient={visit.patient_id}&evaluation={visit.pk}"
        ).content.decode()
        assert "Evaluation visit (video)" in page
        assert f'href="/staff/evaluations/{oid(visit.pk)}/join/"' in page  # still joinable during the visit
        assert f'<option value="{visit.pk}" selected>' in page

        response = client.post(
            "/admin/patients/clearance/add/",
            {
                "patient": visit.patient_id,
                "evaluation": visit.pk,
                "diagnosis": "ptsd",
                "decision": "cleared",
                "note": "Evaluated by video: PCL-5 42, no contraindications.",
                "infusions_planned": 6,
                "dose_mg_per_kg": "0.5",
                "infusion_minutes": 40,
                "min_hours_between": 48,
                "series_window_days": 21,
                "expires_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
            },
        )
        assert response.status_code == 302
        clearance = Clearance.objects.get()
        assert (clearance.evaluation, clearance.clinician, clearance.note) == (
            visit,
            clinician,
            "Evaluated by video: PCL-5 42, no contraindications.",
        )
        assert "Decision recorded: Cleared" in client.get("/staff/evaluations/").content.decode()


def test_a_decision_cannot_point_at_another_patients_visit(client, visit, clinician, other_patient, evaluation):
    f.patient_profile(other_patient)
    client.force_login(clinician)
    response = client.post(
        "/admin/patients/clearance/add/",
        {
            "patient": other_patient.pk,
            "evaluation": visit.pk,
            "diagnosis": "ptsd",
            "decision": "more_info",
            "note": "Need records.",
            "infusions_planned": 6,
            "dose_mg_per_kg": "0.5",
            "infusion_minutes": 40,
            "min_hours_between": 48,
            "series_window_days": 21,
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Clearance.objects.exists()


# --- reminders, as for home visits, with neutral wording ------------------------------------------------


def test_an_evaluation_gets_the_video_reminders_with_neutral_wording_and_never_the_room_address(visit):
    planned = sorted(Message.objects.filter(visit=visit).values_list("template", "channel"))
    assert planned == [
        ("checkin", "email"),
        ("confirmation", "email"),
        ("confirmation", "sms"),
        ("reminder_24h", "email"),
        ("reminder_24h", "sms"),
        ("reminder_2h", "sms"),
    ]  # no 72-hour preparation email: nothing to prepare for a video call
    for message in Message.objects.filter(visit=visit):
        rendered = content.render(message)
        texts = [rendered.subject, rendered.text, re.sub(r"<[^>]+>", " ", rendered.html)]
        for text in texts:
            assert content.forbidden_words_in(text) == [], (message.template, text)
            assert visit.video_url not in text
        if message.channel == "sms":
            assert "your ConciergeMD video visit" in rendered.text
        elif message.template in ("confirmation", "reminder_24h"):
            assert f"http://testserver/visits/{oid(visit.pk)}/" in rendered.text
            assert "the join button appears 10 minutes before the start" in rendered.text.lower()
    assert notify.visit_confirmed(visit=visit) != []  # planning again adds nothing
    assert Message.objects.filter(visit=visit).count() == len(planned)
