"""The follow-up check-in the day after each home infusion: how the patient feels, side effects,
and the PHQ-9 or PCL-5 when due.

The notifications rule `checkin` (notifications/rules.py) emails a link the day after the visit,
10:00 in the visit's zone; it opens `/dashboard/check-in/<visit id>/`. Questionnaires answered
there go through the ordinary `screening_submit` (so they feed the score chart and the PHQ-9
item 9 safety path). A worrying check-in goes to the clinicians' queue: it feels very bad,
severe side effects, a score worse by a clinically meaningful change (settings.CHECKIN_WORSE_BY),
PHQ-9 item 9 above 0, or words that suggest danger (which also raise a safety alert, as a
message does). One check-in per visit: sending it again changes nothing.

When a questionnaire is due: the PHQ-9 when the last one is CHECKIN_SCREENING_DUE_DAYS (7) days
old or more (or there is none); the PCL-5 likewise, for patients whose latest clearance
diagnosis is PTSD.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import ServiceKind, Visit, VisitStatus
from concierge.errors import InvalidState, NotAllowed
from concierge.models import Role, User
from notifications.models import Message
from notifications.services import staff_alert_email
from patients.danger_words import danger_words_in
from patients.models import Clearance, ClearanceDecision, Diagnosis, Instrument, ScreeningResponse
from patients.services import _profile_locked, safety_alert_raise, screening_submit

from .models import CheckInFlag, Feeling, FollowUpCheckIn, SideEffectSeverity

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

logger = logging.getLogger(__name__)

CHECKIN_INSTRUMENTS = (Instrument.PHQ9, Instrument.PCL5)


# --- reads -----------------------------------------------------------------------------------------


def _home_visits(patient: User) -> QuerySet[Visit]:
    return Visit.objects.filter(
        patient=patient, service__kind__in=(ServiceKind.INFUSION, ServiceKind.BOOSTER)
    ).select_related("service")


def checkin_visit_get(*, patient: User, pk: int) -> Visit | None:
    """This patient's home infusion with that id, or None (another patient's id finds nothing)."""
    return _home_visits(patient).filter(pk=pk).first()


def checkin_problem(*, visit: Visit, now: datetime | None = None) -> "StrPromise | None":
    """Why this visit's check-in cannot be answered now, or None."""
    now = now or timezone.now()
    if visit.status in (VisitStatus.CANCELLED, VisitStatus.NO_SHOW, VisitStatus.HELD, VisitStatus.EXPIRED):
        return _("This visit did not take place, so there is nothing to check in about.")
    if visit.status != VisitStatus.COMPLETED and visit.ends_at > now:
        return _("You can tell us how you are once your visit is over.")
    return None


def _ended(now: datetime) -> Q:
    # Completed by the nurse, or past its end while the chart is still open.
    return Q(status=VisitStatus.COMPLETED) | Q(
        status__in=(VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE, VisitStatus.IN_PROGRESS), ends_at__lte=now
    )


def checkins_to_do(*, patient: User, now: datetime | None = None, within_days: int = 7) -> QuerySet[Visit]:
    """Home infusions of the last `within_days` days whose check-in the patient has not answered.

    For the dashboard's cards, which show when each was: only its start and time zone are read.
    """
    now = now or timezone.now()
    return (
        _home_visits(patient)
        .filter(_ended(now), starts_at__gte=now - timedelta(days=within_days), checkin__isnull=True)
        .select_related(None)
        .only("starts_at", "time_zone")
        .order_by("-starts_at")
    )


def checkin_get(*, visit: Visit) -> FollowUpCheckIn | None:
    return FollowUpCheckIn.objects.filter(visit=visit).first()


def _latest_diagnosis(patient: User) -> str | None:
    latest = (
        Clearance.objects.filter(patient=patient, decision=ClearanceDecision.CLEARED)
        .order_by("-decided_at", "-id")
        .values_list("diagnosis", flat=True)
        .first()
    )
    return latest


