"""What clinicians review: the queue of patients waiting for a decision, and the one screen they
read before deciding (intake, triage, scores, alerts, check-ins, decisions).

It reads the clinical record (patients), the follow-up check-ins (portal) and the booking's
eligibility answer, so it lives in the back office, above them all.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from concierge.models import User
from patients.instruments import INSTRUMENTS, band_label
from patients.intake import QUESTIONS, Question, Section, answers_for_display
from patients.models import (
    Clearance,
    IntakeResponse,
    IntakeStatus,
    PatientProfile,
    SafetyAlert,
    ScreeningResponse,
    TriageResult,
    age_on,
)
from patients.selectors import Eligibility, booking_eligibility_for, intake_latest_sent, profile_get, triage_of
from patients.triage import rules_for_ids
from patients.triage_rules import Rule
from portal.models import FollowUpCheckIn


class ReviewAnnotations(TypedDict):
    """What review_queue adds to each patient profile."""

    has_open_alert: bool
    has_checkin_to_review: bool
    intake_sent_at: datetime | None
    triage_outcome: str | None
    decided_at: datetime | None
    decision: str | None


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # A patient profile as review_queue returns it, with the annotations above.
    ReviewQueueEntryRow = WithAnnotations[PatientProfile, ReviewAnnotations]

REVIEW_QUEUE_ORDER = ("-has_open_alert", "-has_checkin_to_review", F("intake_sent_at").asc(nulls_last=True), "pk")


def review_queue(
    queryset: QuerySet[PatientProfile] | None = None, *, waiting_only: bool = True
) -> QuerySet[ReviewQueueEntryRow]:
    """Patient profiles annotated for review, open safety alerts first, then the longest waiting."""
    queryset = queryset if queryset is not None else PatientProfile.objects.all()
    open_alert = SafetyAlert.objects.filter(patient=OuterRef("user_id"), resolved_at__isnull=True)
    # A follow-up check-in with something worrying in it that no clinician has reviewed (issue 10).
    checkin_to_review = FollowUpCheckIn.objects.filter(patient=OuterRef("user_id"), reviewed_at__isnull=True).exclude(
        flags=[]
    )
    latest_intake = IntakeResponse.objects.filter(patient=OuterRef("user_id"), status=IntakeStatus.SUBMITTED).order_by(
        "-version"
    )
    latest_decision = Clearance.objects.filter(patient=OuterRef("user_id")).order_by("-decided_at", "-id")
    queryset = queryset.select_related("user").annotate(
        has_open_alert=Exists(open_alert),
        has_checkin_to_review=Exists(checkin_to_review),
        intake_sent_at=Subquery(latest_intake.values("submitted_at")[:1]),
        triage_outcome=Subquery(latest_intake.values("triage__outcome")[:1]),
        decided_at=Subquery(latest_decision.values("decided_at")[:1]),
        decision=Subquery(latest_decision.values("decision")[:1]),
    )
    if waiting_only:
        queryset = review_queue_waiting(queryset)
    return queryset.order_by(*REVIEW_QUEUE_ORDER)


def review_queue_waiting(queryset: QuerySet[ReviewQueueEntryRow]) -> QuerySet[ReviewQueueEntryRow]:
    """Of an annotated review queue: an open safety alert, a flagged check-in not yet reviewed, or an
    intake sent since the last decision."""
    return queryset.filter(
        Q(has_open_alert=True)
        | Q(has_checkin_to_review=True)
        | Q(intake_sent_at__isnull=False, decided_at__isnull=True)
        | Q(intake_sent_at__isnull=False, intake_sent_at__gt=F("decided_at"))
    )


class ScreeningLine(TypedDict):
    response: ScreeningResponse
    name: str
    max: int
    band: str
    item9: int | None  # PHQ-9's self-harm item


class FiredRule(TypedDict):
    rule: Rule
    answer: str  # the answer that fired it, in words


class ReviewSummary(TypedDict):
    patient: User
    profile: PatientProfile | None
    age: int | None
    open_alerts: list[SafetyAlert]
    intake: IntakeResponse | None
    intake_count: int
    triage: TriageResult | None
    fired: list[FiredRule]
    flagged_keys: set[str]
    sections: list[tuple[Section, list[tuple[Question, str]]]]
    screenings: list[ScreeningLine]
    decisions: list[Clearance]
    eligibility: Eligibility
    checkins: list[FollowUpCheckIn]


def review_summary_for(*, patient: User) -> ReviewSummary:
    """Everything a clinician needs on one screen: who, safety alerts, intake, triage, scores, decisions."""

    profile = profile_get(patient=patient)
    latest = intake_latest_sent(patient=patient)
    triage = triage_of(latest) if latest else None
    fired = rules_for_ids(triage.fired_rules) if triage else []
    flagged_keys = {rule.question for rule in fired}
    screenings: list[ScreeningLine] = [
        {
            "response": response,
            "name": INSTRUMENTS[response.instrument].name,
            "max": INSTRUMENTS[response.instrument].max_total,
            "band": band_label(response.instrument, response.band),
            "item9": response.item_answers[8] if response.instrument == "phq9" else None,
        }
        for response in ScreeningResponse.objects.filter(patient=patient).order_by("-submitted_at", "-id")
    ]
    return {
        "patient": patient,
        "profile": profile,
        "age": age_on(profile.date_of_birth, timezone.localdate()) if profile and profile.date_of_birth else None,
        "open_alerts": list(SafetyAlert.objects.filter(patient=patient, resolved_at__isnull=True)),
        "intake": latest,
        "intake_count": IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.SUBMITTED).count(),
        "triage": triage,
        "fired": [
            {"rule": rule, "answer": QUESTIONS[rule.question].display(latest.answers.get(rule.question))}
            if latest is not None and rule.question in QUESTIONS
            else {"rule": rule, "answer": ""}
            for rule in fired
        ],
        "flagged_keys": flagged_keys,
        "sections": answers_for_display(latest.answers, latest.questionnaire_version) if latest else [],
        "screenings": screenings,
        "decisions": list(
            Clearance.objects.filter(patient=patient).select_related("clinician").order_by("-decided_at", "-id")
        ),
        "eligibility": booking_eligibility_for(patient=patient),
        # Follow-up check-ins after infusions (issue 10): the latest, worrying ones marked.
        "checkins": list(
            FollowUpCheckIn.objects.filter(patient=patient)
            .select_related("visit", "phq9", "pcl5")
            .order_by("-submitted_at", "-id")[:5]
        ),
    }
