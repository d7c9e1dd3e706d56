"""Reads about patients that other apps rely on (booking asks these before it holds a time)."""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Clearance, ClearanceDecision, PatientProfile


def profile_get(*, patient):
    return PatientProfile.objects.filter(user=patient).first()


def clearance_active_for(*, patient, on_date=None):
    """The clearance that allows infusions on `on_date` (today by default), or None."""
    on_date = on_date or timezone.localdate()
    latest = (
        Clearance.objects.filter(patient=patient)
        .exclude(decision=ClearanceDecision.MORE_INFO)
        .order_by("-decided_at", "-id")
        .first()
    )
    if latest is not None and latest.is_active_on(on_date):
        return latest
    return None


@dataclass(frozen=True)
class Eligibility:
    can_book_evaluation: bool
    can_book_infusion: bool
    reason: str = ""  # for the patient, when they cannot book


def booking_eligibility_for(*, patient):
    """What this patient may book now, and if nothing, why (in words for the patient)."""
    profile = profile_get(patient=patient)
    if profile is None or not profile.is_complete:
        return Eligibility(False, False, _("Please finish your profile first."))
    if profile.safety_review_required:
        return Eligibility(
            True, False, _("A clinician needs to speak with you before an infusion can be booked. We will call you.")
        )
    if clearance_active_for(patient=patient) is None:
        return Eligibility(True, False, _("Infusions can be booked once a clinician has cleared you."))
    return Eligibility(True, True)
