"""Demo data for the nurses app, a step of `manage.py seed_demo` (the roster itself is roster/demo.py).

`seed_today(users, lines)`: users maps the demo emails to User rows; it appends a line to `lines`
for what it made. Idempotent: running it twice gives the same data.

`seed_today` runs after booking's demo: Maya Chen's day. Two cleared New York
patients of her own (Taylor Brooks, with allergies, and Robin Hart, on a benzodiazepine) have a
CONFIRMED home infusion TODAY in New York time, at 9:00 and 12:00, so that the nurse's pages show a
real day. The visits are written like booking writes them (route blocks, plan, price, address);
booking's services cannot place them because a patient books at least 12 hours ahead. Alex
Morgan's visits stay as booking's demo made them. Run twice the same day, it adds nothing.
"""

import logging
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.availability import TravelCache, route_blocks
from booking.models import Service, Visit
from concierge.demo import demo_step
from patients import demo as patients_demo
from patients import services as patient_services
from patients.models import Diagnosis, IntakeResponse, IntakeStatus
from roster.models import Provider

logger = logging.getLogger(__name__)

NURSE = "nurse@demo.conciergemd.example"
CLINICIAN = "clinician@demo.conciergemd.example"
NEW_YORK = ZoneInfo("America/New_York")

# email, profile, intake changes, start (New York wall clock)
TODAY_PATIENTS = [
    (
        "patient4@demo.conciergemd.example",
        {
            "legal_first_name": "Taylor",
            "legal_last_name": "Brooks",
            "date_of_birth": date(1990, 2, 11),
            "mobile_phone": "+12125550151",
            "address_line1": "75 9th Ave",
            "address_line2": "Apt 4F",
            "city": "New York",
            "state": "NY",
            "zip_code": "10011",
            "weight_kg": Decimal("68.5"),
            "weight_unit": "lb",
            "emergency_contact_name": "Morgan Brooks",
            "emergency_contact_phone": "+12125550152",
            "emergency_contact_relationship": "Partner",
            "support_person_name": "Morgan Brooks",
            "support_person_phone": "+12125550152",
        },
        {
            "hypertension": "controlled",
            "bp_systolic": 132,
            "bp_diastolic": 84,
            "has_allergies": True,
            "allergies": "Latex (hives); adhesive tape (rash)",
            "medications": "Amlodipine 5 mg once a day; escitalopram 10 mg",
        },
        time(9),
    ),
    (
        "patient5@demo.conciergemd.example",
        {
            "legal_first_name": "Robin",
            "preferred_name": "Rob",
            "legal_last_name": "Hart",
            "date_of_birth": date(1982, 9, 30),
            "mobile_phone": "+12125550153",
            "address_line1": "80 St Marks Pl",
            "address_line2": "Apt 3",
            "city": "New York",
            "state": "NY",
            "zip_code": "10003",
            "weight_kg": Decimal("91.2"),
            "weight_unit": "kg",
            "emergency_contact_name": "Avery Hart",
            "emergency_contact_phone": "+12125550154",
            "emergency_contact_relationship": "Sibling",
            "support_person_name": "Avery Hart",
            "support_person_phone": "+12125550154",
        },
        {"benzodiazepines": True, "medications": "Lorazepam 0.5 mg when needed; sertraline 150 mg"},
        time(12),
    ),
]


def _cleared_patient(user, profile_fields, intake_changes, clinician):
    """Profile, sent intake and clearance through the patients app's own services (once)."""
    patient_services.profile_update(patient=user, sms_opt_in=True, **profile_fields)
    profile = user.patient_profile
    if profile.terms_accepted_at is None:
        type(profile).objects.filter(pk=profile.pk).update(
            terms_accepted_at=profile.created_at, sms_opt_in_changed_at=profile.created_at
        )
    if not IntakeResponse.objects.filter(patient=user, status=IntakeStatus.SUBMITTED).exists():
        patient_services.intake_draft_save(patient=user, answers={**patients_demo.BASE_ANSWERS, **intake_changes})
        sent = patient_services.intake_submit(patient=user)
        IntakeResponse.objects.filter(pk=sent.pk).update(submitted_at=timezone.now() - timedelta(days=12))
    return patients_demo.consented_and_cleared(
        user,
        clinician=clinician,
        diagnosis=Diagnosis.MAJOR_DEPRESSION,
        note="Evaluated by video. Check blood pressure before each infusion.",
        valid_days=90,
    )


@demo_step(order=40)
def seed_today(users, lines):
    nurse = Provider.objects.filter(user=users[NURSE]).first()
    service = Service.objects.filter(code="home-infusion").first()
    if nurse is None or service is None:
        return
    clearances = {
        email: _cleared_patient(users[email], profile, intake_changes, users[CLINICIAN])
        for email, profile, intake_changes, _start in TODAY_PATIENTS
    }
    today = timezone.now().astimezone(NEW_YORK).date()
    day_start = datetime.combine(today, time(0), tzinfo=NEW_YORK)
    if Visit.objects.filter(
        provider=nurse, starts_at__gte=day_start, starts_at__lt=day_start + timedelta(days=1)
    ).exists():
        return  # seeded earlier today (or the day already has visits)
    visits = []
    for email, _profile, _intake, start in TODAY_PATIENTS:
        user, clearance = users[email], clearances[email]
        profile = user.patient_profile
        starts_at = datetime.combine(today, start, tzinfo=NEW_YORK)
        visits.append(
            Visit(
                patient=user,
                service=service,
                provider=nurse,
                clearance=clearance,
                status="confirmed",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=service.visit_minutes(clearance.infusion_minutes)),
                time_zone=profile.time_zone,
                address_line1=profile.address_line1,
                address_line2=profile.address_line2,
                city=profile.city,
                state=profile.state,
                zip_code=profile.zip_code,
                price_cents=service.price_cents,
                amount_due_cents=service.deposit_cents or service.price_cents,
                confirmed_at=timezone.now(),
            )
        )
    blocks = route_blocks(
        visits=[(v.starts_at, v.ends_at, v.zip_code, False) for v in visits],
        home_zip=nurse.home_zip,
        travel=TravelCache(),
    )
    try:
        with transaction.atomic():
            for visit, (blocked_from, blocked_until) in zip(visits, blocks, strict=True):
                visit.blocked_from, visit.blocked_until = blocked_from, blocked_until
                visit.full_clean()
                visit.save()
    except IntegrityError:
        logger.info("demo: the nurse's day could not be seeded (times taken)")
        return
    lines.append(f"  nurses: Maya Chen has {len(visits)} home visits today ({today:%a %b %-d}, New York)")
