"""Clinicians review and clear in admin; schedulers (staff) never open clinical answers."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from concierge.tests.factories import UserFactory
from patients.models import Clearance, ClearanceDecision, PatientProfile, SafetyAlert

from .factories import PatientProfileFactory, cleared, consent_signed, licensed, screening, sent_intake

pytestmark = pytest.mark.django_db

CLINICAL_PAGES = [
    "/admin/patients/reviewqueueentry/",
    "/admin/patients/intakeresponse/",
    "/admin/patients/screeningresponse/",
    "/admin/patients/safetyalert/",
    "/admin/patients/clearance/",
    "/admin/patients/clearance/add/",
]


@pytest.fixture
def records(profile, clinician):
    """One of each clinical record for the cast's patient."""
    intake = sent_intake(profile.user, benzodiazepines=True)
    phq9 = screening(profile.user, "phq9", [1, 1, 1, 1, 1, 1, 1, 1, 1])
    clearance = cleared(profile.user, clinician)
    return {
        "intake": intake,
        "phq9": phq9,
        "alert": SafetyAlert.objects.get(screening=phq9),
        "clearance": clearance,
    }


def record_pages(records):
    return [
        f"/admin/patients/intakeresponse/{records['intake'].pk}/change/",
        f"/admin/patients/screeningresponse/{records['phq9'].pk}/change/",
        f"/admin/patients/safetyalert/{records['alert'].pk}/change/",
        f"/admin/patients/clearance/{records['clearance'].pk}/change/",
    ]


def test_staff_cannot_open_clinical_answers_in_admin(client, staff_user, records):
    client.force_login(staff_user)

    for url in CLINICAL_PAGES + record_pages(records):
        assert client.get(url).status_code == 403, url
    index = client.get("/admin/").content.decode()
    for name in ("Review queue", "Medical intakes", "Symptom questionnaires", "Safety alerts", "Clearances"):
        assert name not in index


def test_staff_see_contact_details_without_weight_or_the_safety_flag(client, staff_user, records, profile):
    client.force_login(staff_user)

    page = client.get(f"/admin/patients/patientprofile/{profile.pk}/change/").content.decode()

    assert "350 W 31st St" in page and "Robin Quinn" in page
    assert "weight" not in page.lower()
    assert "safety review" not in page.lower()
    assert "Benzodiazepine" not in page and "benzodiazepine" not in page


def test_clinicians_open_every_clinical_page(client, clinician, records):
    client.force_login(clinician)

    for url in CLINICAL_PAGES + record_pages(records):
        assert client.get(url).status_code == 200, url


def test_nurses_and_patients_have_no_admin(client, nurse, patient):
    for user in (nurse, patient):
        client.force_login(user)
        assert client.get("/admin/patients/clearance/add/").status_code == 302


def test_review_screen_shows_intake_scores_and_fired_rules_on_one_page(client, clinician, profile):
    sent_intake(profile.user, benzodiazepines=True, hypertension="controlled")
    screening(profile.user, "phq9", [2, 2, 2, 2, 2, 2, 2, 2, 0])
    client.force_login(clinician)

    page = client.get(f"/admin/patients/clearance/add/?patient={profile.user.pk}").content.decode()

    assert "Clinician review needed" in page
    assert "MED-1" in page and "BP-4" in page  # rule ids for staff
    assert "Takes a benzodiazepine" in page
    assert "Do you take a benzodiazepine" in page  # the intake itself
    assert "16 / 27" in page and "Moderately severe" in page  # scores
    assert 'name="diagnosis"' in page and 'name="expires_on"' in page
    # the plan's defaults from the issue
    assert 'name="infusions_planned" value="6"' in page
    assert 'name="dose_mg_per_kg" value="0.5"' in page
    assert 'name="infusion_minutes" value="40"' in page
    assert 'name="min_hours_between" value="48"' in page
    assert 'name="series_window_days" value="21"' in page
    # It opens at its top, not scrolled to the form's first field (Django focuses it on add pages).
    assert 'data-model-name="clearance"' not in page
    # What the patient is told about booking is quoted as theirs, not addressed to the clinician.
    assert "The patient reads: <q>Infusions can be booked once a clinician has cleared you.</q>" in page
    assert 'data-model-name="clearance"' in client.get("/admin/patients/clearance/add/").content.decode()


