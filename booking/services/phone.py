"""Booking by phone: a scheduler books for the patient on the line, and the patient pays a link.

The same guard and the same one question as online booking: `visit_hold` and `series_hold` with
`booked_by` (the scheduler) refuse exactly what the patient would be refused online (clearance,
the plan's limits, a safety hold, consent: `booking_context` asks patients' `booking_eligibility_for`).
The hold lasts BOOKING_PHONE_HOLD_MINUTES and records who made it. Staff never take card numbers:
the patient gets a link to the payment page by text and email (the outbox), and paying it
confirms the visit exactly as online (payments' `payment_succeeded`, booking's checkout).
"""

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from concierge.errors import NotAllowed
from concierge.models import User
from notifications import services as notify
from notifications.models import Channel, Message
from payments.display import money

from ..errors import HoldExpired
from ..models import Series, Service, Visit, VisitStatus
from .context import acting_for_patient
from .series import series_hold
from .visits import visit_hold

S = VisitStatus

PAYMENT_LINK_TEMPLATE = "payment_link"


def _held_visits(visit: Visit) -> list[Visit]:
    """The visits one payment covers: the visit, or every live visit of its series."""
    if visit.series_id is None:
        return [visit]
    return list(Visit.objects.filter(series_id=visit.series_id).exclude(status=S.CANCELLED).order_by("starts_at"))


@transaction.atomic
def payment_link_send(*, visit: Visit, actor: User, now: datetime | None = None) -> list[Message]:
    """Text and email the patient the link to pay for a hold (a visit, or its whole series).

    Only staff acting for the patient, and only while the hold lasts (HoldExpired after). Asking
    again in the same minute sends nothing more (a double click); later, the link goes again.
    """
    now = now or timezone.now()
    visit = Visit.objects.select_related("patient").get(pk=visit.pk)
    if not acting_for_patient(actor=actor, patient_id=visit.patient_id):
        raise NotAllowed()
    visits = _held_visits(visit)
    if any(v.status != S.HELD or v.hold_expires_at is None or v.hold_expires_at <= now for v in visits):
        raise HoldExpired()
    first = visits[0]
    context = {
        # The payment page, behind the patient's own login (a series is paid together from any of its visits).
        "pay_url": settings.SITE_URL + reverse("booking:pay", args=[first.pk]),
        "amount": money(sum(v.amount_due_cents for v in visits)),
        "visits": len(visits),
    }
    stamp = f"{now:%Y%m%d%H%M}"
    return [
        notify.message_enqueue(
            channel=channel,
            to_user=visit.patient,
            template=PAYMENT_LINK_TEMPLATE,
            context_ids={"visit": first.pk},
            context=context,
            unique_key=f"payment-link:{first.pk}:{channel}:{stamp}",
        )
        for channel in (Channel.SMS, Channel.EMAIL)
    ]


@transaction.atomic
def visit_book_by_phone(
    *, patient: User, service: Service, starts_at: datetime, booked_by: User, now: datetime | None = None
) -> Visit:
    """A scheduler on the phone holds a time for the patient and sends them the payment link.

    `visit_hold` with `booked_by`: the same guard and checks as online, a longer hold. Raises
    what it raises (NotEligible with the patient's reason, NotCovered, SlotTaken, TryAgainLater),
    or NotAllowed when `booked_by` may not book for patients.
    """
    if not acting_for_patient(actor=booked_by, patient_id=patient.pk):
        raise NotAllowed()
    visit = visit_hold(patient=patient, service=service, starts_at=starts_at, now=now, booked_by=booked_by)
    payment_link_send(visit=visit, actor=booked_by, now=now)
    return visit


@transaction.atomic
def series_book_by_phone(
    *,
    patient: User,
    service: Service,
    visits: Sequence[tuple[datetime, int | None]],
    booked_by: User,
    now: datetime | None = None,
) -> Series:
    """A scheduler holds the plan's infusions together for the patient and sends one payment link."""
    if not acting_for_patient(actor=booked_by, patient_id=patient.pk):
        raise NotAllowed()
    series = series_hold(patient=patient, service=service, visits=visits, now=now, booked_by=booked_by)
    first = series.visits.order_by("starts_at").first()
    if first is not None:
        payment_link_send(visit=first, actor=booked_by, now=now)
    return series
