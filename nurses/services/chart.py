"""What every chart step shares: the visit's clock, the locks, the chart row and its history.

Every use case in this package: checks the visit is in the right step, validates, writes new rows
(never changes a clinical row), moves the visit through booking's visit_transition (the one
life-cycle table), and logs a ChartEvent with who and when. Locks: booking's transition takes
Provider -> patient -> visit; the chart row is locked after those, always in that order.
Repeating a call (a double tap, a retried form) has one effect: steps already done are returned
as they are, and forms carry a token that is unique per chart.
"""

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from booking import safety
from booking.models import Visit, VisitStatus
from booking.services import hold_open_for, visit_locked, visit_transition
from concierge.errors import NotAllowed
from concierge.models import User
from nurses import protocol
from nurses.models import (
    ChartAmendment,
    ChartEvent,
    DischargeChecklist,
    DoseRecord,
    ProtocolOverride,
    VisitChart,
    VitalsReading,
)
from roster.selectors import oncall_phone_now

from .errors import ChartLocked, InfusionNotAllowed, NotOnVisitDay, TimeProblem, WrongStep

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

S_CONFIRMED, S_EN_ROUTE, S_IN_PROGRESS, S_COMPLETED, S_NO_SHOW = (
    "confirmed",
    "en_route",
    "in_progress",
    "completed",
    "no_show",
)
# A time typed on the chart may be this much before the check-in (a reading taken at the door).
BEFORE_ARRIVAL = timedelta(minutes=10)


# --- the visit's clock: its own time zone -------------------------------------------------------


def visit_zone(visit: Visit) -> ZoneInfo:
    return ZoneInfo(visit.time_zone)


def visit_local_date(visit: Visit) -> date:
    return visit.starts_at.astimezone(visit_zone(visit)).date()


def local_moment(visit: Visit, clock_time: time) -> datetime:
    """A wall-clock time typed by the nurse, on the visit's date, in the visit's zone (aware)."""
    return datetime.combine(visit_local_date(visit), clock_time, tzinfo=visit_zone(visit))


def local_text(visit: Visit, moment: datetime) -> str:
    local = moment.astimezone(visit_zone(visit))
    return f"{formats.time_format(local, 'g:i A')} {local.tzname()}"


def on_visit_day(visit: Visit, now: datetime) -> bool:
    return now.astimezone(visit_zone(visit)).date() == visit_local_date(visit)


def require_visit_day(visit: Visit, now: datetime) -> None:
    if not on_visit_day(visit, now):
        raise NotOnVisitDay()


def time_check(
    visit: Visit,
    moment: datetime,
    now: datetime,
    *,
    field: str,
    not_before: datetime | None = None,
    label: "StrOrPromise",
) -> None:
    if moment > now + timedelta(minutes=protocol.CLOCK_SKEW_MINUTES):
        raise TimeProblem(_("%(label)s cannot be in the future.") % {"label": label}, extra={"field": field})
    if not_before is not None and moment < not_before:
        raise TimeProblem(
            _("%(label)s cannot be before %(time)s.") % {"label": label, "time": local_text(visit, not_before)},
            extra={"field": field},
        )


def earliest_time(chart: VisitChart) -> datetime:
    """The earliest time the nurse may type on an open chart: a little before they checked in."""
    if chart.arrived_at is None:
        raise WrongStep(_("Check in first."))
    return chart.arrived_at - BEFORE_ARRIVAL


# --- the visit and its chart, locked ----------------------------------------------------------------


def require_nurse(visit: Visit, nurse: User) -> None:
    # Views find visits through the nurse's own list; this is the same rule for any other caller.
    if visit.provider is None or visit.provider.user_id != nurse.pk:
        raise NotAllowed(_("This visit is not assigned to you."))


def visit_fresh(visit: Visit) -> Visit:
    """The visit re-read under booking's locks (its provider, its patient, then the visit): two taps
    racing on one visit queue up here, and the second sees what the first did."""
    return visit_locked(visit, related=("provider__user", "patient", "service", "clearance"))


def hold_words(visit: Visit) -> str:
    """Why a visit on hold waits, for the nurse (the open hold's reasons), or ""."""
    hold = hold_open_for(visit) if visit.status == VisitStatus.ON_HOLD else None
    return (hold.staff_words or safety.reason_labels(hold.reasons)) if hold is not None else ""


def infusion_step_check(visit: Visit, *, at: datetime, now: datetime) -> None:
    """THE check of every step that starts or gives an infusion ("on my way", check-in, vitals
    before the drug, the dose): the visit is not on hold, and booking's one question
    (booking/safety.py: may this patient receive an infusion at `at`?) says yes. Otherwise
    InfusionNotAllowed, with the reason in words and the on-call clinician's number.

    Asked here, on the fresh locked visit, because a warning sign can arrive after the visit was
    booked (and a clearance can run out) while nothing has put the visit on hold yet.
    """
    phone = oncall_phone_now().display
    if visit.status == VisitStatus.ON_HOLD:
        raise InfusionNotAllowed(
            _(
                "This visit is on hold for clinician review: %(why)s Do not start. "
                "Call the on-call clinician at %(phone)s."
            )
            % {"why": hold_words(visit) or _("a clinician must speak with the patient first."), "phone": phone}
        )
    permission = safety.infusion_permission_for(patient=visit.patient, at=at, visit=visit, now=now)
    if not permission.allowed:
        raise InfusionNotAllowed(
            _("Do not start: %(why)s Call the on-call clinician at %(phone)s.")
            % {"why": permission.staff_words, "phone": phone}
        )


def transition(visit: Visit, to: str, nurse: User, now: datetime) -> None:
    visit_transition(visit=visit, to=to, actor=nurse, now=now)


def chart_lock(visit: Visit) -> VisitChart | None:
    """The visit's chart, locked (after the visit: the order above), or None before the first step."""
    return VisitChart.objects.select_for_update().filter(visit=visit).first()


def chart_lock_or_create(visit: Visit, nurse: User) -> VisitChart:
    """The visit's chart, locked, created for this nurse when missing."""
    chart = chart_lock(visit)
    if chart is None:
        try:
            with transaction.atomic():
                VisitChart.objects.create(visit=visit, nurse=nurse)
        except IntegrityError:
            pass  # created by a parallel request: use that one
        chart = VisitChart.objects.select_for_update().get(visit=visit)
    return chart


def chart_open(visit: Visit) -> VisitChart:
    """The visit's chart, locked, checked in and not locked yet (else WrongStep or ChartLocked)."""
    chart = chart_lock(visit)
    if chart is None or chart.arrived_at is None:
        raise WrongStep(_("Check in first."))
    if chart.is_locked:
        raise ChartLocked()
    return chart


Record = TypeVar("Record", VitalsReading, DoseRecord, DischargeChecklist, ChartAmendment, ProtocolOverride)


def already_recorded(model: type[Record], chart: VisitChart, form_token: str) -> Record | None:
    """The row this form (its token) already wrote on this chart: sending it again has one effect."""
    if not form_token:
        return None
    return model.objects.filter(chart=chart, form_token=form_token).first()


def event_log(chart: VisitChart, kind: str, actor: User, summary: str, now: datetime) -> ChartEvent:
    event = ChartEvent(chart=chart, kind=kind, actor=actor, summary=str(summary)[:500], at=now)
    event.full_clean()
    event.save()
    return event