def clinic_today():
    """Today where the clinic is: the admin's dates are read in the clinic's zone (the middleware)."""
    return timezone.localdate(timezone=ZoneInfo(settings.CLINIC_TIME_ZONE))


def clearance_post(patient, **changes):
    return {
        "patient": patient.pk,
        "diagnosis": "ptsd",
        "decision": "cleared",
        "note": "",
        "infusions_planned": 6,
        "dose_mg_per_kg": "0.5",
        "infusion_minutes": 40,
        "min_hours_between": 48,
        "series_window_days": 21,
        "expires_on": (timezone.localdate() + timedelta(days=90)).isoformat(),
        **changes,
    }


def recent_questionnaires(patient):
    screening(patient, "phq9", [1] * 8 + [0])
    screening(patient, "gad7", [1] * 7)
    screening(patient, "pcl5", [1] * 20)


def test_a_clinician_clears_a_patient_with_a_plan_recorded_with_who_and_when(client, clinician, profile):
    intake = sent_intake(profile.user)
    licensed(clinician, "NY")
    recent_questionnaires(profile.user)
    consent_signed(profile.user)
    client.force_login(clinician)

    response = client.post(
        "/admin/patients/clearance/add/",
        clearance_post(profile.user, in_person_evaluated_on=clinic_today().isoformat()),
    )

    assert response.status_code == 302
    clearance = Clearance.objects.get()
    assert clearance.decision == ClearanceDecision.CLEARED
    assert clearance.clinician == clinician
    assert clearance.intake == intake
    assert clearance.decided_at is not None
    assert (clearance.infusions_planned, clearance.infusion_minutes) == (6, 40)
    from patients.selectors import booking_eligibility_for

    assert booking_eligibility_for(patient=profile.user).can_book_infusion


def test_decisions_are_never_edited_a_new_decision_is_a_new_row(client, clinician, profile):
    first = cleared(profile.user, clinician)
    client.force_login(clinician)

    change = client.post(
        f"/admin/patients/clearance/{first.pk}/change/", clearance_post(profile.user, infusions_planned=12)
    )
    assert change.status_code == 403
    assert client.post(f"/admin/patients/clearance/{first.pk}/delete/").status_code == 403

    client.post(
        "/admin/patients/clearance/add/",
        clearance_post(profile.user, decision="declined", note="New heart rhythm problem; cardiology first."),
    )
    first.refresh_from_db()
    assert first.infusions_planned == 6 and first.decision == "cleared"
    assert Clearance.objects.count() == 2
    from patients.selectors import clearance_active_for

    assert clearance_active_for(patient=profile.user) is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"expires_on": ""}, "expires_on", "A clearance needs an expiry date"),
        ({"expires_on": "2020-01-01"}, "expires_on", "must be after today"),
        ({"decision": "declined", "note": ""}, "note", "Say why"),
        (
            {"infusions_planned": 6, "min_hours_between": 120, "series_window_days": 21},
            "series_window_days",
            "do not fit",
        ),
        # The medical director's dose cap (nurses/protocol.py), below the model's own limit of 1.5.
        ({"dose_mg_per_kg": "3"}, "dose_mg_per_kg", "At most 1.0 mg/kg"),
        ({"dose_mg_per_kg": "1.01"}, "dose_mg_per_kg", "At most 1.0 mg/kg"),
    ],
)
def test_bad_clearance_input_is_refused_beside_the_field(client, clinician, profile, changes, field, message):
    sent_intake(profile.user)
    licensed(clinician, "NY")
    client.force_login(clinician)

    response = client.post("/admin/patients/clearance/add/", clearance_post(profile.user, **changes))

    content = response.content.decode()
    assert response.status_code == 200
    assert message in content
    assert f"field-{field}" in content
    assert not Clearance.objects.exists()


