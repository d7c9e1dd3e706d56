"""The booking rules patients read: change cut-off, cancellation policy, preparing for a visit.

One place for the words and the numbers, so the pages, the services and the tests agree.

The cancellation policy: how much of what was paid for a visit goes back.

| who cancelled, when                             | refunded                              |
| ----------------------------------------------- | ------------------------------------- |
| anyone, while the visit was on hold (a warning  | everything paid for it, whatever the  |
| sign, booking/safety.py: clinician review)      | time: the patient is not at fault     |
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
from payments.display import balance_words, refund_days_words

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
    SAFETY_HOLD = "safety_hold"
    PATIENT_EARLY = "patient_early"
    PATIENT_LATE = "patient_late"
    STAFF_OR_CLINIC = "staff_or_clinic"
    NO_SHOW = "no_show"


@dataclass(frozen=True)
class RefundDecision:
    rule: str
    refund_cents: int
    kept_cents: int


def cancellation_refund(*, visit: Visit, paid_cents: int, on_hold: bool = False) -> RefundDecision:
    """What goes back of `paid_cents` paid for this visit, now that it is cancelled or missed.

    `on_hold`: the visit was on hold (a warning sign) when it was cancelled.
    """
    if visit.status == VisitStatus.NO_SHOW:
        return RefundDecision(Rule.NO_SHOW, 0, paid_cents)
    if visit.status != VisitStatus.CANCELLED:
        raise InvalidState(_("Only a cancelled or missed visit is refunded by the cancellation policy."))
    if on_hold:
        return RefundDecision(Rule.SAFETY_HOLD, paid_cents, 0)
    return _refund_for(
        by=visit.cancelled_by,
        starts_at=visit.starts_at,
        cancelled_at=visit.cancelled_at or timezone.now(),
        paid_cents=paid_cents,
    )


def refund_if_cancelled_now(*, visit: Visit, by: str, paid_cents: int, now: datetime | None = None) -> RefundDecision:
    """What the policy would refund if `by` cancelled this visit now (shown to staff before they confirm).

    A visit on hold (a warning sign) is refunded in full, whoever cancels it.
    """
    if visit.status == VisitStatus.ON_HOLD:
        return RefundDecision(Rule.SAFETY_HOLD, paid_cents, 0)
    return _refund_for(by=by, starts_at=visit.starts_at, cancelled_at=now or timezone.now(), paid_cents=paid_cents)


def _refund_for(*, by: str, starts_at: datetime, cancelled_at: datetime, paid_cents: int) -> RefundDecision:
    if by == CancelledBy.PATIENT:
        return _patient_cancels(starts_at=starts_at, at=cancelled_at, paid_cents=paid_cents)
    # Staff, the clinic, or (should it ever be blank) nobody on record: the patient is not at fault.
    return RefundDecision(Rule.STAFF_OR_CLINIC, paid_cents, 0)


def _patient_cancels(*, starts_at: datetime, at: datetime, paid_cents: int) -> RefundDecision:
    """The patient's own cancellation at `at`: the one rule both the refund and the words use."""
    if starts_at - at >= timedelta(hours=settings.PAYMENT_FULL_REFUND_HOURS):
        return RefundDecision(Rule.PATIENT_EARLY, paid_cents, 0)
    fee = min(paid_cents, settings.PAYMENT_LATE_CANCEL_FEE_CENTS)
    return RefundDecision(Rule.PATIENT_LATE, paid_cents - fee, fee)


# --- money in plain words ----------------------------------------------------------------------


def _usd(cents: int) -> str:
    dollars, rest = divmod(int(cents), 100)
    return f"${dollars:,}.{rest:02d}"


