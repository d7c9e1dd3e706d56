"""Closing an account: nothing is deleted; visits are cancelled, texts stop, the login ends.

See the package docstring for what `patient_account_close` does, in one transaction, and why in
that order. `account_close_preview` and `refused_message` feed the page that asks first.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from booking import policy
from booking.models import BLOCKING_STATUSES, CancelledBy, Visit, VisitStatus
from booking.services import visit_cancel, visits_lock
from concierge.errors import NotAllowed, TryAgainLater
from concierge.models import User
from notifications import services as notify
from notifications.content import when_text
from patients.models import PatientProfile
from patients.services import _profile_locked
from payments.models import Refund, RefundReason

logger = logging.getLogger(__name__)

CLOSE_REASON_MAX_LENGTH = 500
# What the cancelled visits and cancelled messages say about why.
CLOSED_VISIT_REASON = "Account closed"
CLOSED_MESSAGE_REASON = "The patient closed their account."
# The keyword recorded on the number's opt-out row (as if they had texted STOP).
CLOSED_SMS_KEYWORD = "ACCOUNT CLOSED"


class AccountCloseRefused(NotAllowed):
    """A visit is too close (or under way) to cancel online: the clinic must be called first."""

    default_message = _("Your account cannot be closed online right now. Please call us.")
    code = "account_close_refused"


@dataclass(frozen=True)
class ClosePreview:
    """What closing now would do: the visits it cancels, and the ones that stop it."""

    to_cancel: list[Visit]
    blocking: list[Visit]


@dataclass(frozen=True)
class AccountClosure:
    closed_at: datetime
    visits_cancelled: int = 0
    refund_cents: int = 0
    messages_cancelled: int = 0
    already_closed: bool = False


def _visits_ahead(patient: User, now: datetime) -> QuerySet[Visit]:
    return Visit.objects.filter(patient=patient, status__in=BLOCKING_STATUSES, ends_at__gt=now)


def account_close_preview(*, patient: User, now: datetime | None = None) -> ClosePreview:
    """The visits that closing would cancel, and those inside the cut-off or under way that stop it."""
    now = now or timezone.now()
    to_cancel, blocking = [], []
    for visit in _visits_ahead(patient, now).select_related("service").order_by("starts_at", "pk"):
        # A hold nobody has paid for may always go; a booked visit only as the patient could cancel it online.
        if visit.status == VisitStatus.HELD or policy.patient_may_change(visit, now):
            to_cancel.append(visit)
        else:
            blocking.append(visit)
    return ClosePreview(to_cancel=to_cancel, blocking=blocking)


def refused_message(visit: Visit) -> str:
    return gettext(
        "Your visit on %(when)s is less than %(hours)s hours away or under way, so we cannot close your "
        "account online before it. Please call us at %(phone)s: we will help you cancel it and close "
        "your account."
    ) % {
        "when": when_text(visit.starts_at, visit.time_zone),
        "hours": settings.BOOKING_CHANGE_CUTOFF_HOURS,
        "phone": settings.CLINIC_PHONE,
    }


def account_is_closed(*, patient: User) -> bool:
    """THE check for anything that contacts patients without their asking (marketing): closed is never."""
    try:
        return patient.patient_profile.account_closed_at is not None or not patient.is_active
    except ObjectDoesNotExist:
        return not patient.is_active


@transaction.atomic
def patient_account_close(*, patient: User, reason: str = "", now: datetime | None = None) -> AccountClosure:
    """Close the patient's account; nothing is deleted. Safe to call twice (the second does nothing).

    Raises AccountCloseRefused, before changing anything, when a visit is inside the online
    cut-off or under way; TryAgainLater when a booking raced the closure.
    """
    now = now or timezone.now()
    # The profile row first, as the one lock order says (concierge/locking.py): two closings of one
    # account queue here, and the second finds it closed.
    profile = _profile_locked(patient)
    if profile.account_closed_at is not None and not User.objects.filter(pk=patient.pk, is_active=True).exists():
        return AccountClosure(closed_at=profile.account_closed_at, already_closed=True)

    preview = account_close_preview(patient=patient, now=now)
    if preview.blocking:
        raise AccountCloseRefused(refused_message(preview.blocking[0]))
    # Every visit's rows at once, in the one lock order: cancelled one by one, the second visit's
    # nurse would be locked after the first visit (concierge/locking.py).
    visits_lock(preview.to_cancel)
    cancelled = [
        visit_cancel(visit=visit, by=CancelledBy.PATIENT, reason=CLOSED_VISIT_REASON, actor=patient, now=now)
        for visit in preview.to_cancel
    ]

    # The patient's row, in booking's order (after the providers the cancellations locked): from
    # here no booking for them can commit. One that committed in between means: start again.
    list(User.objects.select_for_update().filter(pk=patient.pk).values_list("pk"))
    if _visits_ahead(patient, now).exists():
        raise TryAgainLater()

    _profile_close(profile, reason=reason, now=now)
    messages_cancelled = notify.messages_cancel_pending_for(user=patient, reason=CLOSED_MESSAGE_REASON)
    _login_disable(patient)
    logger.info("patient %s closed their account (%s visits cancelled)", patient.pk, len(cancelled))
    return AccountClosure(
        closed_at=now,
        visits_cancelled=len(cancelled),
        refund_cents=_cancellation_refunds_cents(cancelled),
        messages_cancelled=messages_cancelled,
    )


def _profile_close(profile: PatientProfile, *, reason: str, now: datetime) -> None:
    """When and why on the profile; text consent withdrawn, and the number opted out."""
    if profile.sms_opt_in:
        profile.sms_opt_in, profile.sms_opt_in_changed_at = False, now
    profile.account_closed_at = now
    profile.account_closed_reason = (reason or "").strip()[:CLOSE_REASON_MAX_LENGTH]
    profile.full_clean()
    profile.save()
    if profile.mobile_phone:
        # The number too, as if it had texted STOP: nothing goes to it until it texts START.
        notify.sms_opt_out_record(phone_number=profile.mobile_phone.as_e164, keyword=CLOSED_SMS_KEYWORD)


def _login_disable(patient: User) -> None:
    """No more logins; the login backend ends their other sessions at their next request."""
    user = User.objects.get(pk=patient.pk)
    user.is_active = False
    user.full_clean(exclude=["password"])
    user.save(update_fields=["is_active"])
    patient.is_active = False


def _cancellation_refunds_cents(cancelled: list[Visit]) -> int:
    """What the cancellation policy refunded for these visits, in cents."""
    return (
        Refund.objects.filter(visit__in=[v.pk for v in cancelled], reason_code=RefundReason.CANCELLATION).aggregate(
            total=Sum("amount_cents")
        )["total"]
        or 0
    )
