"""Reads about patients that other apps rely on (booking asks these before it holds a time)."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, F, Max, OuterRef, Q, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from .instruments import INSTRUMENT_ORDER, INSTRUMENTS
from .models import (
    Clearance,
    ClearanceDecision,
    FollowUpCheckIn,
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

REVIEW_RULE_IDS = {rule.id for rule in RULES if rule.outcome in (CLINICIAN_REVIEW, NOT_ELIGIBLE)}


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


def intake_latest_sent(*, patient):
    """The patient's latest sent intake version with its triage result, or None."""
    return (
        IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.SUBMITTED)
        .select_related("triage")
        .order_by("-version")
        .first()
    )


def intake_draft_get(*, patient):
    return IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.DRAFT).first()


def intake_list_for_patient(*, patient):
    return (
        IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.SUBMITTED)
        .select_related("triage")
        .order_by("-version")
    )


def intake_get_for_patient(*, patient, pk):
    """One of this patient's sent intake versions, or None (someone else's id finds nothing)."""
    return intake_list_for_patient(patient=patient).filter(pk=pk).first()


def screening_get_for_patient(*, patient, pk):
    return ScreeningResponse.objects.filter(patient=patient, pk=pk).first()


def screening_list_for_patient(*, patient):
    return ScreeningResponse.objects.filter(patient=patient).order_by("submitted_at", "id")


def _triage_of(intake):
    try:
        return intake.triage
    except TriageResult.DoesNotExist:
        return None


def _raises_something_new(latest_intake, clearance):
    """True when the intake sent after this clearance fires a review rule the reviewed one did not."""
    if latest_intake is None or clearance.intake_id is None or latest_intake.pk == clearance.intake_id:
        return False
    latest_triage = _triage_of(latest_intake)
    if latest_triage is None:
        return False
    reviewed = TriageResult.objects.filter(intake_id=clearance.intake_id).values_list("fired_rules", flat=True).first()
    new_rules = set(latest_triage.fired_rules) - set(reviewed or [])
    return bool(new_rules & REVIEW_RULE_IDS)


@dataclass(frozen=True)
class Eligibility:
    can_book_evaluation: bool
    can_book_infusion: bool
    reason: str = ""  # for the patient, when they cannot book


def booking_eligibility_for(*, patient):
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
    triage = _triage_of(latest)
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


# --- the patient's dashboard ----------------------------------------------------------------------


def book_url():
    """The booking page (booking app); its literal address until that app names the URL."""
    try:
        return reverse("booking:book")
    except NoReverseMatch:
        return "/book/"


def _upcoming_evaluation(patient):
    """The patient's next booked evaluation (booking app), or None."""
    from booking.models import ServiceKind, Visit, VisitStatus

    return (
        Visit.objects.filter(
            patient=patient,
            service__kind=ServiceKind.EVALUATION,
            status__in=(VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE, VisitStatus.IN_PROGRESS),
            ends_at__gte=timezone.now(),
        )
        .order_by("starts_at")
        .first()
    )


def _visit_url(visit):
    try:
        return reverse("booking:visit", args=[visit.pk])
    except NoReverseMatch:
        return book_url()


@dataclass
class Step:
    key: str
    label: str
    status: str  # "done", "current" or "todo"
    detail: str = ""


@dataclass
class Journey:
    steps: list
    next_label: str = ""
    next_url: str = ""
    next_text: str = ""
    notice: str = ""  # a calm message shown above everything (safety hold, not eligible)
    notice_level: str = "info"
    due_instruments: list = field(default_factory=list)
    eligibility: Eligibility | None = None


