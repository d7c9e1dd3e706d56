"""May this patient receive an infusion now? The one question, and the one answer every path asks.

`infusion_permission_for(*, patient, at=None, visit=None)` answers it with a `Permission`: allowed,
or not with its reasons. Every path that books, moves, reassigns, confirms, starts (check-in),
charts vitals before the drug, or records a dose asks it: the booking guard (every booking and
move goes through it), `visit_confirm`, the hold receiver below, and the nurse's step check
(nurses/services/chart.py). A path that does not ask it is a bug; tests make each path prove it
asks.

The answer has two parts.

- **Clinical** (the clinical record's, built on `patients.selectors.booking_eligibility_for`): an
  open safety alert of any origin (PHQ-9 item 9, danger words in anything the patient writes to
  us, severe side effects reported after an infusion, a serious adverse event charted during one),
  a latest intake whose triage is not eligible or raises a review rule the clearance did not see,
  a clearance declined, revoked or past its expiry on the day of the infusion. Whatever else
  `booking_eligibility_for` refuses (a consent, a new rule) becomes a reason too, in its own
  words, without a change here.
- **The plan** (booking's, for infusions of the plan): its number of infusions, the minimum hours
  between two of them (real elapsed hours, as availability counts them) and its window (all of
  them within so many days). `PlanUsage` also tells the booking pages which days offer nothing
  and why ("at least 48 hours after your infusion on ...").

Codes are stable (stored on holds); words are for people: `patient_words` never carry a clinical
detail, `staff_words` are for the clinical team (nurses, clinicians), never for schedulers.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from concierge.models import User
from patients import selectors as patient_selectors
from patients.models import Clearance, ClearanceDecision, TriageOutcome
from patients.selectors import PatientRecord
from patients.triage import rules_for_ids

from . import availability
from .models import BLOCKING_STATUSES, Service, ServiceKind, Visit, VisitStatus, hold_lapsed

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Who can clear a reason (shown to staff and patients; a hold itself is always released by a clinician).
CLINICIAN = "clinician"
PATIENT = "patient"

# The reasons' codes.
SAFETY_ALERT = "safety_alert"
TRIAGE_NOT_ELIGIBLE = "triage_not_eligible"
TRIAGE_REVIEW = "triage_review"
NOT_CLEARED = "not_cleared"
CLEARANCE_DECLINED = "clearance_declined"
CLEARANCE_REVOKED = "clearance_revoked"
CLEARANCE_EXPIRED = "clearance_expired"
CLINICAL = "clinical"  # anything else the clinical record refuses, in its own words
PLAN_USED_UP = "plan_used_up"
PLAN_SPACING = "plan_spacing"
PLAN_WINDOW = "plan_window"

# Short labels of the codes, for the clinical team (admin, the nurse's banner).
REASON_LABELS: dict[str, "StrOrPromise"] = {
    SAFETY_ALERT: _("open safety alert"),
    TRIAGE_NOT_ELIGIBLE: _("new health answers: not eligible"),
    TRIAGE_REVIEW: _("new health answers to review"),
    NOT_CLEARED: _("not cleared"),
    CLEARANCE_DECLINED: _("clearance declined"),
    CLEARANCE_REVOKED: _("clearance revoked"),
    CLEARANCE_EXPIRED: _("clearance expired"),
    CLINICAL: _("clinical review"),
    PLAN_USED_UP: _("plan's infusions used up"),
    PLAN_SPACING: _("too close to another infusion"),
    PLAN_WINDOW: _("outside the plan's window"),
}

# The kinds of visit that are infusions (the clinical part applies), and those a plan counts.
INFUSION_KINDS = (ServiceKind.INFUSION, ServiceKind.BOOSTER)
PLAN_KINDS = (ServiceKind.INFUSION,)
COUNTED_STATUSES = (*BLOCKING_STATUSES, VisitStatus.COMPLETED)


@dataclass(frozen=True)
class Reason:
    code: str
    patient_words: "StrOrPromise"
    staff_words: "StrOrPromise"
    safety: bool = False  # a danger sign: the patient is shown 988 and 911
    released_by: str = CLINICIAN


@dataclass(frozen=True)
class Permission:
    reasons: tuple[Reason, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.reasons

    @property
    def safety(self) -> bool:
        return any(r.safety for r in self.reasons)

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    @property
    def patient_words(self) -> "StrOrPromise":
        """What the patient reads: the first reason (the most serious comes first)."""
        return self.reasons[0].patient_words if self.reasons else ""

    @property
    def staff_words(self) -> str:
        return " ".join(str(r.staff_words) for r in self.reasons)


def _when(moment: datetime, time_zone: str) -> str:
    local = moment.astimezone(availability.zone(time_zone))
    return f"{formats.date_format(local, 'SHORT_DAY_FORMAT')}, {formats.time_format(local, 'g:i A')} {local.tzname()}"


def _day(day: date) -> str:
    return formats.date_format(day, "SHORT_DAY_FORMAT")


# --- the plan: booking's part -----------------------------------------------------------------


@dataclass(frozen=True)
class PlanUsage:
    """A treatment plan and the infusions booked (held, on hold) or given under it, but one."""

    clearance: Clearance
    starts: tuple[datetime, ...]  # the other infusions of the plan, in time order (UTC)
    time_zone: str

    @property
    def planned(self) -> int:
        return self.clearance.infusions_planned

    @property
    def full(self) -> bool:
        return len(self.starts) >= self.planned

    @property
    def min_gap(self) -> timedelta:
        return timedelta(hours=self.clearance.min_hours_between)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(availability.zone(self.time_zone)).date()

    def window(self) -> tuple[date, date] | None:
        """(first, last) local day another infusion may fall on so that all fit the plan's window."""
        if not self.starts:
            return None
        days = self.clearance.series_window_days - 1
        return self.local_date(self.starts[-1]) - timedelta(days=days), self.local_date(self.starts[0]) + timedelta(
            days=days
        )

    def used_up(self) -> Reason:
        return Reason(
            PLAN_USED_UP,
            _(
                "All %(n)s infusions of your treatment plan are booked or done. "
                "Your clinician will talk with you about what comes next."
            )
            % {"n": self.planned},
            _("The plan's %(n)s infusions are all booked or given.") % {"n": self.planned},
        )

    def reasons_at(self, at: datetime | None) -> list[Reason]:
        """The plan's refusals for an infusion at `at` (only the count when `at` is None)."""
        if self.full:
            return [self.used_up()]
        if at is None:
            return []
        reasons = []
        hours = self.clearance.min_hours_between
        close = [s for s in self.starts if abs(s - at) < self.min_gap]
        if close:
            when = _when(close[0], self.time_zone)
            reasons.append(
                Reason(
                    PLAN_SPACING,
                    _(
                        "Infusions must be at least %(hours)s hours apart: this is too close to your infusion "
                        "on %(when)s."
                    )
                    % {"hours": hours, "when": when},
                    _("Less than %(hours)s hours from the infusion on %(when)s.") % {"hours": hours, "when": when},
                )
            )
        window = self.window()
        if window is not None and not window[0] <= self.local_date(at) <= window[1]:
            days = self.clearance.series_window_days
            first, last = _day(window[0]), _day(window[1])
            reasons.append(
                Reason(
                    PLAN_WINDOW,
                    _(
                        "All the infusions of your plan must fall within %(days)s days: choose a day from %(first)s "
                        "to %(last)s."
                    )
                    % {"days": days, "first": first, "last": last},
                    _("Outside the plan's %(days)s-day window (%(first)s to %(last)s).")
                    % {"days": days, "first": first, "last": last},
                )
            )
        return reasons

    def allows_day(self, day: date) -> bool:
        window = self.window()
        return not self.full and (window is None or window[0] <= day <= window[1])

    def day_note(self, day: date) -> "StrOrPromise":
        """Why a day that offers no time may be refused by the plan, in the patient's words (or "")."""
        if self.full:
            return _("Your plan's infusions are all booked.")
        window = self.window()
        if window is not None and not window[0] <= day <= window[1]:
            return _("Outside your plan's %(days)s days.") % {"days": self.clearance.series_window_days}
        zone = availability.zone(self.time_zone)
        start = datetime.combine(day, time(0), tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        # Short: it fits a day's cell on a phone; the page above the days states the spacing rule.
        if any(start <= other < end for other in self.starts):
            return _("You have an infusion this day.")
        for other in self.starts:
            if other + self.min_gap > start and other - self.min_gap < end:
                return _("Too close to your infusion on %(day)s.") % {"day": _day(self.local_date(other))}
        return ""


def plan_usage_for(
    *,
    patient: User,
    clearance: Clearance,
    time_zone: str,
    exclude_visit_id: int | None = None,
    now: datetime | None = None,
) -> PlanUsage:
    """The plan's infusions booked or given (a hold past its time is dead), leaving one visit out."""
    now = now or timezone.now()
    starts = (
        Visit.objects.filter(
            patient=patient, clearance=clearance, service__kind__in=PLAN_KINDS, status__in=COUNTED_STATUSES
        )
        .exclude(hold_lapsed(now))
        .exclude(pk=exclude_visit_id or 0)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
    )
    return PlanUsage(clearance=clearance, starts=tuple(starts), time_zone=time_zone)


# --- the clinical record's part ---------------------------------------------------------------


def _patient_zone(record: PatientRecord) -> str:
    profile = record.profile
    return (profile.time_zone if profile is not None else "") or settings.TIME_ZONE


def _safety_reasons(patient: User) -> list[Reason]:
    alerts = list(patient_selectors.safety_alerts_open_for(patient=patient))
    if not alerts:
        return []
    sources = ", ".join(sorted({str(a.get_reason_display()) for a in alerts}))
    return [
        Reason(
            SAFETY_ALERT,
            _("A clinician from our team needs to speak with you before your next infusion. We will call you soon."),
            _("Open safety alert (%(sources)s): a clinician must speak with the patient first.") % {"sources": sources},
            # 988/911 with it only for a danger sign, not for a side effect or an adverse event.
            safety=any(alert.is_danger_sign for alert in alerts),
        )
    ]


def _triage_reasons(record: PatientRecord, active: Clearance | None) -> list[Reason]:
    patient = record.patient
    latest = record.latest_intake
    triage = patient_selectors.triage_of(latest) if latest is not None else None
    words = _(
        "You updated your health answers. A clinician needs to go through them with you before your next "
        "infusion. We will call you."
    )
    if triage is not None and triage.outcome == TriageOutcome.NOT_ELIGIBLE:
        rules = "; ".join(str(rule.staff_text or rule.id) for rule in rules_for_ids(triage.fired_rules))
        return [
            Reason(
                TRIAGE_NOT_ELIGIBLE, words, _("Latest health answers are not eligible (%(rules)s).") % {"rules": rules}
            )
        ]
    if active is not None and patient_selectors.intake_raises_something_new(patient=patient, clearance=active):
        return [Reason(TRIAGE_REVIEW, words, _("Latest health answers raise something the clearance did not review."))]
    return []


def _clearance_reasons(patient: User, day: date, active: Clearance | None) -> list[Reason]:
    if active is not None:
        return []
    latest = patient_selectors.clearance_latest_for(patient=patient)
    if latest is None:
        words = _("Infusions can be booked once a clinician has cleared you.")
        return [Reason(NOT_CLEARED, words, _("Not cleared for infusions."))]
    if latest.decision == ClearanceDecision.DECLINED:
        return [
            Reason(
                CLEARANCE_DECLINED,
                _("A clinician has not cleared you for infusions. Please call us to talk about what may help."),
                _("The clinician declined the clearance."),
            )
        ]
    if latest.revoked_at is not None:
        return [
            Reason(
                CLEARANCE_REVOKED,
                _("A clinician has withdrawn your clearance for infusions. We will call you about what comes next."),
                _("The clearance was revoked: %(reason)s") % {"reason": latest.revoked_reason or "—"},
            )
        ]
    ends = formats.date_format(latest.expires_on, "DATE_FORMAT") if latest.expires_on else "—"
    if latest.expires_on is not None and latest.expires_on >= timezone.localdate():
        patient_words = _(
            "Your clearance ends on %(date)s. Please choose an earlier time or speak with your clinician."
        ) % {"date": ends}
    else:
        patient_words = _(
            "Your clearance ended on %(date)s. A clinician needs to renew it before your next infusion."
        ) % {"date": ends}
    return [
        Reason(
            CLEARANCE_EXPIRED,
            patient_words,
            _("The clearance ends on %(date)s, before %(day)s.") % {"date": ends, "day": _day(day)},
        )
    ]


def clinical_reasons(*, patient: User, day: date, record: PatientRecord | None = None) -> list[Reason]:
    """The clinical record's refusals for an infusion on `day` (the patient's local date).

    `record`: the patient's rows already read for this question (each read once).
    """
    record = record or PatientRecord(patient)
    active = record.clearance_active(day)
    reasons = [
        *_safety_reasons(patient),
        *_triage_reasons(record, active),
        *_clearance_reasons(patient, day, active),
    ]
    eligibility = patient_selectors.booking_eligibility_for(patient=patient, record=record)
    if not eligibility.can_book_infusion and not reasons:
        # Something the clinical record knows and this module does not (yet): its own words.
        words = eligibility.reason or _("A clinician needs to speak with you before your next infusion.")
        reasons.append(Reason(CLINICAL, words, words))
    return reasons


# --- the one question ---------------------------------------------------------------------------


def infusion_permission_for(
    *,
    patient: User,
    at: datetime | None = None,
    visit: Visit | None = None,
    service: Service | None = None,
    now: datetime | None = None,
) -> Permission:
    """May this patient receive an infusion at `at` (a booked visit's, a new time's, or now)?

    `visit`: the visit concerned (its service, its zone, and left out of the plan's count).
    `at=None`: any time soon: the plan's count, not its spacing or window. A visit that is not an
    infusion (a video evaluation) is always allowed: this question is about infusions.
    """
    now = now or timezone.now()
    service = visit.service if visit is not None else service
    if service is not None and service.kind not in INFUSION_KINDS:
        return Permission()
    record = PatientRecord(patient)  # profile, latest intake and decisions read once for every part
    time_zone = visit.time_zone if visit is not None else _patient_zone(record)
    day = (at or now).astimezone(availability.zone(time_zone)).date()
    reasons = clinical_reasons(patient=patient, day=day, record=record)
    clearance = record.clearance_active(day)
    if clearance is not None and (service is None or service.kind in PLAN_KINDS):
        usage = plan_usage_for(
            patient=patient,
            clearance=clearance,
            time_zone=time_zone,
            exclude_visit_id=visit.pk if visit is not None else None,
            now=now,
        )
        reasons += usage.reasons_at(at)
    return Permission(tuple(reasons))


def reason_labels(codes: Sequence[str]) -> str:
    """ "open safety alert; clearance revoked": the stored codes of a hold, in words."""
    return "; ".join(str(REASON_LABELS.get(code, code)) for code in codes)
