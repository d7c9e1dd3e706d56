"""Demo data for the booking app, called by `manage.py seed_demo` after the demo users exist.

`seed(users, lines)`: users maps the demo emails to User rows; append a line to `lines` for each
thing worth printing. Must be idempotent: running it twice gives the same data.

Services (evaluation $150 by video; home infusion and booster $450 with a $100 deposit), two
areas in different time zones (New York City around 10001, 15 miles; Phoenix around 85004, 25
miles), and, once the patients' demo has cleared Alex Morgan, two confirmed infusions for Alex
and a video evaluation for Jordan Lee, booked through the same services as the pages. María
López (who reads Spanish) waits on the waitlist for freed times: Tuesday and Thursday
afternoons, the next three weeks.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from concierge.demo import demo_step
from concierge.errors import ApplicationError
from concierge.locking import lock_order_next_use_case, lock_rows
from notifications import services as notify
from payments import services as payments
from payments.gateways import fake
from payments.models import Payment, PaymentAllocation
from roster.models import Provider, ProviderKind

from . import selectors, services
from .availability import zone
from .models import BLOCKING_STATUSES, PartOfDay, Service, ServiceArea, ServiceKind, Visit, VisitStatus

logger = logging.getLogger(__name__)

# The services' names as Spanish-speaking patients read them (also set on existing rows by
# booking migration 0015).
SERVICE_NAMES_ES = {
    "evaluation": "Evaluación por video",
    "home-infusion": "Infusión en casa",
    "booster": "Infusión de refuerzo",
}
SERVICES = [
    # code, name, name in Spanish, kind, delivered by, by video, price, deposit
    (
        "evaluation",
        "Telehealth evaluation",
        SERVICE_NAMES_ES["evaluation"],
        ServiceKind.EVALUATION,
        ProviderKind.CLINICIAN,
        True,
        15000,
        0,
    ),
    (
        "home-infusion",
        "Home infusion",
        SERVICE_NAMES_ES["home-infusion"],
        ServiceKind.INFUSION,
        ProviderKind.NURSE,
        False,
        45000,
        10000,
    ),
    (
        "booster",
        "Booster infusion",
        SERVICE_NAMES_ES["booster"],
        ServiceKind.BOOSTER,
        ProviderKind.NURSE,
        False,
        45000,
        10000,
    ),
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
MARIA = "patient6@demo.conciergemd.example"
CLINICIAN = "clinician@demo.conciergemd.example"
DEMO_DOMAIN = "@demo.conciergemd.example"


def _services():
    rows = {}
    for code, name, name_es, kind, delivered_by, telehealth, price, deposit in SERVICES:
        service = Service.objects.filter(code=code).first() or Service(code=code)
        service.name_es = name_es
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
        lock_order_next_use_case()  # one booking after another, inside the seed's transaction
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


@demo_step(order=30)
def seed(users, lines):
    services_by_code = _services()
    _areas(users, services_by_code)
    lines.append("  booking: 3 services; areas New York City (10001, 15 mi) and Phoenix (85004, 25 mi)")
    alex = _book(users[ALEX], services_by_code["home-infusion"], days_ahead=3, count=2)
    jordan = _book(users[JORDAN], services_by_code["evaluation"], days_ahead=2)
    if alex or jordan:
        lines.append(f"  booking: {len(alex)} infusions for Alex Morgan, {len(jordan)} evaluation for Jordan Lee")
    if _waitlist(users[MARIA], services_by_code["home-infusion"]):
        lines.append("  booking: María López waits for a freed Tuesday or Thursday afternoon")


def _waitlist(patient, service):
    """On the waitlist for freed times, through the same service as the page (once)."""
    if services.time_waitlist_for(patient=patient, service=service) is not None:
        return False
    today = timezone.localdate()
    try:
        services.time_waitlist_join(
            patient=patient,
            service=service,
            weekdays=[1, 3],
            parts_of_day=[PartOfDay.AFTERNOON],
            first_day=today + timedelta(days=1),
            last_day=today + timedelta(days=21),
        )
    except ApplicationError:
        return False  # not cleared (yet): the patients demo decides
    return True


# --- paying the demo visits ---------------------------------------------------------------------
# Booking's demo (and the nurses' day) confirm their visits directly; each then gets the deposit
# payment it would have had, through the local test gateway and `payment_sync` (the same path as
# a card payment), so the patient's dashboard lists payments. Only with PAYMENT_GATEWAY=fake:
# demo data never reaches Stripe. Idempotent: a visit already paid is skipped.


def demo_visit_pay(visit):
    """Pay a demo visit through the test gateway (no receipt email for demo data)."""
    if settings.PAYMENT_GATEWAY != "fake" or visit.amount_due_cents <= 0:
        return None
    if PaymentAllocation.objects.filter(visit=visit).exists():
        return None
    lock_order_next_use_case()  # the payment opened, then synced: two use cases, as in the app
    with transaction.atomic():
        lock_rows({Visit: [visit.pk]})
        payment = payments.payment_open(
            patient=visit.patient, lines=[(visit.pk, visit.amount_due_cents)], visit_id=visit.pk
        )
        Payment.objects.filter(pk=payment.pk).update(receipt_sent_at=timezone.now())
    payment = payments.payment_intent_ensure(payment=payment)
    delivering, fake.DELIVER_EVENTS = fake.DELIVER_EVENTS, False
    try:
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    finally:
        fake.DELIVER_EVENTS = delivering
    lock_order_next_use_case()
    payments.payment_sync(payment=payment, intent=fake.intent_retrieve(intent_id=payment.intent_id), source="demo")
    return payment


@demo_step(order=50)
def seed_payments(users, lines):
    """After every demo visit exists (the nurses' day included): pay the confirmed ones."""
    visits = Visit.objects.filter(
        patient__email__endswith=DEMO_DOMAIN, status=VisitStatus.CONFIRMED, amount_due_cents__gt=0
    ).exclude(payment_allocations__isnull=False)
    paid = [p for v in visits.select_related("patient").order_by("starts_at") if (p := demo_visit_pay(v))]
    if paid:
        lines.append(f"  payments: {len(paid)} booked visits paid through the test gateway (card 4242 4242 4242 4242)")


@demo_step(order=70)
def seed_outbox(users, lines):
    """Confirmed upcoming demo visits get their confirmation and reminders (the unique keys make
    this idempotent), and the on-call clinician one sample alert, so that the staff outbox page
    at /outbox/ is not empty. In the local run the worker then "sends" them."""
    visits = Visit.objects.filter(
        status=VisitStatus.CONFIRMED, starts_at__gt=timezone.now(), patient__email__endswith=DEMO_DOMAIN
    ).select_related("service", "patient")
    planned = sum(len(notify.visit_confirmed(visit=visit)) for visit in visits)
    clinician = users.get(CLINICIAN)
    if clinician is not None:
        notify.staff_alert_email(
            to=clinician,
            subject="Demo: a patient asked for a call back",
            body="This is a sample alert from the demo data. Alex Morgan asked to be called about their visit time.",
            unique_key="demo-sample-alert",
        )
    lines.append(f"  outbox     {planned} visit messages planned; staff see them at /outbox/")
