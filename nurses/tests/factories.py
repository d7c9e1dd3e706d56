"""Factories for the nurse's day: a New York nurse, cleared patients with an intake, visits today."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from booking.models import VisitStatus
from booking.tests.factories import ProviderFactory, ServiceFactory, VisitFactory
from concierge.tests.factories import UserFactory
from patients.models import Clearance, ClearanceDecision, PatientProfile
from patients.tests.factories import PatientProfileFactory, consent_signed, sent_intake

ADDRESSES = {
    "10001": ("350 W 31st St", "New York", "NY"),
    "10011": ("75 9th Ave", "New York", "NY"),
    "10003": ("80 St Marks Pl", "New York", "NY"),
}


def patient_with_plan(user=None, *, zip_code="10011", weight_kg="80.0", mg_per_kg="0.50", minutes=40, **intake):
    """A patient with a complete profile, a sent intake (`intake` changes the clean answers) and a plan."""
    user = user or UserFactory(role="patient")
    line1, city, state = ADDRESSES[zip_code]
    PatientProfileFactory(
        user=user,
        preferred_name=user.first_name or "Pat",
        address_line1=line1,
        city=city,
        state=state,
        zip_code=zip_code,
        weight_kg=Decimal(weight_kg),
    )
    PatientProfile.objects.filter(user=user).update(
        address_line1=line1, city=city, state=state, zip_code=zip_code, weight_kg=Decimal(weight_kg)
    )
    sent_intake(user, **intake)
    consent_signed(user)
    clearance = Clearance.objects.create(
        patient=user,
        clinician=UserFactory(role="clinician"),
        diagnosis="ptsd",
        decision=ClearanceDecision.CLEARED,
        dose_mg_per_kg=Decimal(mg_per_kg),
        infusion_minutes=minutes,
        expires_on=timezone.localdate() + timedelta(days=180),
        note="Check blood pressure before each infusion.",
    )
    return user, clearance


__all__ = ["ProviderFactory", "patient_with_plan", "visit_for"]


def visit_for(provider, patient, clearance, starts_at, *, status=VisitStatus.CONFIRMED, minutes=120):
    profile = patient.patient_profile
    return VisitFactory(
        patient=patient,
        provider=provider,
        clearance=clearance,
        service=ServiceFactory(),
        status=status,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        address_line1=profile.address_line1,
        city=profile.city,
        state=profile.state,
        zip_code=profile.zip_code,
    )