def test_a_patient_without_an_intake_cannot_be_cleared(client, clinician, profile):
    client.force_login(clinician)

    response = client.post("/admin/patients/clearance/add/", clearance_post(profile.user))

    assert "has not sent their health questions" in response.content.decode()
    assert not Clearance.objects.exists()


def test_a_clinician_clears_only_where_they_hold_an_active_licence(client, clinician, profile):
    sent_intake(profile.user)  # the patient lives in New York
    licensed(clinician, "AZ")
    client.force_login(clinician)

    refused = client.post("/admin/patients/clearance/add/", clearance_post(profile.user))

    assert "no active licence on file for NY" in refused.content.decode()
    assert not Clearance.objects.exists()
    declined = client.post(
        "/admin/patients/clearance/add/", clearance_post(profile.user, decision="declined", note="Refer locally.")
    )
    assert declined.status_code == 302  # declining is not treating


def test_only_clinicians_add_clearances_not_staff_nor_a_superuser_without_the_role(client, staff_user, profile):
    sent_intake(profile.user)
    superuser = UserFactory(role="staff", email="root@example.com", is_superuser=True, is_staff=True)

    for user in (staff_user, superuser):
        client.force_login(user)
        assert client.get("/admin/patients/clearance/add/").status_code == 403
        assert client.post("/admin/patients/clearance/add/", clearance_post(profile.user)).status_code == 403
    assert not Clearance.objects.exists()


def test_review_queue_puts_safety_flags_first_then_the_longest_waiting(client, clinician):
    waiting_long = PatientProfileFactory(user=UserFactory(role="patient", email="a@example.com", last_name="Ash"))
    waiting_short = PatientProfileFactory(user=UserFactory(role="patient", email="b@example.com", last_name="Birch"))
    flagged = PatientProfileFactory(user=UserFactory(role="patient", email="c@example.com", last_name="Cedar"))
    done = PatientProfileFactory(user=UserFactory(role="patient", email="d@example.com", last_name="Dogwood"))
    sent_intake(waiting_long.user)
    sent_intake(waiting_short.user)
    sent_intake(flagged.user)
    cleared(done.user, clinician)
    screening(flagged.user, "phq9", [0] * 8 + [1])
    client.force_login(clinician)

    page = client.get("/admin/patients/reviewqueueentry/").content.decode()

    order = [page.index(email) for email in ("c@example.com", "a@example.com", "b@example.com")]
    assert order == sorted(order)
    assert "d@example.com" not in page
    assert "Open safety alert" in page
    assert f"/admin/patients/clearance/add/?patient={flagged.user.pk}" in page
    assert "3 patients to review" in page and "3 review queue" not in page
    everyone = client.get("/admin/patients/reviewqueueentry/?show=all").content.decode()
    assert "d@example.com" in everyone


def test_a_clinician_acknowledges_then_resolves_an_alert_in_admin(client, clinician, profile):
    alert = SafetyAlert.objects.get(screening=screening(profile.user, "phq9", [0] * 8 + [1]))
    client.force_login(clinician)
    url = f"/admin/patients/safetyalert/{alert.pk}/change/"

    page = client.get(url).content.decode()
    assert "(212) 555-0143" in page or "+12125550143" in page  # who to call
    assert "Robin Quinn" in page

    client.post(url, {"action": "acknowledge", "resolution_note": ""})
    alert.refresh_from_db()
    assert alert.acknowledged_by == clinician and alert.resolved_at is None

    missing_note = client.post(url, {"action": "resolve", "resolution_note": ""})
    assert "Say what was done" in missing_note.content.decode()

    client.post(url, {"action": "resolve", "resolution_note": "Spoke with patient; safety plan in place."})
    alert.refresh_from_db()
    assert alert.resolved_by == clinician and alert.resolved_at is not None
    assert PatientProfile.objects.get(user=profile.user).safety_review_required is False
    # a resolved alert is a record: read only
    assert "Spoke with patient" in client.get(url).content.decode()
    assert 'name="action"' not in client.get(url).content.decode()