def journey_for(*, patient):
    """Where the patient stands (profile → intake → questionnaires → evaluation → cleared → infusions)
    and the one thing to do next."""
    profile = profile_get(patient=patient)
    draft = intake_draft_get(patient=patient)
    latest = intake_latest_sent(patient=patient)
    triage = _triage_of(latest) if latest else None
    last_taken = dict(
        ScreeningResponse.objects.filter(patient=patient)
        .values("instrument")
        .annotate(last=Max("submitted_at"))
        .values_list("instrument", "last")
    )
    decision = Clearance.objects.filter(patient=patient).order_by("-decided_at", "-id").first()
    eligibility = booking_eligibility_for(patient=patient)

    profile_done = bool(profile and profile.is_complete)
    intake_done = latest is not None
    never_taken = [code for code in INSTRUMENT_ORDER if code not in last_taken]
    retake_before = timezone.now() - timedelta(days=settings.SCREENING_RETAKE_DAYS)
    due = [code for code in INSTRUMENT_ORDER if code not in last_taken or last_taken[code] < retake_before]
    cleared = eligibility.can_book_infusion or (decision is not None and clearance_active_for(patient=patient))

    def status(done, current):
        return "done" if done else ("current" if current else "todo")

    steps = [
        Step("profile", str(_("Your details")), status(profile_done, True)),
        Step("intake", str(_("Health questions")), status(intake_done, profile_done)),
        Step("questionnaires", str(_("Symptom questionnaires")), status(not never_taken, intake_done)),
        Step("evaluation", str(_("Evaluation with a clinician")), status(decision is not None, intake_done)),
        Step("cleared", str(_("Cleared for treatment")), status(bool(cleared), decision is not None)),
        Step("infusions", str(_("Infusions at home")), status(False, bool(cleared))),
    ]
    # Only the first unfinished step is "current".
    seen_current = False
    for step in steps:
        if step.status == "current":
            if seen_current:
                step.status = "todo"
            seen_current = True

    journey = Journey(steps=steps, eligibility=eligibility, due_instruments=[INSTRUMENTS[c] for c in due])
    if profile and profile.safety_review_required:
        journey.notice = str(
            _(
                "Thank you for telling us how you have been feeling. A clinician will call you soon. "
                "If you are in danger or thinking about harming yourself, call or text 988 now, or call 911."
            )
        )
        journey.notice_level = "warning"

    if not profile_done:
        journey.next_label, journey.next_url = str(_("Finish your details")), reverse("patients:profile")
        journey.next_text = str(_("We need your address, phone and who stays with you after each visit."))
    elif not intake_done:
        journey.next_label = str(_("Continue the health questions") if draft else _("Answer the health questions"))
        journey.next_url = reverse("patients:intake")
        journey.next_text = str(_("About 10 minutes. You can save and come back at any time."))
    elif triage is not None and triage.outcome == TriageOutcome.NOT_ELIGIBLE:
        journey.notice = str(patient_message(triage.outcome, triage.fired_rules))
        journey.notice_level = "info"
        journey.next_label, journey.next_url = str(_("Call us")), "tel:" + settings.CLINIC_PHONE_E164
        journey.next_text = str(_("If something has changed, you can update your health answers."))
    elif never_taken:
        journey.next_label = str(_("Answer the symptom questionnaires"))
        journey.next_url = reverse("patients:screening", args=[never_taken[0]])
        journey.next_text = str(_("Three short questionnaires, about 10 minutes in all."))
    elif decision is None and (evaluation := _upcoming_evaluation(patient)) is not None:
        local = timezone.localtime(evaluation.starts_at)
        journey.next_label, journey.next_url = str(_("See your evaluation")), _visit_url(evaluation)
        journey.next_text = str(
            _("Your video evaluation is booked for %(when)s. Your clinician will go through your answers with you.")
        ) % {"when": f"{date_format(local, 'l, F j, g:i A')} {local.tzname()}"}
    elif decision is None:
        journey.next_label, journey.next_url = str(_("Book your evaluation")), book_url()
        journey.next_text = str(_("A video visit with a clinician licensed in your state."))
    elif decision.decision == ClearanceDecision.MORE_INFO:
        journey.next_label, journey.next_url = str(_("Update your health answers")), reverse("patients:intake")
        journey.next_text = str(_("Your clinician needs a little more information. They will tell you what."))
    elif decision.decision == ClearanceDecision.DECLINED:
        journey.next_label, journey.next_url = str(_("Call us")), "tel:" + settings.CLINIC_PHONE_E164
        journey.next_text = str(_("Your clinician decided that ketamine is not the right treatment for you now."))
    elif eligibility.can_book_infusion:
        journey.next_label, journey.next_url = str(_("Book your infusions")), book_url()
        journey.next_text = str(_("Pick times for your treatment plan, one at a time or the whole series."))
    elif cleared:
        journey.next_label, journey.next_url = "", ""
        journey.next_text = str(eligibility.reason)
    else:
        journey.next_label, journey.next_url = str(_("Book your evaluation")), book_url()
        journey.next_text = str(_("Your clearance has ended. A new evaluation renews it."))
    return journey


# --- the clinicians' review queue --------------------------------------------------------------


# Open safety alerts first, then check-ins to review, then the longest waiting for a decision.
REVIEW_QUEUE_ORDER = ("-has_open_alert", "-has_checkin_to_review", F("intake_sent_at").asc(nulls_last=True), "pk")


def review_queue(queryset=None, *, waiting_only=True):
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


def review_queue_waiting(queryset):
    """Of an annotated review queue: an open safety alert, a flagged check-in not yet reviewed, or an
    intake sent since the last decision."""
    return queryset.filter(
        Q(has_open_alert=True)
        | Q(has_checkin_to_review=True)
        | Q(intake_sent_at__isnull=False, decided_at__isnull=True)
        | Q(intake_sent_at__isnull=False, intake_sent_at__gt=F("decided_at"))
    )


# --- what a clinician reads before deciding -------------------------------------------------------


def review_summary_for(*, patient):
    """Everything a clinician needs on one screen: who, safety alerts, intake, triage, scores, decisions."""
    from .instruments import band_label
    from .intake import QUESTIONS, answers_for_display
    from .models import age_on
    from .triage import rules_for_ids

    profile = profile_get(patient=patient)
    latest = intake_latest_sent(patient=patient)
    triage = _triage_of(latest) if latest else None
    fired = rules_for_ids(triage.fired_rules) if triage else []
    flagged_keys = {rule.question for rule in fired}
    screenings = [
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
            if rule.question in QUESTIONS
            else {"rule": rule, "answer": ""}
            for rule in fired
        ],
        "flagged_keys": flagged_keys,
        "sections": answers_for_display(latest.answers) if latest else [],
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
