import uuid
from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from concierge.tests.factories import UserFactory
from patients import selectors, services
from patients.models import PatientProfile

# Answers to every intake question that fire no triage rule at all.
CLEAN_ANSWERS = {
    "hypertension": "no",
    "heart_disease": False,
    "heart_rhythm": False,
    "stroke": False,
    "seizures": False,
    "psychosis": "no",
    "bipolar": "no",
    "medication_trials": 3,
    "substance_use": "no",
    "alcohol_frequency": "never",
    "pregnancy": "no",
    "liver_disease": False,
    "ketamine_reaction": "never_had",
    "anaesthesia_reaction": False,
    "benzodiazepines": False,
    "opioids": False,
    "maois": False,
    "lamotrigine": False,
    "stimulants": False,
    "medications": "none",
    "has_allergies": False,
    # intake 2026.2 (issue 15)
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


class PatientProfileFactory(factory.django.DjangoModelFactory):
    """A complete profile (everything booking needs) in New York."""

    class Meta:
        model = PatientProfile
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory, role="patient")
    legal_first_name = "Pat"
    legal_last_name = "Quinn"
    date_of_birth = date(1985, 3, 9)
    mobile_phone = "+12125550143"
    terms_accepted_at = factory.LazyFunction(timezone.now)
    sms_opt_in = True
    sms_opt_in_changed_at = factory.LazyFunction(timezone.now)
    address_line1 = "350 W 31st St"
    city = "New York"
    state = "NY"
    zip_code = "10001"
    time_zone = "America/New_York"
    weight_kg = Decimal("80.0")
    emergency_contact_name = "Robin Quinn"
    emergency_contact_phone = "+12125550178"
    support_person_name = "Robin Quinn"
    support_person_phone = "+12125550178"


def sent_intake(patient, **changes):
    """A sent intake version for this patient: clean answers with `changes` on top (None removes)."""
    answers = {**CLEAN_ANSWERS, **changes}
    answers = {k: v for k, v in answers.items() if v is not None}
    services.intake_draft_save(patient=patient, answers=answers)
    return services.intake_submit(patient=patient)


def screening(patient, instrument="phq9", answers=None, token=None, **kwargs):
    from patients.instruments import INSTRUMENTS

    answers = answers if answers is not None else [0] * len(INSTRUMENTS[instrument].items)
    return services.screening_submit(
        patient=patient,
        instrument=instrument,
        item_answers=answers,
        form_token=token or uuid.uuid4().hex,
        **kwargs,
    )


def licensed(clinician, state="NY"):
    """Give the clinician a provider profile and a licence in `state` valid for a year."""
    from roster import services as roster

    provider = roster.provider_save(user=clinician, kind="clinician", home_zip="10001")
    roster.licence_save(
        provider=provider,
        state=state,
        licence_type="MD",
        number=f"{state}-MD-1",
        expires_on=timezone.localdate() + timedelta(days=365),
    )
    return clinician


def consent_signed(patient, document=None):
    """The patient signed the current consent version (issue 15), as on the consent page: the text
    in their language (issue 19)."""
    from patients.models import ConsentSignature

    document = document or services.consent_first_version_ensure()
    text = selectors.consent_text_for(document=document, language=patient.language)
    profile = PatientProfile.objects.filter(user=patient).first()
    name = f"{profile.legal_first_name} {profile.legal_last_name}" if profile else patient.get_full_name()
    signature, _created = ConsentSignature.objects.get_or_create(
        patient=patient,
        document=document,
        defaults={"typed_name": name or "Patient", "agreed": True, "language": text.language},
    )
    return signature


def consent_version(version, texts=None):
    """A draft consent version with a text per language (issue 19): {language: (title, body)},
    by default one in every patient language."""
    from django.conf import settings

    from patients.models import ConsentDocument, ConsentText

    if texts is None:
        texts = {code: (f"Consent ({code})", f"New text ({code}).") for code, _name in settings.LANGUAGES}
    document = ConsentDocument.objects.create(version=version)
    for language, (title, body) in texts.items():
        ConsentText.objects.create(document=document, language=language, title=title, body=body)
    return document


def cleared(patient, clinician, **plan):
    """Patient has a sent intake (if none yet), has signed the consent (unless consent=False) and
    an active clearance by this clinician (licensed in the patient's state)."""
    from patients.models import IntakeResponse

    if not IntakeResponse.objects.filter(patient=patient, status="submitted").exists():
        sent_intake(patient)
    profile = PatientProfile.objects.filter(user=patient).first()
    licensed(clinician, profile.state if profile and profile.state else "NY")
    if plan.pop("consent", True):
        consent_signed(patient)
    return services.clearance_record(
        patient=patient,
        clinician=clinician,
        diagnosis=plan.pop("diagnosis", "ptsd"),
        decision=plan.pop("decision", "cleared"),
        expires_on=plan.pop("expires_on", timezone.localdate() + timedelta(days=90)),
        **plan,
    )