@dataclass(frozen=True)
class MoneyWords:
    """What a visit costs, today and later, and what cancelling or moving it would cost now.

    Every page that talks about money for a visit (review, checkout, confirmation, visit page,
    cancel and reschedule confirmations) shows these sentences, so they cannot disagree.
    """

    price_cents: int
    today_cents: int  # charged when the time is booked (the deposit, else the full price)
    balance_cents: int  # the rest of the price, collected later
    paid_cents: int | None  # paid so far, for a booked visit (None before booking)
    refund_cents: int | None  # what cancelling now would refund (None: cannot cancel online now)
    fee_cents: int | None  # what cancelling now would keep
    price: "str | StrPromise"
    today: "str | StrPromise"
    balance: "str | StrPromise"  # "" when there is no balance
    cancel_now: "str | StrPromise"  # "" when the visit cannot be cancelled online now
    reschedule_now: "str | StrPromise"
    late_fee: "str | StrPromise"  # the rule for late cancellations, always shown next to the policy


def money_words(
    *,
    price_cents: int,
    due_cents: int,
    paid_cents: int | None = None,
    starts_at: datetime | None = None,
    may_change: bool = True,
    now: datetime | None = None,
) -> MoneyWords:
    """The money sentences for a visit about to be booked (paid_cents None) or a booked one."""
    now = now or timezone.now()
    balance_cents = max(price_cents - due_cents, 0)
    booked = paid_cents is not None
    today: str | StrPromise
    balance: str | StrPromise
    cancel_now: str | StrPromise = ""
    if balance_cents:
        today = (
            _("Paid when you booked: a {due} deposit.")
            if booked
            else _("Today: a {due} deposit, charged when you book.")
        )
        balance = balance_words(balance_cents)
    else:
        today = (
            _("Paid in full when you booked: {due}.")
            if booked
            else _("Today: {due}, the full price, charged when you book.")
        )
        balance = ""
    refund_cents = fee_cents = None
    if booked and may_change and starts_at is not None:
        decision = _patient_cancels(starts_at=starts_at, at=now, paid_cents=paid_cents or 0)
        refund_cents, fee_cents = decision.refund_cents, decision.kept_cents
        if not paid_cents:
            cancel_now = _("If you cancel now, nothing is charged.")
        elif fee_cents == 0:
            cancel_now = format_lazy(
                _("If you cancel now, we refund {refund}, everything you paid, to your card ({days})."),
                refund=_usd(refund_cents),
                days=refund_days_words(),
            )
        else:
            cancel_now = format_lazy(
                _(
                    "If you cancel now, we keep the {fee} late-cancellation fee "
                    "and refund {refund} to your card ({days})."
                ),
                fee=_usd(fee_cents),
                refund=_usd(refund_cents),
                days=refund_days_words(),
            )
    hours = settings.PAYMENT_FULL_REFUND_HOURS
    return MoneyWords(
        price_cents=price_cents,
        today_cents=due_cents,
        balance_cents=balance_cents,
        paid_cents=paid_cents,
        refund_cents=refund_cents,
        fee_cents=fee_cents,
        price=format_lazy(_("The visit costs {price} in all."), price=_usd(price_cents)),
        today=format_lazy(today, due=_usd(due_cents)),
        balance=balance,
        cancel_now=cancel_now,
        reschedule_now=_("Moving your visit costs nothing: what you paid moves with it."),
        late_fee=format_lazy(
            _(
                "Cancelling {hours} hours or more before the visit: everything you paid comes back. "
                "Less than {hours} hours before: a {fee} late-cancellation fee is kept."
            ),
            hours=hours,
            fee=_usd(settings.PAYMENT_LATE_CANCEL_FEE_CENTS),
        ),
    )


def inside_change_cutoff(starts_at: datetime, now: datetime | None = None) -> bool:
    """A time this close cannot be moved or cancelled online once booked."""
    return starts_at - (now or timezone.now()) < change_cutoff()


NOT_STARTED = (VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE)


def visit_is_late(visit: Visit, now: datetime | None = None) -> bool:
    """Not started VISIT_LATE_AFTER_MINUTES after its start: flagged on the nurse's day and the board."""
    if visit.status not in NOT_STARTED:
        return False
    return (now or timezone.now()) > visit.starts_at + timedelta(minutes=settings.VISIT_LATE_AFTER_MINUTES)
