"""Demo data for the patients app, called by `manage.py seed_demo` after the demo users exist.

`seed(users, lines)`: users maps the demo emails to User rows; append a line to `lines` for each
thing worth printing. Must be idempotent: running it twice gives the same data.

- Alex Morgan (patient@): profile complete in New York, intake sent, PHQ-9/GAD-7/PCL-5 at baseline
  and a few weeks later, cleared by the demo clinician with the default plan.
- Jordan Lee (patient2@): profile complete in Phoenix, intake sent (a benzodiazepine: clinician
  review), baseline questionnaires, waiting for review.
- Riley Park (patient3@): fresh from sign-up: date of birth and terms only.
- María López (patient6@): reads everything in Spanish; profile in New York, intake, questionnaires,
  cleared (booking's demo puts her on the waitlist for freed times).
"""

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from concierge.demo import demo_step
from concierge.locking import lock_order_next_use_case
from concierge.services import user_language_set

from . import selectors, services
from .models import (
    ClearanceDecision,
    Diagnosis,
    IntakeResponse,
    IntakeStatus,
    PatientProfile,
    ScreeningResponse,
    WeightUnit,
)

CLINICIAN = "clinician@demo.conciergemd.example"
ALEX = "patient@demo.conciergemd.example"
JORDAN = "patient2@demo.conciergemd.example"
RILEY = "patient3@demo.conciergemd.example"
MARIA = "patient6@demo.conciergemd.example"

BASE_ANSWERS = {
    "hypertension": "no",
    "heart_disease": False,
    "heart_rhythm": False,
    "stroke": False,
    "seizures": False,
    "psychosis": "no",
    "bipolar": "no",
    "medication_trials": 3,
    "other_treatments": ["psychotherapy"],
    "substance_use": "no",
    "alcohol_frequency": "monthly_or_less",
    "alcohol_quantity": "1_2",
    "pregnancy": "not_applicable",
    "liver_disease": False,
    "ketamine_reaction": "never_had",
    "anaesthesia_reaction": False,
    "benzodiazepines": False,
    "opioids": False,
    "maois": False,
    "lamotrigine": False,
    "stimulants": False,
    "medications": "Sertraline 100 mg once a day",
    "has_allergies": False,
    "heart_event_recent": False,
    "aneurysm": "no",
    "head_pressure": False,
    "schizophrenia": False,
    "mania_now": False,
    "ketamine_misuse": False,
    "ketamine_allergy": False,
    "glaucoma": False,
    "thyroid": "no",
}

# (instrument, days ago, item answers)
ALEX_SCREENINGS = [
    ("phq9", 35, [2, 2, 3, 2, 1, 2, 2, 1, 0]),
    ("gad7", 35, [2, 2, 2, 2, 1, 2, 2]),
    ("pcl5", 35, [3, 3, 2, 3, 3, 3, 3, 1, 2, 2, 3, 2, 3, 2, 2, 1, 3, 3, 2, 3]),
    ("phq9", 6, [1, 1, 2, 1, 1, 1, 1, 0, 0]),
    ("gad7", 6, [1, 1, 1, 1, 1, 1, 1]),
    ("pcl5", 6, [2, 1, 1, 2, 2, 2, 2, 1, 1, 1, 2, 1, 2, 1, 1, 0, 2, 2, 1, 2]),
]
JORDAN_SCREENINGS = [
    ("phq9", 2, [2, 3, 2, 2, 2, 2, 1, 1, 0]),
    ("gad7", 2, [3, 3, 2, 2, 1, 2, 2]),
    ("pcl5", 2, [1, 1, 0, 1, 1, 1, 1, 0, 2, 1, 2, 2, 1, 2, 1, 0, 1, 1, 2, 2]),
]


def _profile(user, **fields):
    lock_order_next_use_case()  # each patient's profile as its own use case (concierge/locking.py)
    profile = services.profile_update(patient=user, **fields)
    if profile.terms_accepted_at is None:
        PatientProfile.objects.filter(pk=profile.pk).update(
            terms_accepted_at=profile.created_at, sms_opt_in_changed_at=profile.created_at
        )
    return profile


def _intake(user, answers, days_ago):
    if IntakeResponse.objects.filter(patient=user, status=IntakeStatus.SUBMITTED).exists():
        return
    services.intake_draft_save(patient=user, answers=answers)
    sent = services.intake_submit(patient=user)
    IntakeResponse.objects.filter(pk=sent.pk).update(submitted_at=timezone.now() - timedelta(days=days_ago))


def _screenings(user, rows):
    for index, (instrument, days_ago, answers) in enumerate(rows):
        token = f"demo-{instrument}-{index}"
        if ScreeningResponse.objects.filter(patient=user, form_token=token).exists():
            continue
        when = timezone.now() - timedelta(days=days_ago, hours=2)
        response = services.screening_submit(
            patient=user,
            instrument=instrument,
            item_answers=answers,
            difficulty=1,
            form_token=token,
        )
        ScreeningResponse.objects.filter(pk=response.pk).update(
            started_at=when - timedelta(minutes=4), submitted_at=when, seconds_taken=4 * 60 + 10 * index
        )


@demo_step(order=20)
def seed(users, lines):
    _reopen_closed_demo_accounts(users)
    _seed_alex(users[ALEX], clinician=users[CLINICIAN])
    _seed_jordan(users[JORDAN])
    _seed_riley(users[RILEY])
    _seed_maria(users[MARIA], clinician=users[CLINICIAN])
    lines.append("  patients   Alex Morgan: cleared, 6 infusions planned; Jordan Lee: waiting for review;")
    lines.append("             Riley Park: just signed up; María López: in Spanish, cleared")


