"""The booking rules patients read: change cut-off, cancellation policy, preparing for a visit.

One place for the words and the numbers, so the pages, the services and the tests agree.

The cancellation policy: how much of what was paid for a visit goes back.

| who cancelled, when                             | refunded                              |
| ----------------------------------------------- | ------------------------------------- |
| the patient, 24 h or more before the visit      | everything paid for it                |
| the patient, less than 24 h before              | all but the late-cancellation fee     |
| staff, or ConciergeMD (the clinic, the system)  | everything paid for it                |
| nobody: the patient was not there (no-show)     | nothing                               |

The 24 hours (PAYMENT_FULL_REFUND_HOURS) and the fee (PAYMENT_LATE_CANCEL_FEE_CENTS) are settings.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from concierge.errors import InvalidState

from .models import BookingOrigin, CancelledBy, Service, Visit, VisitStatus

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# Before each infusion (docs/design.md, the patient's path).
PREP_INSTRUCTIONS = (
    _("No food for 6 hours before your visit."),
    _("Clear liquids only, until 2 hours before your visit."),
    _("An adult you trust must be with you during and after the visit."),
    _("No driving until the next day."),
)

CHANGEABLE_STATUSES = (VisitStatus.HELD, VisitStatus.CONFIRMED)


def change_cutoff() -> timedelta:
    return timedelta(hours=settings.BOOKING_CHANGE_CUTOFF_HOURS)


def hold_duration(origin: str = BookingOrigin.ONLINE) -> timedelta:
    """How long a new hold lasts: a patient paying online, a patient paying the link staff sent
    while on the phone with them (longer: they have to find the text first), or a waitlist offer."""
    minutes: dict[str, int] = {
        BookingOrigin.PHONE: settings.BOOKING_PHONE_HOLD_MINUTES,
        BookingOrigin.WAITLIST: settings.WAITLIST_OFFER_MINUTES,
    }
    return timedelta(minutes=minutes.get(origin, settings.BOOKING_HOLD_MINUTES))


def patient_may_change(visit: Visit, now: datetime | None = None) -> bool:
    """May the patient reschedule or cancel this visit online (outside the cut-off)?"""
    now = now or timezone.now()
    return visit.status in CHANGEABLE_STATUSES and visit.starts_at - now >= change_cutoff()


def cancellation_policy() -> "StrPromise":
    return format_lazy(
        _(
            "You can reschedule or cancel online up to {hours} hours before your visit. "
            "Closer to the visit, please call us at {phone}; a late-cancellation fee may apply."
        ),
        hours=settings.BOOKING_CHANGE_CUTOFF_HOURS,
        phone=settings.CLINIC_PHONE,
    )


def amount_due_cents(service: Service) -> int:
    """What is paid at booking: the deposit when the service has one, else the full price."""
    return service.deposit_cents or service.price_cents


# --- the cancellation policy: what goes back ------------------------------------------------------


class Rule:
    PATIENT_EARLY = "patient_early"
    PATIENT_LATE = "patient_late"
    STAFF_OR_CLINIC = "staff_or_clinic"
    NO_SHOW = "no_show"


@dataclass(frozen=True)
class RefundDecision:
    rule: str
    refund_cents: int
    kept_cents: int


def cancellation_refund(*, visit: Visit, paid_cents: int) -> RefundDecision:
    """What goes back of `paid_cents` paid for this visit, now that it is cancelled or missed."""
    if visit.status == VisitStatus.NO_SHOW:
        return RefundDecision(Rule.NO_SHOW, 0, paid_cents)
    if visit.status != VisitStatus.CANCELLED:
        raise InvalidState(_("Only a cancelled or missed visit is refunded by the cancellation policy."))
    return _refund_for(
        by=visit.cancelled_by,
        starts_at=visit.starts_at,
        cancelled_at=visit.cancelled_at or timezone.now(),
        paid_cents=paid_cents,
    )


def refund_if_cancelled_now(*, visit: Visit, by: str, paid_cents: int, now: datetime | None = None) -> RefundDecision:
    """What the policy would refund if `by` cancelled this visit now (shown to staff before they confirm)."""
    return _refund_for(by=by, starts_at=visit.starts_at, cancelled_at=now or timezone.now(), paid_cents=paid_cents)


def _refund_for(*, by: str, starts_at: datetime, cancelled_at: datetime, paid_cents: int) -> RefundDecision:
    if by == CancelledBy.PATIENT:
        if starts_at - cancelled_at >= timedelta(hours=settings.PAYMENT_FULL_REFUND_HOURS):
            return RefundDecision(Rule.PATIENT_EARLY, paid_cents, 0)
        fee = min(paid_cents, settings.PAYMENT_LATE_CANCEL_FEE_CENTS)
        return RefundDecision(Rule.PATIENT_LATE, paid_cents - fee, fee)
    # Staff, the clinic, or (should it ever be blank) nobody on record: the patient is not at fault.
    return RefundDecision(Rule.STAFF_OR_CLINIC, paid_cents, 0)
