"""A clinic-sized data set for the page benchmark: the demo, then a year of a busy clinic on top.

The demo (`seed_demo`, through the project's own services) gives the logins every page needs:
Alex (a cleared patient in New York who books), Maya (a nurse with visits today) and the admin.
On top of it, in bulk (history cannot be booked through the services, and 10,000 bookings one by
one would take longer than the benchmark):

- 51 nurses in the demo's New York area, licensed in New York, working every day 8:00-18:00,
  homes spread over Manhattan;
- 1,000 patients with complete profiles and a clearance;
- 10,000 visits of those nurses: four a day each over 50 days, from 35 days ago (completed) to
  two weeks ahead (confirmed), with the travel blocks their routes give them, and one
  succeeded payment each;
- 70,000 outbox rows: seven messages a visit (sent for the past, pending for the future).

So 54 nurses, 1,005 patients, about 10,014 visits, 10,013 payments and 70,088 outbox rows, the
shape measured in issue 17.
"""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from booking.models import Service, ServiceArea, Visit, VisitStatus
from concierge.demo import seed_demo
from concierge.models import User
from notifications.models import Channel, Message, MessageStatus
from patients.models import Clearance, ClearanceDecision, PatientProfile
from payments.models import Payment, PaymentStatus
from roster.models import Licence, Provider, ProviderKind, WeeklyShift

NY = ZoneInfo("America/New_York")
NURSES = 51
PATIENTS = 1000
DAYS_BACK = 35
DAYS_AHEAD = 15  # with today: 50 days
VISITS_PER_DAY = 4
MESSAGES_PER_VISIT = 7
HOME_ZIPS = ["10001", "10011", "10003", "10016", "10019", "10024", "10028", "10036"]
VISIT_ZIPS = ["10002", "10010", "10014", "10017", "10022", "10025", "10029", "10065"]
# One-hour visits through the morning: the afternoons stay free for the searches to find.
STARTS = [time(8, 30), time(10), time(11, 30), time(13)]
PATIENT = "patient@demo.conciergemd.example"
NURSE = "nurse@demo.conciergemd.example"
ADMIN = "admin@demo.conciergemd.example"


def build(*, nurses: int = NURSES) -> dict[str, int]:
    """Seed the demo and the clinic on top of it; returns the row counts."""
    with transaction.atomic():
        seed_demo()
        password = make_password(None)
        service = Service.objects.get(code="home-infusion")
        area = ServiceArea.objects.get(name="New York City")
        providers = _nurses(nurses, password)
        area.providers.add(*providers)
        patients = _patients(PATIENTS, password)
        visits = _visits(service, providers, patients)
        _payments(visits)
        _messages(visits)
    return {
        "nurses": Provider.objects.filter(kind=ProviderKind.NURSE).count(),
        "patients": PatientProfile.objects.count(),
        "visits": Visit.objects.count(),
        "payments": Payment.objects.count(),
        "outbox": Message.objects.count(),
    }


def _nurses(count: int, password: str) -> list[Provider]:
    group = Group.objects.get(name="nurse")
    users = User.objects.bulk_create(
        [
            User(email=f"clinic-nurse-{i}@example.com", first_name="Nurse", last_name=f"N{i}", password=password)
            for i in range(count)
        ]
    )
    User.groups.through.objects.bulk_create([User.groups.through(user=u, group=group) for u in users])
    providers = Provider.objects.bulk_create(
        [
            Provider(
                user=user,
                kind=ProviderKind.NURSE,
                home_zip=HOME_ZIPS[i % len(HOME_ZIPS)],
                time_zone="America/New_York",
                max_visits_per_day=VISITS_PER_DAY + 2,
            )
            for i, user in enumerate(users)
        ]
    )
    Licence.objects.bulk_create(
        [
            Licence(provider=p, state="NY", licence_type="RN", number=f"RN-C{p.pk}", expires_on=date(2099, 1, 1))
            for p in providers
        ]
    )
    WeeklyShift.objects.bulk_create(
        [WeeklyShift(provider=p, weekday=d, start_time=time(8), end_time=time(18)) for p in providers for d in range(7)]
    )
    return providers


