"""The booking rules patients read: change cut-off, cancellation policy, preparing for a visit.

One place for the words and the numbers, so the pages, the services and the tests agree.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .models import VisitStatus

# Before each infusion (DESIGN.md, the patient's path, step 6).
PREP_INSTRUCTIONS = (
    _("No food for 6 hours before your visit."),
    _("Clear liquids only, until 2 hours before your visit."),
    _("An adult you trust must be with you during and after the visit."),
    _("No driving until the next day."),
)

CHANGEABLE_STATUSES = (VisitStatus.HELD, VisitStatus.CONFIRMED)


def change_cutoff():
    return timedelta(hours=settings.BOOKING_CHANGE_CUTOFF_HOURS)


def hold_duration():
    return timedelta(minutes=settings.BOOKING_HOLD_MINUTES)


def patient_may_change(visit, now=None):
    """May the patient reschedule or cancel this visit online (outside the cut-off)?"""
    now = now or timezone.now()
    return visit.status in CHANGEABLE_STATUSES and visit.starts_at - now >= change_cutoff()


def cancellation_policy():
    return format_lazy(
        _(
            "You can reschedule or cancel online up to {hours} hours before your visit. "
            "Closer to the visit, please call us at {phone}; a late-cancellation fee may apply."
        ),
        hours=settings.BOOKING_CHANGE_CUTOFF_HOURS,
        phone=settings.CLINIC_PHONE,
    )


def amount_due_cents(service):
    """What is paid at booking: the deposit when the service has one, else the full price."""
    return service.deposit_cents or service.price_cents