def _seed_alex(alex, *, clinician):
    """Alex: profile, intake, questionnaires, and cleared by the clinician for PTSD."""
    _profile(
        alex,
        legal_first_name="Alex",
        legal_last_name="Morgan",
        date_of_birth=date(1986, 5, 14),
        mobile_phone="+12125550143",
        sms_opt_in=True,
        address_line1="350 W 31st St",
        address_line2="Apt 12B",
        city="New York",
        state="NY",
        zip_code="10001",
        weight_kg=Decimal("82.0"),
        weight_unit=WeightUnit.KILOGRAMS,
        emergency_contact_name="Jamie Morgan",
        emergency_contact_phone="+12125550178",
        emergency_contact_relationship="Spouse",
        support_person_name="Jamie Morgan",
        support_person_phone="+12125550178",
    )
    _intake(alex, {**BASE_ANSWERS, "hypertension": "controlled", "bp_systolic": 128, "bp_diastolic": 82}, 40)
    _screenings(alex, ALEX_SCREENINGS)
    consented_and_cleared(
        alex,
        clinician=clinician,
        diagnosis=Diagnosis.PTSD,
        note="Evaluated by video. Blood pressure controlled on lisinopril; check before each infusion.",
    )


def _seed_jordan(jordan):
    """Jordan: profile, intake (a benzodiazepine for review) and questionnaires, no decision yet."""
    _profile(
        jordan,
        legal_first_name="Jordan",
        legal_last_name="Lee",
        date_of_birth=date(1979, 11, 2),
        mobile_phone="+16025550188",
        sms_opt_in=True,
        address_line1="200 W Washington St",
        city="Phoenix",
        state="AZ",
        zip_code="85004",
        weight_kg=Decimal("74.8"),
        weight_unit=WeightUnit.POUNDS,
        emergency_contact_name="Casey Lee",
        emergency_contact_phone="+16025550112",
        emergency_contact_relationship="Sibling",
        support_person_name="Casey Lee",
        support_person_phone="+16025550112",
    )
    _intake(
        jordan,
        {**BASE_ANSWERS, "benzodiazepines": True, "medications": "Clonazepam 0.5 mg at night; bupropion 300 mg"},
        3,
    )
    _screenings(jordan, JORDAN_SCREENINGS)


def _seed_maria(maria, *, clinician):
    """María: Spanish for pages, emails and texts; profile, intake, questionnaires, cleared."""
    user_language_set(user=maria, language="es")
    _profile(
        maria,
        legal_first_name="María",
        legal_last_name="López",
        date_of_birth=date(1983, 2, 17),
        mobile_phone="+12125550166",
        sms_opt_in=True,
        address_line1="520 W 28th St",
        city="New York",
        state="NY",
        zip_code="10001",
        weight_kg=Decimal("64.0"),
        weight_unit=WeightUnit.POUNDS,
        emergency_contact_name="Carlos López",
        emergency_contact_phone="+12125550167",
        emergency_contact_relationship="Esposo",
        support_person_name="Carlos López",
        support_person_phone="+12125550167",
    )
    _intake(maria, BASE_ANSWERS, 12)
    _screenings(maria, JORDAN_SCREENINGS)
    consented_and_cleared(
        maria, clinician=clinician, diagnosis=Diagnosis.MAJOR_DEPRESSION, note="Evaluated by video in Spanish."
    )


def consented_and_cleared(patient, *, clinician, diagnosis, note, valid_days=None):
    """The current consent signed (in the profile's legal name) and an active clearance, each once.

    Returns the active clearance. Used by every demo patient who may book infusions (nurses' too).
    """
    if not selectors.consent_signed_current(patient=patient):
        profile = patient.patient_profile
        document = selectors.consent_current() or services.consent_first_version_ensure()
        text = selectors.consent_text_for(document=document, language=patient.language)
        assert text is not None  # a published version has a text in every language
        services.consent_sign(
            patient=patient,
            text=text,
            typed_name=f"{profile.legal_first_name} {profile.legal_last_name}",
            agreed=True,
        )
    clearance = selectors.clearance_active_for(patient=patient)
    if clearance is None:
        clearance = services.clearance_record(
            patient=patient,
            clinician=clinician,
            diagnosis=diagnosis,
            decision=ClearanceDecision.CLEARED,
            note=note,
            expires_on=timezone.localdate() + timedelta(days=valid_days or settings.CLEARANCE_DEFAULT_VALID_DAYS),
        )
    return clearance


def _seed_riley(riley):
    """Riley signed up a moment ago: date of birth and terms, nothing else."""
    profile, created = PatientProfile.objects.get_or_create(
        user=riley, defaults={"date_of_birth": date(1995, 8, 21), "terms_accepted_at": timezone.now()}
    )
    if created:
        profile.sms_opt_in_changed_at = profile.terms_accepted_at
        profile.save(update_fields=["sms_opt_in_changed_at"])


def _reopen_closed_demo_accounts(users):
    """Someone tried "close my account" on a demo patient: the next seed opens it again."""
    admin = users["admin@demo.conciergemd.example"]
    closed = PatientProfile.objects.filter(user__in=users.values(), account_closed_at__isnull=False)
    for profile in closed.select_related("user"):
        services.patient_account_reopen(patient=profile.user, actor=admin)
