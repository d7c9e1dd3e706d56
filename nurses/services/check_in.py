"""At the door: the nurse checks in (arrival, the confirmations, baseline vitals) and the visit is
IN_PROGRESS, or nobody can be treated and the visit is a NO_SHOW."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Visit
from concierge.errors import ApplicationError, InvalidState
from concierge.models import User
from nurses.models import ChartEventKind, ChartOutcome, ReadingKind, VisitChart

from .chart import (
    S_CONFIRMED,
    S_EN_ROUTE,
    S_IN_PROGRESS,
    S_NO_SHOW,
    chart_lock,
    chart_lock_or_create,
    event_log,
    infusion_step_check,
    local_text,
    on_visit_day,
    require_nurse,
    require_visit_day,
    transition,
    visit_fresh,
)
from .errors import NotOnVisitDay, WrongStep
from .vitals import Vitals, reading_save

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@transaction.atomic
def visit_check_in(
    *,
    visit: Visit,
    nurse: User,
    adult_present: bool,
    prep_followed: bool,
    baseline: Vitals,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    accuracy_m: int | None = None,
    now: datetime | None = None,
) -> VisitChart:
    """Arrival (server time, and where the phone was if it said), the confirmations, baseline vitals -> IN_PROGRESS."""
    now = now or timezone.now()
    visit = visit_fresh(visit)
    require_nurse(visit, nurse)
    if visit.status == S_IN_PROGRESS:
        chart = chart_lock(visit)
        if chart is not None and chart.arrived_at is not None:
            return chart  # already checked in (a double tap)
    # Asked at the visit's own time when early (as it was booked), at the real time when late.
    infusion_step_check(visit, at=max(now, visit.starts_at), now=now)
    if visit.status not in (S_CONFIRMED, S_EN_ROUTE):
        raise WrongStep(_("This visit is already under way or over."))
    require_visit_day(visit, now)
    missing: dict[str, StrOrPromise] = {}
    if not adult_present:
        missing["adult_present"] = _("The adult who stays must be there before you start.")
    if not prep_followed:
        missing["prep_followed"] = _(
            "Confirm the preparation was followed (or record a no-show or call the clinician)."
        )
    if missing:
        raise ApplicationError(_("Check the items marked."), extra={"fields": missing})
    baseline.taken_at = now
    if visit.status == S_CONFIRMED:
        transition(visit, S_EN_ROUTE, nurse, now)  # arrived without tapping "on my way": no text
    transition(visit, S_IN_PROGRESS, nurse, now)
    chart = chart_lock_or_create(visit, nurse)
    chart.arrived_at = now
    chart.adult_present, chart.prep_followed = True, True
    if latitude is not None and longitude is not None:
        chart.arrival_latitude, chart.arrival_longitude = latitude, longitude
        chart.arrival_accuracy_m = accuracy_m
    chart.full_clean()
    chart.save()
    where = " (location from the phone)" if chart.arrival_latitude is not None else ""
    event_log(chart, ChartEventKind.CHECK_IN, nurse, f"Arrived; adult present; prep followed{where}", now)
    reading_save(chart, baseline, ReadingKind.BASELINE, nurse, now, form_token="check-in")  # noqa: S106 (one baseline per chart)
    return chart


def no_show_refusal(*, visit: Visit, now: datetime | None = None) -> ApplicationError | None:
    """Why a no-show cannot be recorded on this visit now (the error visit_no_show raises), or None.

    The one rule: the visit page offers "Record a no-show", and its page the form, only when
    this is None, so the nurse is never offered what the service would refuse.
    """
    now = now or timezone.now()
    if visit.status == S_IN_PROGRESS:
        return WrongStep(_("A visit that has started cannot be a no-show. Stop the visit instead."))
    if visit.status not in (S_CONFIRMED, S_EN_ROUTE):
        return WrongStep(_("This visit cannot be a no-show now."))
    if not on_visit_day(visit, now):
        return NotOnVisitDay()
    if now < visit.starts_at:
        return InvalidState(
            _("A no-show can be recorded from the visit's start time (%(time)s).")
            % {"time": local_text(visit, visit.starts_at)}
        )
    return None


@transaction.atomic
def visit_no_show(*, visit: Visit, nurse: User, reason: str, now: datetime | None = None) -> VisitChart | None:
    """Nobody to treat (not home, no adult, prep not followed...): NO_SHOW with the reason; the chart locks."""
    now = now or timezone.now()
    visit = visit_fresh(visit)
    require_nurse(visit, nurse)
    if visit.status == S_NO_SHOW:
        return chart_lock(visit)
    refusal = no_show_refusal(visit=visit, now=now)
    if refusal is not None:
        raise refusal
    if not (reason or "").strip():
        raise ApplicationError(_("Say what happened."), extra={"field": "reason"})
    transition(visit, S_NO_SHOW, nurse, now)
    chart = chart_lock_or_create(visit, nurse)
    chart.outcome, chart.no_show_reason, chart.locked_at = ChartOutcome.NO_SHOW, reason.strip(), now
    chart.full_clean()
    chart.save()
    event_log(chart, ChartEventKind.NO_SHOW, nurse, f"No-show: {chart.no_show_reason}", now)
    return chart
