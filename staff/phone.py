"""Booking by phone, as the scheduler's pages in admin read it: the patient on the line, what they
may book (and why not, in the words the patient would read online), and the free times.

Every time shown comes from booking's one search (`BookingContext.slots`), for the patient's own
address and plan, and every hold goes through booking's guard (`booking.services.phone`).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from booking import availability, selectors
from booking.availability import Slot
from booking.models import Service, ServiceKind, Visit
from booking.selectors import VisitPlace
from booking.services import BookingContext
from concierge.models import Role, User
from patients import selectors as patient_selectors
from patients.selectors import Eligibility

from .board import patient_display_name

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DAYS_SHOWN = 14
SEARCH_LIMIT = 20


def patient_search(*, query: str) -> QuerySet[User]:
    """Patients whose name, email or phone matches what the scheduler typed (at most 20)."""
    query = (query or "").strip()
    patients = User.objects.filter(groups__name=Role.PATIENT, is_active=True).select_related("patient_profile")
    if not query:
        return patients.none()
    match = (
        Q(email__icontains=query)
        | Q(first_name__icontains=query)
        | Q(last_name__icontains=query)
        | Q(patient_profile__legal_first_name__icontains=query)
        | Q(patient_profile__legal_last_name__icontains=query)
        | Q(patient_profile__preferred_name__icontains=query)
    )
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 7:
        # Phones are stored as +1XXXXXXXXXX: "(212) 555-0123" and "212-555-0123" both find it.
        match |= Q(patient_profile__mobile_phone__contains=digits[-10:])
    return patients.filter(match).distinct().order_by("last_name", "first_name", "pk")[:SEARCH_LIMIT]


@dataclass(frozen=True)
class ServiceOption:
    service: Service
    allowed: bool
    series: bool  # the plan's infusions may be booked together


@dataclass
class PhonePatient:
    """The patient on the line, as the scheduler needs them: who, where, what they may book."""

    user: User
    name: str
    phone: str
    place: VisitPlace | None
    eligibility: Eligibility
    options: list[ServiceOption] = field(default_factory=list)
    held: list[Visit] = field(default_factory=list)  # holds still waiting for their payment

    @property
    def refusal(self) -> "StrOrPromise":
        """Why the patient cannot book what is refused (what they would read online), or ''."""
        return self.eligibility.reason


def phone_patient(*, patient: User, now: datetime | None = None) -> PhonePatient:
    now = now or timezone.now()
    profile = patient_selectors.profile_get(patient=patient)
    place = selectors.visit_place_for(patient=patient)
    eligibility = patient_selectors.booking_eligibility_for(patient=patient)
    options = []
    for service in selectors.service_list_for_place(place=place):
        is_infusion = service.kind in (ServiceKind.INFUSION, ServiceKind.BOOSTER)
        allowed = eligibility.can_book_infusion if is_infusion else eligibility.can_book_evaluation
        options.append(ServiceOption(service, allowed, allowed and service.kind == ServiceKind.INFUSION))
    held = list(
        Visit.objects.filter(patient=patient, status="held", hold_expires_at__gt=now)
        .select_related("service")
        .order_by("starts_at")
    )
    phone = profile.mobile_phone.as_national if profile is not None and profile.mobile_phone else ""
    return PhonePatient(patient, patient_display_name(patient), phone, place, eligibility, options, held)


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int


def local_today(ctx: BookingContext) -> date:
    return timezone.now().astimezone(availability.zone(ctx.place.time_zone)).date()


def last_day(ctx: BookingContext) -> date:
    """The last day a patient could book online: the horizon, and the clearance's end."""
    last = local_today(ctx) + timedelta(days=settings.BOOKING_HORIZON_DAYS)
    if ctx.clearance is not None and ctx.clearance.expires_on is not None:
        last = min(last, ctx.clearance.expires_on)
    return last


def days_with_times(*, ctx: BookingContext, first_day: date, exclude_visit_id: int | None = None) -> list[DayCount]:
    """Up to two weeks from `first_day`, each with its number of free start times."""
    first = max(first_day, local_today(ctx))
    last = min(first + timedelta(days=DAYS_SHOWN - 1), last_day(ctx))
    if last < first:
        return []
    by_day = availability.slots_by_day(ctx.slots(first_day=first, last_day=last, exclude_visit_id=exclude_visit_id))
    return [
        DayCount(first + timedelta(days=i), len(by_day.get(first + timedelta(days=i), [])))
        for i in range((last - first).days + 1)
    ]


def times_on(*, ctx: BookingContext, day: date, exclude_visit_id: int | None = None) -> list[Slot]:
    return ctx.slots(first_day=day, last_day=day, exclude_visit_id=exclude_visit_id)
