"""Booking use cases: hold, confirm, reschedule, cancel, series, expiry, and the life cycle.

Every path that puts a visit into a blocking status goes through the guard (guard.py, whose
docstring tells how two bookings racing for one nurse get one success and one "just taken").

One module per use case (this package re-exports their public functions, so callers keep
writing `from booking import services; services.visit_hold(...)`):

    guard       the guard itself, visit_locked and visits_lock (the one lock order), providers' routes
    context     booking_context, booking_context_for_visit, BookingContext: who may book what,
                where, for how long
    visits      the life cycle: visit_hold, visit_confirm, visit_cancel (and the refund policy),
                visit_reschedule, visit_reassign, visit_transition, ALLOWED_TRANSITIONS
    series      a plan's infusions together: series_propose, series_check, series_hold, ...
    holds       visit_holds_expire: holds that ran out
    safety_holds  a warning sign puts upcoming infusions ON_HOLD: safety_holds_place (the receiver
                of patients.signals.infusion_safety_changed), safety_hold_release (a clinician)
    phone       booking by phone: visit_book_by_phone, series_book_by_phone, payment_link_send
    offers      the waitlist for freed times: time_waitlist_join/_leave/_for, waitlist_offers_make
                (the sweep), waitlist_offer_accept/_decline
    waitlist    the coverage waitlist: waitlist_join, coverage_waitlist_notify

A name with a leading underscore is for these modules only (a few are shared between them).
"""

from .calendar_feed import calendar_feed_for, calendar_feed_reset
from .context import BookingContext, acting_for_patient, booking_context, booking_context_for_visit
from .guard import visit_locked, visits_lock
from .holds import visit_holds_expire
from .offers import (
    WaitlistInvalid,
    time_waitlist_for,
    time_waitlist_join,
    time_waitlist_leave,
    waitlist_offer_accept,
    waitlist_offer_decline,
    waitlist_offers_make,
)
from .phone import payment_link_send, series_book_by_phone, visit_book_by_phone
from .safety_holds import HoldNotReleasable, on_infusion_safety_changed, safety_hold_release, safety_holds_place
from .series import (
    ProposedVisit,
    SeriesInvalid,
    SeriesProposal,
    series_check,
    series_confirm,
    series_hold,
    series_plan_starts,
    series_propose,
    series_remaining,
)
from .visits import (
    ALLOWED_TRANSITIONS,
    FIELD_TRANSITIONS,
    hold_open_for,
    safety_alert_rows_lock,
    transition_allowed,
    visit_cancel,
    visit_confirm,
    visit_hold,
    visit_hold_renew,
    visit_reassign,
    visit_refund_by_policy,
    visit_reschedule,
    visit_transition,
)
from .waitlist import coverage_waitlist_notify, coverage_waitlist_notify_soon, waitlist_join

__all__ = [
    "ALLOWED_TRANSITIONS",
    "FIELD_TRANSITIONS",
    "BookingContext",
    "HoldNotReleasable",
    "ProposedVisit",
    "SeriesInvalid",
    "SeriesProposal",
    "WaitlistInvalid",
    "acting_for_patient",
    "booking_context",
    "booking_context_for_visit",
    "calendar_feed_for",
    "calendar_feed_reset",
    "coverage_waitlist_notify",
    "coverage_waitlist_notify_soon",
    "hold_open_for",
    "on_infusion_safety_changed",
    "payment_link_send",
    "safety_alert_rows_lock",
    "safety_hold_release",
    "safety_holds_place",
    "series_book_by_phone",
    "series_check",
    "series_confirm",
    "series_hold",
    "series_plan_starts",
    "series_propose",
    "series_remaining",
    "time_waitlist_for",
    "time_waitlist_join",
    "time_waitlist_leave",
    "transition_allowed",
    "visit_book_by_phone",
    "visit_cancel",
    "visit_confirm",
    "visit_hold",
    "visit_hold_renew",
    "visit_holds_expire",
    "visit_locked",
    "visit_reassign",
    "visit_refund_by_policy",
    "visit_reschedule",
    "visit_transition",
    "visits_lock",
    "waitlist_join",
    "waitlist_offer_accept",
    "waitlist_offer_decline",
    "waitlist_offers_make",
]
