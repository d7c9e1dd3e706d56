"""Demo data for the booking app, called by `manage.py seed_demo` after the demo users exist.

`seed(users, lines)`: users maps the demo emails to User rows; append a line to `lines` for each
thing worth printing. Must be idempotent: running it twice gives the same data.

Services (evaluation $150 by video; home infusion and booster $450 with a $100 deposit), two
areas in different time zones (New York City around 10001, 15 miles; Phoenix around 85004, 25
miles), and, once the patients' demo has cleared Alex Morgan, two confirmed infusions for Alex
and a video evaluation for Jordan Lee, booked through the same services as the pages.
"""

import logging
from datetime import timedelta

from django.utils import timezone

from concierge.errors import ApplicationError
from roster.models import Provider, ProviderKind

from . import selectors, services
from .availability import zone
from .models import BLOCKING_STATUSES, Service, ServiceArea, ServiceKind, Visit

logger = logging.getLogger(__name__)

SERVICES = [
    # code, name, kind, delivered by, by video, price, deposit
    ("evaluation", "Telehealth evaluation", ServiceKind.EVALUATION, ProviderKind.CLINICIAN, True, 15000, 0),
    ("home-infusion", "Home infusion", ServiceKind.INFUSION, ProviderKind.NURSE, False, 45000, 10000),
    ("booster", "Booster infusion", ServiceKind.BOOSTER, ProviderKind.NURSE, False, 45000, 10000),
]

AREAS = [
    # name, state, base ZIP, radius, provider emails
    (
        "New York City",
        "NY",
        "10001",
        15,
        ["nurse@demo.conciergemd.example", "nurse3@demo.conciergemd.example", "clinician@demo.conciergemd.example"],
    ),
    ("Phoenix", "AZ", "85004", 25, ["nurse2@demo.conciergemd.example", "clinician@demo.conciergemd.example"]),
]

ALEX = "patient@demo.conciergemd.example"
JORDAN = "patient2@demo.conciergemd.example"


def _services():
    rows = {}
    for code, name, kind, delivered_by, telehealth, price, deposit in SERVICES:
        service = Service.objects.filter(code=code).first() or Service(code=code)
        service.name, service.kind, service.delivered_by, service.is_telehealth = name, kind, delivered_by, telehealth
        service.price_cents, service.deposit_cents, service.duration_minutes = price, deposit, 45
        service.setup_minutes, service.default_infusion_minutes, service.observation_minutes = 20, 40, 60
        service.is_active = True
        service.full_clean()
        service.save()
        rows[code] = service
    return rows


def _areas(users, services_by_code):
    for name, state, base_zip, radius, emails in AREAS:
        area = ServiceArea.objects.filter(name=name).first() or ServiceArea(name=name)
        area.state, area.base_zip, area.radius_miles, area.is_active = state, base_zip, radius, True
        area.full_clean()
        area.save()
        area.services.set(services_by_code.values())
        area.providers.set(Provider.objects.filter(user__in=[users[e] for e in emails]))


def _book(patient, service, *, days_ahead, count=1, confirm=True):
    """The first free morning times from `days_ahead` days on, through the booking services."""
    if Visit.objects.filter(patient=patient, status__in=BLOCKING_STATUSES, ends_at__gt=timezone.now()).exists():
        return []  # already has visits coming up: seeded before
    place = selectors.visit_place_for(patient=patient)
    if place is None:
        return []
    try:
        ctx = services.booking_context(patient=patient, service=service, place=place)
    except ApplicationError:
        return []  # not eligible (yet): the patients demo decides
    first = timezone.now().astimezone(zone(place.time_zone)).date() + timedelta(days=days_ahead)
    slots = ctx.slots(first_day=first, last_day=first + timedelta(days=14))
    booked, earliest = [], None
    for slot in slots:
        if len(booked) == count:
            break
        if slot.local_start.hour != 10 or (earliest and slot.starts_at < earliest):
            continue
        try:
            visit = services.visit_hold(patient=patient, service=service, starts_at=slot.starts_at)
            if confirm:
                visit = services.visit_confirm(visit=visit)
        except ApplicationError:
            logger.info("demo: could not book %s", slot.starts_at)
            continue
        booked.append(visit)
        earliest = slot.starts_at + (ctx.min_gap or timedelta(days=1))
    return booked


def seed(users, lines):
    services_by_code = _services()
    _areas(users, services_by_code)
    lines.append("  booking: 3 services; areas New York City (10001, 15 mi) and Phoenix (85004, 25 mi)")
    alex = _book(users[ALEX], services_by_code["home-infusion"], days_ahead=3, count=2)
    jordan = _book(users[JORDAN], services_by_code["evaluation"], days_ahead=2)
    if alex or jordan:
        lines.append(f"  booking: {len(alex)} infusions for Alex Morgan, {len(jordan)} evaluation for Jordan Lee")
