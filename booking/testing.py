"""Large rosters for the query-count tests and the benchmark (bench/availability.py).

`build_roster(nurses=50, days=14, visits_per_day=4)` makes a New York area, that many nurses
working Mon-Sun 8:00-18:00, and `visits_per_day` confirmed home visits for each nurse on each day
(written in bulk, with the blocks the route gives them), plus one cleared patient who books.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from concierge.models import User
from roster.models import Licence, Provider, ProviderKind, WeeklyShift

from . import services
from .models import Service, ServiceArea, ServiceKind, Visit, VisitStatus

NY = ZoneInfo("America/New_York")
HOME_ZIPS = ["10001", "10011", "10003", "10016", "10019", "10024", "10028", "10036"]
VISIT_ZIPS = ["10002", "10010", "10014", "10017", "10022", "10025", "10029", "10065"]


def infusion_service() -> Service:
    service, _ = Service.objects.get_or_create(
        code="bench-infusion",
        defaults={
            "name": "Home infusion",
            "kind": ServiceKind.INFUSION,
            "delivered_by": ProviderKind.NURSE,
            "price_cents": 45000,
            "deposit_cents": 10000,
        },
    )
    return service


def build_roster(
    *, nurses: int, days: int, first_day: date, visits_per_day: int = 4, prefix: str = "bench"
) -> tuple[Service, list[Provider]]:
    """Nurses with weekly shifts and licences, and their visits on `days` days from `first_day`."""
    service = infusion_service()
    area, _ = ServiceArea.objects.get_or_create(
        name=f"{prefix} New York", defaults={"state": "NY", "base_zip": "10001", "radius_miles": 15}
    )
    area.services.add(service)
    password = make_password(None)
    providers = _nurses(nurses, prefix=prefix, password=password, max_visits_per_day=visits_per_day + 2)
    area.providers.add(*providers)
    # One patient per nurse holds that nurse's visits (a patient is never in two visits at once).
    patients = User.objects.bulk_create(
        [User(email=f"{prefix}-patient-{i}@example.com", password=password) for i in range(nurses)]
    )
    visits = _visits(service, providers, patients, days=days, first_day=first_day, visits_per_day=visits_per_day)
    Visit.objects.bulk_create(visits, batch_size=2000)
    return service, providers


def _nurses(count: int, *, prefix: str, password: str, max_visits_per_day: int) -> list[Provider]:
    """Nurses licensed in New York, working Mon-Sun 8:00-18:00, homes spread over Manhattan."""
    users = User.objects.bulk_create(
        [
            User(email=f"{prefix}-nurse-{i}@example.com", first_name="Nurse", last_name=str(i), password=password)
            for i in range(count)
        ]
    )
    providers = Provider.objects.bulk_create(
        [
            Provider(
                user=user,
                kind=ProviderKind.NURSE,
                home_zip=HOME_ZIPS[i % len(HOME_ZIPS)],
                time_zone="America/New_York",
                max_visits_per_day=max_visits_per_day,
            )
            for i, user in enumerate(users)
        ]
    )
    Licence.objects.bulk_create(
        [
            Licence(provider=p, state="NY", licence_type="RN", number=f"RN{p.pk}", expires_on=date(2099, 1, 1))
            for p in providers
        ]
    )
    WeeklyShift.objects.bulk_create(
        [WeeklyShift(provider=p, weekday=d, start_time=time(8), end_time=time(18)) for p in providers for d in range(7)]
    )
    return providers


def _visits(
    service: Service,
    providers: list[Provider],
    patients: list[User],
    *,
    days: int,
    first_day: date,
    visits_per_day: int,
) -> list[Visit]:
    """Each nurse's confirmed visits, unsaved, with the blocks the route gives them."""
    visits = []
    # One-hour visits through the morning; the afternoon stays free for the searches to find.
    starts = [time(8, 30), time(10), time(11, 30), time(13), time(16, 30), time(7)][:visits_per_day]
    for i, (provider, patient) in enumerate(zip(providers, patients, strict=True)):
        for d in range(days):
            day = first_day + timedelta(days=d)
            for k, start in enumerate(starts):
                starts_at = datetime.combine(day, start, tzinfo=NY)
                visits.append(
                    Visit(
                        patient=patient,
                        service=service,
                        provider=provider,
                        status=VisitStatus.CONFIRMED,
                        starts_at=starts_at,
                        ends_at=starts_at + timedelta(minutes=60),
                        blocked_from=starts_at - timedelta(minutes=30),
                        blocked_until=starts_at + timedelta(minutes=60),
                        time_zone="America/New_York",
                        state="NY",
                        zip_code=VISIT_ZIPS[(i + k) % len(VISIT_ZIPS)],
                        price_cents=45000,
                        amount_due_cents=10000,
                        confirmed_at=timezone.now(),
                    )
                )
    return visits


def first_free_start(*, patient: User, service: Service, first_day: date, days: int = 14) -> datetime:
    """The first time this patient could book this service from `first_day` on (the pages' own search)."""
    ctx = services.booking_context(patient=patient, service=service)
    return ctx.slots(first_day=first_day, last_day=first_day + timedelta(days=days))[0].starts_at