def test_a_superuser_without_the_clinician_role_sees_alerts_but_does_not_resolve_them(client, profile):
    superuser = UserFactory(role="staff", email="root@example.com", is_superuser=True, is_staff=True)
    alert = SafetyAlert.objects.get(screening=screening(profile.user, "phq9", [0] * 8 + [1]))
    client.force_login(superuser)

    assert client.get("/admin/patients/safetyalert/").status_code == 200
    url = f"/admin/patients/safetyalert/{alert.pk}/change/"
    response = client.post(url, {"action": "resolve", "resolution_note": "x"})

    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.is_open


def test_intake_admin_shows_answers_and_rules_and_hides_drafts(client, clinician, profile):
    from patients import services

    sent = sent_intake(profile.user, heart_rhythm=True)
    services.intake_draft_start(patient=profile.user)
    client.force_login(clinician)

    listing = client.get("/admin/patients/intakeresponse/").content.decode()
    detail = client.get(f"/admin/patients/intakeresponse/{sent.pk}/change/").content.decode()

    assert listing.count("/admin/patients/intakeresponse/") >= 1
    assert "Draft" not in listing
    assert "CARD-2" in detail and "Heart rhythm problem" in detail
    assert "irregular heartbeat" in detail


# --- the clearance gate (issue 15) ---------------------------------------------------------------------


def test_clearing_with_no_evaluation_and_no_questionnaires_shows_what_is_missing_and_saves_nothing(
    client, clinician, profile
):
    sent_intake(profile.user)
    licensed(clinician, "NY")
    client.force_login(clinician)

    page = client.post("/admin/patients/clearance/add/", clearance_post(profile.user)).content.decode()

    assert Clearance.objects.count() == 0
    assert "Before clearing this patient:" in page
    assert "A completed evaluation" in page
    assert "Questionnaires not sent in the last 30 days: PHQ-9, GAD-7, PCL-5." in page


def test_questionnaires_older_than_30_days_do_not_count(client, clinician, profile):
    sent_intake(profile.user)
    licensed(clinician, "NY")
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        recent_questionnaires(profile.user)
    screening(profile.user, "gad7", [0] * 7)
    client.force_login(clinician)

    page = client.post(
        "/admin/patients/clearance/add/",
        clearance_post(profile.user, in_person_evaluated_on=clinic_today().isoformat()),
    ).content.decode()

    assert Clearance.objects.count() == 0
    assert "Questionnaires not sent in the last 30 days: PHQ-9, PCL-5." in page
    assert "A completed evaluation" not in page


def test_an_in_person_evaluation_in_the_future_does_not_count(client, clinician, profile):
    sent_intake(profile.user)
    licensed(clinician, "NY")
    recent_questionnaires(profile.user)
    client.force_login(clinician)

    tomorrow = (clinic_today() + timedelta(days=1)).isoformat()
    page = client.post(
        "/admin/patients/clearance/add/", clearance_post(profile.user, in_person_evaluated_on=tomorrow)
    ).content.decode()

    assert Clearance.objects.count() == 0
    assert "The in-person evaluation date is in the future." in page


def test_declining_needs_no_evaluation_and_no_questionnaires(client, clinician, profile):
    sent_intake(profile.user)
    licensed(clinician, "NY")
    client.force_login(clinician)

    client.post(
        "/admin/patients/clearance/add/",
        clearance_post(profile.user, decision="declined", note="Cardiology first."),
    )

    assert Clearance.objects.get().decision == "declined"