def _patients(count: int, password: str) -> list[User]:
    group = Group.objects.get(name="patient")
    clinician = User.objects.get(email="clinician@demo.conciergemd.example")
    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(email=f"clinic-patient-{i}@example.com", first_name="Pat", last_name=f"P{i}", password=password)
            for i in range(count)
        ]
    )
    User.groups.through.objects.bulk_create([User.groups.through(user=u, group=group) for u in users])
    PatientProfile.objects.bulk_create(
        [
            PatientProfile(
                user=u,
                legal_first_name="Pat",
                legal_last_name=f"P{i}",
                preferred_name="Pat",
                date_of_birth=date(1980, 1, 1) + timedelta(days=i),
                mobile_phone=f"+1212555{i:04d}",
                terms_accepted_at=now,
                sms_opt_in=True,
                sms_opt_in_changed_at=now,
                address_line1=f"{i + 1} Bench Street",
                city="New York",
                state="NY",
                zip_code=VISIT_ZIPS[i % len(VISIT_ZIPS)],
                time_zone="America/New_York",
                weight_kg=Decimal("75.0"),
                emergency_contact_name="Robin Quinn",
                emergency_contact_phone="+12125550178",
                support_person_name="Robin Quinn",
                support_person_phone="+12125550178",
            )
            for i, u in enumerate(users)
        ]
    )
    Clearance.objects.bulk_create(
        [
            Clearance(
                patient=u,
                clinician=clinician,
                diagnosis="major_depression",
                decision=ClearanceDecision.CLEARED,
                expires_on=now.date() + timedelta(days=180),
            )
            for u in users
        ]
    )
    return users


def _visits(service: Service, providers: list[Provider], patients: list[User]) -> list[Visit]:
    """Four one-hour visits a day for each nurse; a patient is never in two visits on one day."""
    now = timezone.now()
    today = now.astimezone(NY).date()
    rows = []
    n = 0
    for d in range(-DAYS_BACK, DAYS_AHEAD):
        day = today + timedelta(days=d)
        for i, provider in enumerate(providers[: 10000 // (VISITS_PER_DAY * (DAYS_BACK + DAYS_AHEAD))]):
            for k, start in enumerate(STARTS):
                starts_at = datetime.combine(day, start, tzinfo=NY)
                ends_at = starts_at + timedelta(minutes=60)
                done = ends_at < now
                rows.append(
                    Visit(
                        patient=patients[n % len(patients)],
                        service=service,
                        provider=provider,
                        status=VisitStatus.COMPLETED if done else VisitStatus.CONFIRMED,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        blocked_from=starts_at - timedelta(minutes=30),
                        blocked_until=ends_at,
                        time_zone="America/New_York",
                        state="NY",
                        city="New York",
                        address_line1=f"{n % len(patients) + 1} Bench Street",
                        zip_code=VISIT_ZIPS[(i + k) % len(VISIT_ZIPS)],
                        price_cents=45000,
                        amount_due_cents=10000,
                        confirmed_at=starts_at - timedelta(days=7),
                    )
                )
                n += 1
    return Visit.objects.bulk_create(rows, batch_size=2000)


def _payments(visits: list[Visit]) -> None:
    Payment.objects.bulk_create(
        [
            Payment(
                patient_id=v.patient_id,
                visit=v,
                amount_cents=v.price_cents,
                status=PaymentStatus.SUCCEEDED,
                gateway="fake",
                intent_id=f"pi_clinic_{v.pk}",
                succeeded_at=v.starts_at - timedelta(days=7),
            )
            for v in visits
        ],
        batch_size=2000,
    )


def _messages(visits: list[Visit]) -> None:
    now = timezone.now()
    kinds = [
        ("confirmation", Channel.EMAIL, timedelta(days=-7)),
        ("confirmation", Channel.SMS, timedelta(days=-7)),
        ("prep_72h", Channel.EMAIL, timedelta(days=-3)),
        ("reminder_24h", Channel.EMAIL, timedelta(days=-1)),
        ("reminder_24h", Channel.SMS, timedelta(days=-1)),
        ("reminder_2h", Channel.EMAIL, timedelta(hours=-2)),
        ("reminder_2h", Channel.SMS, timedelta(hours=-2)),
    ][:MESSAGES_PER_VISIT]
    rows = []
    for v in visits:
        for template, channel, offset in kinds:
            due = v.starts_at + offset
            sent = due < now
            rows.append(
                Message(
                    channel=channel,
                    recipient_id=v.patient_id,
                    to_address=f"clinic-{v.patient_id}@example.com" if channel == Channel.EMAIL else "+12125550100",
                    template=template,
                    visit=v,
                    unique_key=f"clinic:{template}:{channel}:{v.pk}",
                    due_at=due,
                    status=MessageStatus.SENT if sent else MessageStatus.PENDING,
                    sent_at=due if sent else None,
                    attempts=1 if sent else 0,
                )
            )
    Message.objects.bulk_create(rows, batch_size=5000)


def patient_day(offset: int = 2) -> date:
    """A day the browsing patient can book (past the notice), in New York."""
    return datetime.now(UTC).astimezone(NY).date() + timedelta(days=offset)
