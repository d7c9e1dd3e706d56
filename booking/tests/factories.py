"""Factories for booking and the roster. Patients' profiles and clearances are built here too
(booking's own copies, so these tests do not depend on the patients app's factories)."""

from datetime import date, time, timedelta

import factory
from django.apps import apps
from django.utils import timezone

from booking.models import Service, ServiceArea, ServiceKind, Visit, VisitStatus
from concierge.geo import zip_lookup
from concierge.tests.factories import UserFactory
from patients.models import Clearance, ClearanceDecision, PatientProfile
from roster.models import DateOverride, Licence, Provider, ProviderKind, TimeOff, WeeklyShift

FAR_FUTURE = date(2099, 12, 31)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("code",)

    code = "home-infusion"
    name = "Home infusion"
    kind = ServiceKind.INFUSION
    delivered_by = ProviderKind.NURSE
    is_telehealth = False
    setup_minutes = 20
    default_infusion_minutes = 40
    observation_minutes = 60
    price_cents = 45000
    deposit_cents = 10000


class EvaluationFactory(ServiceFactory):
    code = "evaluation"
    name = "Telehealth evaluation"
    kind = ServiceKind.EVALUATION
    delivered_by = ProviderKind.CLINICIAN
    is_telehealth = True
    duration_minutes = 45
    price_cents = 15000
    deposit_cents = 0


class ServiceAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceArea
        skip_postgeneration_save = True

    name = "New York City"
    state = "NY"
    base_zip = "10001"
    radius_miles = 15

    @factory.post_generation
    def services(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.services.add(*extracted)

    @factory.post_generation
    def providers(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.providers.add(*extracted)


class ProviderFactory(factory.django.DjangoModelFactory):
    """A nurse in New York (base 10001), NY RN licence, Mon-Sat 8:00-18:00, four visits a day."""

    class Meta:
        model = Provider
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role="nurse")
    kind = ProviderKind.NURSE
    home_zip = "10001"
    time_zone = factory.LazyAttribute(lambda o: zip_lookup(o.home_zip).time_zone)
    max_visits_per_day = 4

    @factory.post_generation
    def licence_states(obj, create, extracted, **kwargs):
        if not create:
            return
        for state in extracted if extracted is not None else [zip_lookup(obj.home_zip).state]:
            Licence.objects.create(
                provider=obj, state=state, licence_type="RN", number=f"RN-{obj.pk}-{state}", expires_on=FAR_FUTURE
            )

    @factory.post_generation
    def shifts(obj, create, extracted, **kwargs):
        if not create:
            return
        hours = extracted if extracted is not None else {d: [(time(8), time(18))] for d in range(6)}
        for weekday, blocks in hours.items():
            for start, end in blocks:
                WeeklyShift.objects.create(provider=obj, weekday=weekday, start_time=start, end_time=end)


def clinician_provider(**kwargs):
    kwargs.setdefault("user", UserFactory(role="clinician"))
    kwargs.setdefault("licence_states", ["NY", "AZ"])
    return ProviderFactory(kind=ProviderKind.CLINICIAN, **kwargs)


def day_off(provider, day, note="off"):
    return DateOverride.objects.create(provider=provider, date=day, note=note)


def time_off(provider, starts_at, ends_at):
    return TimeOff.objects.create(provider=provider, starts_at=starts_at, ends_at=ends_at)


ADDRESSES = {
    "10001": ("350 5th Ave", "New York", "NY"),
    "10011": ("75 9th Ave", "New York", "NY"),
    "85004": ("200 W Washington St", "Phoenix", "AZ"),
    "90012": ("200 N Spring St", "Los Angeles", "CA"),
    "07030": ("94 Washington St", "Hoboken", "NJ"),
}


def patient_profile(user, zip_code="10001", **overrides):
    """A complete profile (everything booking needs) at a real address for the ZIP."""
    line1, city, state = ADDRESSES[zip_code]
    values = {
        "legal_first_name": user.first_name or "Pat",
        "legal_last_name": "Example",
        "preferred_name": user.first_name or "Pat",
        "date_of_birth": date(1985, 5, 17),
        "mobile_phone": "+12125550123",
        "sms_opt_in": True,
        "address_line1": line1,
        "city": city,
        "state": state,
        "zip_code": zip_code,
        "weight_kg": 72,
        "emergency_contact_name": "Sam Example",
        "emergency_contact_phone": "+12125550124",
        "emergency_contact_relationship": "Sibling",
        "support_person_name": "Robin Example",
        "support_person_phone": "+12125550125",
        **overrides,
    }
    profile, _ = PatientProfile.objects.update_or_create(user=user, defaults=values)
    profile.full_clean()
    profile.save()
    _sent_intake(user)
    return profile


def _sent_intake(user):
    """Eligibility needs a sent intake (patients app); made directly so as not to use its factories."""
    try:
        intake_model = apps.get_model("patients", "IntakeResponse")
    except LookupError:
        return
    if not intake_model.objects.filter(patient=user, status="submitted").exists():
        intake_model.objects.create(
            patient=user, status="submitted", version=1, questionnaire_version="test", submitted_at=timezone.now()
        )


def clearance(patient, clinician=None, **overrides):
    values = {
        "diagnosis": "ptsd",
        "decision": ClearanceDecision.CLEARED,
        "infusions_planned": 6,
        "infusion_minutes": 40,
        "min_hours_between": 48,
        "series_window_days": 21,
        "expires_on": timezone.localdate() + timedelta(days=180),
        **overrides,
    }
    consent = values.pop("consent", True)
    if consent and values["decision"] == ClearanceDecision.CLEARED:
        from patients.tests.factories import consent_signed

        consent_signed(patient)  # issue 15: infusions need the consent signed too
    return Clearance.objects.create(patient=patient, clinician=clinician or UserFactory(role="clinician"), **values)


def cleared_patient(user, zip_code="10001", **clearance_overrides):
    patient_profile(user, zip_code)
    clearance(user, **clearance_overrides)
    return user


class VisitFactory(factory.django.DjangoModelFactory):
    """A confirmed two-hour home visit in New York (written directly, for set-ups and benchmarks)."""

    class Meta:
        model = Visit

    patient = factory.SubFactory(UserFactory, role="patient")
    service = factory.SubFactory(ServiceFactory)
    provider = None
    status = VisitStatus.CONFIRMED
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=2))
    blocked_from = factory.LazyAttribute(lambda o: o.starts_at)
    blocked_until = factory.LazyAttribute(lambda o: o.ends_at)
    time_zone = "America/New_York"
    address_line1 = "350 5th Ave"
    city = "New York"
    state = "NY"
    zip_code = "10001"
    price_cents = 45000
    amount_due_cents = 10000