def due_instruments(*, patient: User, now: datetime | None = None) -> list[str]:
    """The questionnaires this check-in asks (in order): see the module docstring."""
    now = now or timezone.now()
    last = dict(
        ScreeningResponse.objects.filter(patient=patient, instrument__in=CHECKIN_INSTRUMENTS)
        .values("instrument")
        .annotate(last=Max("submitted_at"))
        .values_list("instrument", "last")
    )
    stale_before = now - timedelta(days=settings.CHECKIN_SCREENING_DUE_DAYS)

    def due(code: str) -> bool:
        return last.get(code) is None or last[code] <= stale_before

    wanted = [Instrument.PHQ9]
    if _latest_diagnosis(patient) == Diagnosis.PTSD:
        wanted.append(Instrument.PCL5)
    return [code for code in wanted if due(code)]


# --- writes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningAnswers:
    """One questionnaire answered on the check-in page (as patients.forms.ScreeningForm gives it)."""

    item_answers: list[int]
    form_token: str
    difficulty: int | None = None
    started_at: datetime | None = None


def _previous_totals(patient: User) -> dict[str, int | None]:
    totals: dict[str, int | None] = {}
    for code in CHECKIN_INSTRUMENTS:
        row = (
            ScreeningResponse.objects.filter(patient=patient, instrument=code)
            .order_by("-submitted_at", "-id")
            .values_list("total", flat=True)
            .first()
        )
        totals[code] = row
    return totals


def _flags(
    *,
    feeling: int,
    severity: str,
    responses: Mapping[str, ScreeningResponse],
    previous: Mapping[str, int | None],
    danger: list[str],
) -> list[str]:
    flags = []
    if feeling == Feeling.VERY_BAD:
        flags.append(CheckInFlag.FEELING_VERY_BAD)
    if severity == SideEffectSeverity.SEVERE:
        flags.append(CheckInFlag.SEVERE_SIDE_EFFECTS)
    worse: dict[str, CheckInFlag] = {Instrument.PHQ9: CheckInFlag.PHQ9_WORSE, Instrument.PCL5: CheckInFlag.PCL5_WORSE}
    for code, response in responses.items():
        before = previous.get(code)
        if before is not None and response.total - before >= settings.CHECKIN_WORSE_BY[code]:
            flags.append(worse[code])
    phq9 = responses.get(Instrument.PHQ9)
    if phq9 is not None and phq9.needs_safety_review:
        flags.append(CheckInFlag.PHQ9_ITEM9)
    if danger:
        flags.append(CheckInFlag.DANGER_WORDS)
    return [str(flag) for flag in flags]


