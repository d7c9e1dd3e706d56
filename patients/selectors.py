"""Reads about patients that other apps rely on (booking asks these before it holds a time)."""

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.models import User

from .models import (
    Clearance,
    ClearanceDecision,
    IntakeResponse,
    IntakeStatus,
    PatientProfile,
    SafetyAlert,
    ScreeningResponse,
    TriageOutcome,
    TriageResult,
)
from .triage import patient_message
from .triage_rules import CLINICIAN_REVIEW, NOT_ELIGIBLE, RULES

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

REVIEW_RULE_IDS = {rule.id for rule in RULES if rule.outcome in (CLINICIAN_REVIEW, NOT_ELIGIBLE)}


def profile_get(*, patient: User) -> PatientProfile | None:
    return PatientProfile.objects.filter(user=patient).first()


def clearance_active_for(*, patient: User, on_date: date | None = None) -> Clearance | None:
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


def clearance_latest_for(*, patient: User) -> Clearance | None:
    """The patient's latest decision about infusions (cleared or declined, revoked or not), or None.

    "More information needed" is not a decision about infusions: an earlier one stands.
    """
    return (
        Clearance.objects.filter(patient=patient)
        .exclude(decision=ClearanceDecision.MORE_INFO)
        .order_by("-decided_at", "-id")
        .first()
    )


def safety_alerts_open_for(*, patient: User) -> QuerySet[SafetyAlert]:
    """The patient's safety alerts no clinician has resolved yet, oldest first."""
    return SafetyAlert.objects.filter(patient=patient, resolved_at__isnull=True).order_by("created_at", "pk")


def intake_latest_sent(*, patient: User) -> IntakeResponse | None:
    """The patient's latest sent intake version with its triage result, or None."""
    return (
        IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.SUBMITTED)
        .select_related("triage")
        .order_by("-version")
        .first()
    )


def intake_draft_get(*, patient: User) -> IntakeResponse | None:
    return IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.DRAFT).first()


def intake_list_for_patient(*, patient: User) -> QuerySet[IntakeResponse]:
    return (
        IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.SUBMITTED)
        .select_related("triage")
        .order_by("-version")
    )


def intake_get_for_patient(*, patient: User, pk: int) -> IntakeResponse | None:
    """One of this patient's sent intake versions, or None (someone else's id finds nothing)."""
    return intake_list_for_patient(patient=patient).filter(pk=pk).first()


def screening_get_for_patient(*, patient: User, pk: int) -> ScreeningResponse | None:
    return ScreeningResponse.objects.filter(patient=patient, pk=pk).first()


def screening_list_for_patient(*, patient: User) -> QuerySet[ScreeningResponse]:
    return ScreeningResponse.objects.filter(patient=patient).order_by("submitted_at", "id")


def triage_of(intake: IntakeResponse) -> TriageResult | None:
    try:
        return intake.triage
    except TriageResult.DoesNotExist:
        return None


def _raises_something_new(latest_intake: IntakeResponse | None, clearance: Clearance) -> bool:
    """True when the intake sent after this clearance fires a review rule the reviewed one did not."""
    if latest_intake is None or clearance.intake_id is None or latest_intake.pk == clearance.intake_id:
        return False
    latest_triage = triage_of(latest_intake)
    if latest_triage is None:
        return False
    reviewed = TriageResult.objects.filter(intake_id=clearance.intake_id).values_list("fired_rules", flat=True).first()
    new_rules = set(latest_triage.fired_rules) - set(reviewed or [])
    return bool(new_rules & REVIEW_RULE_IDS)


def intake_raises_something_new(*, patient: User, clearance: Clearance) -> bool:
    """True when the patient's latest sent intake fires a review rule the intake this clearance
    was decided on did not (a new answer the clinician has not seen)."""
    return _raises_something_new(intake_latest_sent(patient=patient), clearance)


@dataclass(frozen=True)
class Eligibility:
    can_book_evaluation: bool
    can_book_infusion: bool
    reason: "str | StrPromise" = ""  # for the patient, when they cannot book


def booking_eligibility_for(*, patient: User) -> Eligibility:
    """What this patient may book now, and if nothing, why (in words for the patient).

    An evaluation needs a complete profile and a sent intake whose triage is not a hard stop.
    An infusion also needs an active clearance, no open safety review, and no answer changed
    since the clearance that raises something the clinician has not seen.
    """
    profile = profile_get(patient=patient)
    if profile is None or not profile.is_complete:
        return Eligibility(False, False, _("Please finish your profile first."))
    latest = intake_latest_sent(patient=patient)
    if latest is None:
        return Eligibility(False, False, _("Please answer the health questions first."))
    triage = triage_of(latest)
    if triage is not None and triage.outcome == TriageOutcome.NOT_ELIGIBLE:
        return Eligibility(False, False, patient_message(triage.outcome, triage.fired_rules))
    if profile.safety_review_required:
        return Eligibility(
            True, False, _("A clinician needs to speak with you before an infusion can be booked. We will call you.")
        )
    clearance = clearance_active_for(patient=patient)
    if clearance is None:
        return Eligibility(True, False, _("Infusions can be booked once a clinician has cleared you."))
    if _raises_something_new(latest, clearance):
        return Eligibility(
            True,
            False,
            _("You updated your health answers. A clinician will look at them before your next infusion is booked."),
        )
    return Eligibility(True, True)
