"""Booking pages: coverage (public), and for patients: book, pay, their visits and changes, series.

One module per part of the patient's path (this package re-exports the views, so urls.py keeps
`views.book_days` and friends):

    common      patient_required, own_visit, the days and times every booking page shows
    coverage    coverage, waitlist, waitlist_done
    book        book, book_days, book_times, book_review: one visit, step by step
    paying      pay_visit, pay_series, checkout: the payment page for a hold
    visits      visit_list, visit_detail, visit_ics, visit_cancel, visit_reschedule(_times)
    series      series, series_change, series_checkout: the plan's infusions together
    offers      time_waitlist, offer: the waitlist for freed times, and answering an offer
"""

from .book import book, book_days, book_review, book_times
from .common import own_visit, patient_required
from .coverage import coverage, waitlist, waitlist_done
from .offers import offer, time_waitlist
from .paying import checkout, pay_series, pay_visit
from .series import series, series_change, series_checkout
from .visits import (
    calendar_feed,
    calendar_feed_reset,
    cancel_support,
    visit_cancel,
    visit_detail,
    visit_ics,
    visit_list,
    visit_reschedule,
    visit_reschedule_times,
)

__all__ = [
    "book",
    "book_days",
    "book_review",
    "book_times",
    "calendar_feed",
    "calendar_feed_reset",
    "cancel_support",
    "checkout",
    "coverage",
    "offer",
    "own_visit",
    "patient_required",
    "pay_series",
    "pay_visit",
    "series",
    "series_change",
    "series_checkout",
    "time_waitlist",
    "visit_cancel",
    "visit_detail",
    "visit_ics",
    "visit_list",
    "visit_reschedule",
    "visit_reschedule_times",
    "waitlist",
    "waitlist_done",
]
