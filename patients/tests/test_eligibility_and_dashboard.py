import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from concierge.opaque import encode as oid
from patients import services
from patients.journey import journey_for
from patients.models import PatientProfile
from patients.selectors import booking_eligibility_for, clearance_active_for

from .factories import PatientProfileFactory, cleared, screening, sent_intake

pytestmark = pytest.mark.django_db


def eligibility(patient):
    e = booking_eligibility_for(patient=patient)
    return e.can_book_evaluation, e.can_book_infusion, str(e.reason)


def test_no_profile_or_an_incomplete_one_books_nothing(patient):
    assert eligibility(patient)[:2] == (False, False)
    PatientProfile.objects.create(user=patient)
    assert eligibility(patient) == (False, False, "Please finish your profile first.")


def test_an_evaluation_needs_a_sent_intake(profile):
    services.intake_draft_save(patient=profile.user, answers={"hypertension": "no"})

    assert eligibility(profile.user) == (False, False, "Please answer the health questions first.")
    sent_intake(profile.user)
    assert eligibility(profile.user)[:2] == (True, False)


def test_clinician_review_triage_may_still_book_the_evaluation(profile):
    sent_intake(profile.user, heart_rhythm=True, opioids=True)

    can_evaluate, can_infuse, reason = eligibility(profile.user)
    assert can_evaluate and not can_infuse
    assert "once a clinician has cleared you" in reason


def test_a_hard_stop_books_nothing_and_says_why_kindly(profile):
    sent_intake(profile.user, psychosis="recent")

    can_evaluate, can_infuse, reason = eligibility(profile.user)
    assert (can_evaluate, can_infuse) == (False, False)
    assert "not safe for you right now" in reason and "PSY-1" not in reason


def test_infusions_need_an_active_clearance(profile, clinician):
    clearance = cleared(profile.user, clinician, expires_on=timezone.localdate() + timedelta(days=10))

    assert eligibility(profile.user)[:2] == (True, True)
    assert clearance_active_for(patient=profile.user) == clearance
    with time_machine.travel(timezone.now() + timedelta(days=11)):
        assert eligibility(profile.user)[:2] == (True, False)
        assert clearance_active_for(patient=profile.user) is None


def test_more_information_does_not_undo_an_earlier_clearance_but_a_decline_does(profile, clinician):
    cleared(profile.user, clinician)
    cleared(profile.user, clinician, decision="more_info", note="Send the cardiology letter before the booster.")
    assert eligibility(profile.user)[:2] == (True, True)

    cleared(profile.user, clinician, decision="declined", note="Not suitable now.")
    assert eligibility(profile.user)[:2] == (True, False)


def test_the_safety_hold_stops_infusions_until_resolved(profile, clinician):
    from patients.models import SafetyAlert

    cleared(profile.user, clinician)
    response = screening(profile.user, "phq9", [0] * 8 + [1])
    assert eligibility(profile.user)[:2] == (True, False)

    services.safety_alert_resolve(
        alert=SafetyAlert.objects.get(screening=response), clinician=clinician, note="Safe; plan agreed."
    )
    assert eligibility(profile.user)[:2] == (True, True)


def test_a_later_intake_raising_something_new_holds_infusions_until_a_new_decision(profile, clinician):
    cleared(profile.user, clinician)  # on a clean intake
    sent_intake(profile.user, medications="none; new: sertraline 50 mg")  # free text only: no new rule
    assert eligibility(profile.user)[:2] == (True, True)

    sent_intake(profile.user, stimulants=True)
    can_evaluate, can_infuse, reason = eligibility(profile.user)
    assert (can_evaluate, can_infuse) == (True, False)
    assert "You updated your health answers" in reason

    cleared(profile.user, clinician)  # the clinician reviews the new version
    assert eligibility(profile.user)[:2] == (True, True)


def test_a_later_hard_stop_stops_infusions_at_once(profile, clinician):
    cleared(profile.user, clinician)

    sent_intake(profile.user, pregnancy="pregnant")

    assert eligibility(profile.user)[:2] == (False, False)


def test_eligibility_takes_few_queries(profile, clinician, django_assert_max_num_queries):
    cleared(profile.user, clinician)
    sent_intake(profile.user, stimulants=True)

    with django_assert_max_num_queries(6):
        booking_eligibility_for(patient=profile.user)


# --- the dashboard ---------------------------------------------------------------------------------


def statuses(patient):
    return {step.key: step.status for step in journey_for(patient=patient).steps}


def test_the_journey_and_the_one_next_action_at_each_stage(patient, clinician):
    journey = journey_for(patient=patient)
    assert journey.next_url == "/profile/"
    assert statuses(patient)["profile"] == "current"

    PatientProfileFactory(user=patient)
    assert journey_for(patient=patient).next_url == "/intake/"
    assert statuses(patient) == {
        "profile": "done",
        "intake": "current",
        "questionnaires": "todo",
        "evaluation": "todo",
        "cleared": "todo",
        "infusions": "todo",
    }

    sent_intake(patient)
    assert journey_for(patient=patient).next_url == "/questionnaires/phq9/"

    for code in ("phq9", "gad7", "pcl5"):
        screening(patient, code)
    journey = journey_for(patient=patient)
    assert journey.next_label == "Book your evaluation"
    assert journey.next_url in ("/book/", "/book")
    assert statuses(patient)["evaluation"] == "current"

    cleared(patient, clinician)
    journey = journey_for(patient=patient)
    assert journey.next_label == "Book your infusions"
    assert statuses(patient)["cleared"] == "done" and statuses(patient)["infusions"] == "current"


