"""The cancellation policy, in one place: how much of what was paid for a visit goes back.

| who cancelled, when                             | refunded                              |
| ----------------------------------------------- | ------------------------------------- |
| the patient, 24 h or more before the visit      | everything paid for it                |
| the patient, less than 24 h before              | all but the late-cancellation fee     |
| staff, or ConciergeMD (the clinic, the system)  | everything paid for it                |
| nobody: the patient was not there (no-show)     | nothing                               |

The 24 hours (PAYMENT_FULL_REFUND_HOURS) and the fee (PAYMENT_LATE_CANCEL_FEE_CENTS) are settings.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import CancelledBy, VisitStatus
from concierge.errors import InvalidState


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


def cancellation_refund(*, visit, paid_cents):
    """What goes back of `paid_cents` paid for this visit, now that it is cancelled or missed."""
    if visit.status == VisitStatus.NO_SHOW:
        return RefundDecision(Rule.NO_SHOW, 0, paid_cents)
    if visit.status != VisitStatus.CANCELLED:
        raise InvalidState(_("Only a cancelled or missed visit is refunded by the cancellation policy."))
    if visit.cancelled_by == CancelledBy.PATIENT:
        cancelled_at = visit.cancelled_at or timezone.now()
        if visit.starts_at - cancelled_at >= timedelta(hours=settings.PAYMENT_FULL_REFUND_HOURS):
            return RefundDecision(Rule.PATIENT_EARLY, paid_cents, 0)
        fee = min(paid_cents, settings.PAYMENT_LATE_CANCEL_FEE_CENTS)
        return RefundDecision(Rule.PATIENT_LATE, paid_cents - fee, fee)
    # Staff, the clinic, or (should it ever be blank) nobody on record: the patient is not at fault.
    return RefundDecision(Rule.STAFF_OR_CLINIC, paid_cents, 0)
