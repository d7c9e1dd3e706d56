"""The patient's path: where they stand (profile → intake → questionnaires → evaluation →
cleared → infusions), and the one thing to do next. Shown on the dashboard and after sending the
health questions."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from concierge.models import User
from notifications.facts import VisitFacts

from .instruments import INSTRUMENT_ORDER, INSTRUMENTS, InstrumentDefinition
from .models import (
    Clearance,
    ClearanceDecision,
    IntakeResponse,
    PatientProfile,
    TriageOutcome,
    TriageResult,
)
from .selectors import (
    Eligibility,
    PatientRecord,
    booking_eligibility_for,
    triage_of,
)
from .triage import patient_message

# Booking's answer to "what is this patient's next booked evaluation?"
EvaluationFinder = Callable[[User], VisitFacts | None]


def book_url() -> str:
    """The booking page (booking app, linked by its URL name)."""
    return reverse("booking:book")


def _upcoming_evaluation(patient: User) -> VisitFacts | None:
    """The patient's next booked evaluation visit, or None: asked of booking, which sits above us
    and registers the answer when it starts (`evaluation_finder_register`)."""
    return _evaluation_finder(patient) if _evaluation_finder is not None else None


# Booking's finder, registered when it starts (booking/apps.py).
_evaluation_finder: EvaluationFinder | None = None


def evaluation_finder_register(finder: EvaluationFinder) -> None:
    """Booking tells the patient's path how to find their next booked evaluation visit."""
    global _evaluation_finder
    _evaluation_finder = finder


def _visit_url(visit: VisitFacts) -> str:
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
    steps: list[Step]
    next_label: str = ""
    next_url: str = ""
    next_text: str = ""
    notice: str = ""  # a calm message shown above everything (safety hold, not eligible)
    notice_level: str = "info"
    due_instruments: list[InstrumentDefinition] = field(default_factory=list)
    eligibility: Eligibility | None = None


@dataclass(frozen=True)
class _Standing:
    """What the path is drawn from, read once per page."""

    profile: PatientProfile | None
    profile_done: bool
    draft: IntakeResponse | None
    intake_done: bool  # a version of the health questions was sent
    triage: TriageResult | None
    never_taken: list[str]  # questionnaires never answered, in the order they are asked
    due: list[str]  # questionnaires never answered or due again
    decision: Clearance | None  # the latest clinician's decision, whatever it was
    eligibility: Eligibility
    cleared: bool


def journey_for(*, patient: User, record: PatientRecord | None = None) -> Journey:
    """Where the patient stands (profile → intake → questionnaires → evaluation → cleared → infusions)
    and the one thing to do next. `record`: the patient's rows already read for this page."""
    standing = _standing(patient, record or PatientRecord(patient))
    journey = Journey(
        steps=_steps(standing),
        eligibility=standing.eligibility,
        due_instruments=[INSTRUMENTS[c] for c in standing.due],
    )
    if standing.profile and standing.profile.safety_review_required:
        journey.notice = str(
            _(
                "A clinician from our team needs to speak with you before your next infusion and will call you "
                "soon. If you are in danger or thinking about harming yourself, call or text 988 now, or call 911."
            )
        )
        journey.notice_level = "warning"
    _next_step_set(journey, standing, patient)
    return journey


def _standing(patient: User, record: PatientRecord) -> _Standing:
    profile = record.profile
    latest = record.latest_intake
    # instrument -> when it was last answered (the answers come oldest first: the last one wins)
    last_taken = {response.instrument: response.submitted_at for response in record.screenings}
    decision = record.decisions[0] if record.decisions else None
    eligibility = booking_eligibility_for(patient=patient, record=record)
    retake_before = timezone.now() - timedelta(days=settings.SCREENING_RETAKE_DAYS)
    return _Standing(
        profile=profile,
        profile_done=bool(profile and profile.is_complete),
        draft=record.intake_draft,
        intake_done=latest is not None,
        triage=triage_of(latest) if latest else None,
        never_taken=[code for code in INSTRUMENT_ORDER if code not in last_taken],
        due=[code for code in INSTRUMENT_ORDER if code not in last_taken or last_taken[code] < retake_before],
        decision=decision,
        eligibility=eligibility,
        cleared=bool(eligibility.can_book_infusion or (decision is not None and record.clearance_active())),
    )


def _status(done: bool, current: bool) -> str:
    return "done" if done else ("current" if current else "todo")


def _steps(standing: _Standing) -> list[Step]:
    decided = standing.decision is not None
    steps = [
        Step("profile", str(_("Your details")), _status(standing.profile_done, True)),
        Step("intake", str(_("Health questions")), _status(standing.intake_done, standing.profile_done)),
        Step(
            "questionnaires",
            str(_("Symptom questionnaires")),
            _status(not standing.never_taken, standing.intake_done),
        ),
        Step("evaluation", str(_("Evaluation with a clinician")), _status(decided, standing.intake_done)),
        Step("cleared", str(_("Cleared for treatment")), _status(standing.cleared, decided)),
        Step("infusions", str(_("Infusions at home")), _status(False, standing.cleared)),
    ]
    # Only the first unfinished step is "current".
    seen_current = False
    for step in steps:
        if step.status == "current":
            if seen_current:
                step.status = "todo"
            seen_current = True
    return steps


def _next_step_set(journey: Journey, standing: _Standing, patient: User) -> None:
    """The one thing to do next: the first of these that applies."""
    triage, decision, eligibility = standing.triage, standing.decision, standing.eligibility
    if not standing.profile_done:
        journey.next_label, journey.next_url = str(_("Finish your details")), reverse("patients:profile")
        journey.next_text = str(_("We need your address, phone and who stays with you after each visit."))
    elif not standing.intake_done:
        journey.next_label = str(
            _("Continue the health questions") if standing.draft else _("Answer the health questions")
        )
        journey.next_url = reverse("patients:intake")
        journey.next_text = str(_("About 10 minutes. You can save and come back at any time."))
    elif triage is not None and triage.outcome == TriageOutcome.NOT_ELIGIBLE:
        journey.notice = str(patient_message(triage.outcome, triage.fired_rules))
        journey.notice_level = "info"
        journey.next_label, journey.next_url = str(_("Call us")), "tel:" + settings.CLINIC_PHONE_E164
        journey.next_text = str(_("If something has changed, you can update your health answers."))
    elif standing.never_taken:
        journey.next_label = str(_("Answer the symptom questionnaires"))
        journey.next_url = reverse("patients:screening", args=[standing.never_taken[0]])
        journey.next_text = str(_("Three short questionnaires, about 10 minutes in all."))
    elif decision is None and (evaluation := _upcoming_evaluation(patient)) is not None:
        local = timezone.localtime(evaluation.starts_at)
        journey.next_label, journey.next_url = str(_("See your evaluation")), _visit_url(evaluation)
        journey.next_text = str(
            _("Your video evaluation is booked for %(when)s. Your clinician will go through your answers with you.")
        ) % {"when": f"{date_format(local, 'DAY_TIME_FORMAT')} {local.tzname()}"}
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
    elif standing.cleared:
        journey.next_label, journey.next_url = "", ""
        journey.next_text = str(eligibility.reason)
    else:
        journey.next_label, journey.next_url = str(_("Book your evaluation")), book_url()
        journey.next_text = str(_("Your clearance has ended. A new evaluation renews it."))