def test_a_hard_stop_offers_a_call_not_a_booking(profile):
    sent_intake(profile.user, pregnancy="pregnant")

    journey = journey_for(patient=profile.user)

    assert journey.next_url.startswith("tel:")
    assert "not safe for you right now" in journey.notice


def test_dashboard_shows_score_history_as_an_svg_chart_with_a_table(client, profile):
    with time_machine.travel(timezone.now() - timedelta(days=21)):
        screening(profile.user, "phq9", [2] * 9)
    screening(profile.user, "phq9", [1] * 8 + [0])
    client.force_login(profile.user)

    page = client.get("/dashboard/").content.decode()

    assert re.search(r'<svg[^>]*role="img"[^>]*aria-labelledby="chart-phq9-title chart-phq9-desc"', page)
    assert "PHQ-9 scores over time" in page
    assert "2 scores, from 18 to 8 most recently." in page
    assert re.search(r"<polyline points=\"[\d., ]+\"", page)
    assert page.count('class="dot"') == 2
    table = page[page.index("<table") : page.index("</table>")]
    assert "<caption" in table and '<th scope="col">Score</th>' in table
    assert ">18<" in table and ">8<" in table and "Moderately severe" in table and "Mild" in table
    assert "Hello, Pat" in page


def test_dashboard_includes_other_apps_sections_and_skips_missing_ones(client, profile, settings, tmp_path):
    (tmp_path / "extra_section.html").write_text("<section><h2>Upcoming visits</h2>{{ user.email }}</section>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
    settings.PATIENT_DASHBOARD_SECTIONS = ["extra_section.html", "no/such/template.html"]
    client.force_login(profile.user)

    page = client.get("/dashboard/").content.decode()

    assert "<h2>Upcoming visits</h2>pat@example.com" in page


def test_dashboard_takes_a_bounded_number_of_queries(
    client, profile, clinician, settings, django_assert_max_num_queries
):
    settings.PATIENT_DASHBOARD_SECTIONS = []
    cleared(profile.user, clinician)
    for _ in range(5):
        for code in ("phq9", "gad7", "pcl5"):
            screening(profile.user, code)
    client.force_login(profile.user)

    with django_assert_max_num_queries(25):
        assert client.get("/dashboard/").status_code == 200


def test_me_shows_a_patient_their_dashboard(client, profile):
    client.force_login(profile.user)

    response = client.get("/me/")

    assert response.status_code == 200
    assert "What to do next" in response.content.decode()


def test_a_booked_evaluation_replaces_book_your_evaluation(client, profile):
    from booking.tests.factories import EvaluationFactory, VisitFactory

    sent_intake(profile.user)
    for code in ("phq9", "gad7", "pcl5"):
        screening(profile.user, code)
    starts = timezone.now() + timedelta(days=2)
    visit = VisitFactory(patient=profile.user, service=EvaluationFactory(), starts_at=starts)
    client.force_login(profile.user)

    page = client.get("/dashboard/").content.decode()

    assert "Your video evaluation is booked for" in page
    assert "Book your evaluation" not in page
    assert f'href="/visits/{oid(visit.pk)}/"' in page


def test_the_dashboard_reads_the_profile_intake_and_clearance_once(client, profile, clinician, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.PATIENT_DASHBOARD_SECTIONS = []
    cleared(profile.user, clinician)
    services.intake_draft_save(patient=profile.user, answers={"allergies": "latex"})  # a draft beside the sent one
    screening(profile.user, "phq9")
    client.force_login(profile.user)

    with CaptureQueriesContext(connection) as queries:
        page = client.get("/dashboard/").content.decode()

    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    tables = (
        "patients_patientprofile",
        "patients_clearance",
        "patients_intakeresponse",
        "patients_screeningresponse",
        "patients_consentsignature",
    )
    for table in tables:
        reads = [sql for sql in selects if sql.split(" FROM ", 1)[1].startswith(f'"{table}"')]
        assert len(reads) == 1, (table, reads)
    # What those single reads are for still shows: the draft, the score, the plan.
    assert "PHQ-9 scores over time" in page and "Your plan:" in page


def test_a_kept_chart_drawing_never_hides_a_new_score_or_another_language(client, profile):
    screening(profile.user, "phq9", [2] * 9)
    client.force_login(profile.user)
    assert "One score: 18." in client.get("/dashboard/").content.decode()

    screening(profile.user, "phq9", [1] * 8 + [0])
    page = client.get("/dashboard/").content.decode()
    assert "2 scores, from 18 to 8 most recently." in page and page.count('class="dot"') == 2

    profile.user.language = "es"
    profile.user.save(update_fields=["language"])
    spanish = client.get("/dashboard/").content.decode()
    assert "2 scores, from 18 to 8" not in spanish
    assert '<th scope="col">Score</th>' not in spanish and spanish.count('class="dot"') == 2