@transaction.atomic
def checkin_submit(
    *,
    patient: User,
    visit: Visit,
    feeling: int | str,
    side_effects: Iterable[str] = (),
    side_effect_severity: str = "",
    other_side_effect: str = "",
    screenings: Mapping[str, ScreeningAnswers] | None = None,
    now: datetime | None = None,
) -> FollowUpCheckIn:
    """Keep the patient's check-in for this visit, with the questionnaires due (`screenings`:
    {instrument code: ScreeningAnswers}). Returns the check-in.

    Sending it twice returns the first and changes nothing. Worrying answers go to the
    clinicians' queue with an email to the on-call clinician; words suggesting danger also
    raise a safety alert.
    """
    now = now or timezone.now()
    if visit.patient_id != patient.pk:
        raise NotAllowed()
    _profile_locked(patient)  # one check-in at a time for a patient: a double submit finds the first
    existing = checkin_get(visit=visit)
    if existing is not None:
        return existing
    problem = checkin_problem(visit=visit, now=now)
    if problem:
        raise InvalidState(problem)
    side_effects = list(dict.fromkeys(side_effects or []))
    checkin = FollowUpCheckIn(
        visit=visit,
        patient=patient,
        feeling=feeling,
        side_effects=side_effects,
        side_effect_severity=side_effect_severity if side_effects else "",
        other_side_effect=(other_side_effect or "").strip(),
        submitted_at=now,
    )
    checkin.full_clean(exclude=["phq9", "pcl5"], validate_unique=False)
    previous = _previous_totals(patient)  # before this check-in's questionnaires are kept
    responses = _screenings_submit(patient, screenings or {})
    danger = danger_words_in(checkin.other_side_effect)
    checkin.phq9 = responses.get(Instrument.PHQ9)
    checkin.pcl5 = responses.get(Instrument.PCL5)
    checkin.flags = _flags(
        feeling=int(feeling),
        severity=checkin.side_effect_severity,
        responses=responses,
        previous=previous,
        danger=danger,
    )
    checkin.full_clean()
    checkin.save()
    if danger:
        safety_alert_raise(checkin=checkin, patient=patient, matched_words=danger)
    elif holds_next_infusion(checkin):
        # Not a danger sign, but the next infusion waits for a clinician's review: an alert holds
        # it (no crisis panel) and tells the on-call clinician, as the flags' email would have.
        safety_alert_raise(
            checkin=checkin,
            patient=patient,
            side_effects=True,
            matched_words=checkin.side_effects,
            source_text=checkin.other_side_effect,
        )
    elif checkin.flags and CheckInFlag.PHQ9_ITEM9 not in checkin.flags:
        # (PHQ-9 item 9 has emailed the on-call clinician already, through its own alert.)
        _notify_oncall(checkin)
    logger.info("check-in %s for visit %s sent (%s flags)", checkin.pk, visit.pk, len(checkin.flags))
    return checkin


def holds_next_infusion(checkin: FollowUpCheckIn) -> bool:
    """Severe side effects: not a danger sign, but the next infusion waits for a clinician's
    review (checkin_submit raises the alert; the thanks page says so)."""
    return CheckInFlag.SEVERE_SIDE_EFFECTS in checkin.flags


def _screenings_submit(patient: User, screenings: Mapping[str, ScreeningAnswers]) -> dict[str, ScreeningResponse]:
    """Keep the questionnaires answered on the check-in page (only those a check-in asks)."""
    responses = {}
    for code, answers in screenings.items():
        if code not in CHECKIN_INSTRUMENTS:
            raise ValueError(f"a check-in does not ask {code}")
        responses[code] = screening_submit(
            patient=patient,
            instrument=code,
            item_answers=answers.item_answers,
            difficulty=answers.difficulty,
            form_token=answers.form_token,
            started_at=answers.started_at,
        )
    return responses


def _notify_oncall(checkin: FollowUpCheckIn) -> Message:
    link = settings.SITE_URL + reverse("admin:portal_followupcheckin_change", args=[checkin.pk])
    return staff_alert_email(
        to=settings.ONCALL_CLINICIAN_EMAIL,
        subject=str(_("A patient's check-in needs a look")),
        body=str(
            _(
                "A patient's answers the day after their visit need a clinician's look today.\n\n"
                "Open them in the clinic admin (login required):\n%(link)s"
            )
        )
        % {"link": link},
        unique_key=f"checkin-flagged:{checkin.pk}",
    )


@transaction.atomic
def checkin_mark_reviewed(*, checkin: FollowUpCheckIn, clinician: User) -> FollowUpCheckIn:
    """A clinician has looked at a flagged check-in (and done what it needed). Safe to repeat."""
    if not clinician.has_role(Role.CLINICIAN):
        raise NotAllowed(_("Only a clinician can do this."))
    checkin = FollowUpCheckIn.objects.select_for_update().get(pk=checkin.pk)
    if checkin.reviewed_at is None:
        checkin.reviewed_at, checkin.reviewed_by = timezone.now(), clinician
        checkin.save(update_fields=["reviewed_at", "reviewed_by"])
    return checkin
