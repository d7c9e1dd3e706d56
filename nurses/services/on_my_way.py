"""On my way: the arrival window (estimated from the route, or typed by the nurse) texted to the
patient, once per visit, and the visit EN_ROUTE."""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Visit
from concierge.errors import NotAllowed
from concierge.geo import travel_minutes
from concierge.models import User
from notifications.services import sms_on_my_way
from nurses.models import ChartEventKind, VisitChart
from nurses.selectors import previous_stop

from .chart import (
    S_COMPLETED,
    S_CONFIRMED,
    S_EN_ROUTE,
    S_NO_SHOW,
    chart_lock,
    chart_lock_or_create,
    event_log,
    infusion_step_check,
    local_text,
    require_nurse,
    require_visit_day,
    transition,
    visit_fresh,
)
from .errors import TimeProblem, WrongStep

# The arrival window texted to the patient is this long.
ETA_WINDOW_MINUTES = 20
# An arrival window the nurse types may be at most this long.
ETA_WINDOW_MAX_MINUTES = 120


def _round_up_5(moment: datetime) -> datetime:
    seconds = moment.minute * 60 + moment.second + moment.microsecond / 1e6
    extra = math.ceil(seconds / 300) * 300 - seconds
    return (moment + timedelta(seconds=extra)).replace(second=0, microsecond=0)


def eta_estimate(*, visit: Visit, now: datetime | None = None) -> tuple[datetime, datetime]:
    """(from, until): leave now, or when the previous stop ends, and drive from there (or from home).

    The previous stop is the nurse's visit before this one that day; if it has not ended on the
    chart yet, the nurse leaves at its planned end at the earliest. Travel is concierge.geo's
    estimate; the start is rounded up to 5 minutes and the window is ETA_WINDOW_MINUTES long.
    """
    now = now or timezone.now()
    if visit.provider is None:
        raise NotAllowed(_("This visit is not assigned to you."))  # nobody's route: nothing to estimate
    previous = previous_stop(visit=visit)
    if previous is not None:
        origin = previous.zip_code
        leave = now if previous.status in (S_COMPLETED, S_NO_SHOW) else max(now, previous.ends_at)
    else:
        origin, leave = visit.provider.home_zip, now
    minutes = travel_minutes(origin, visit.zip_code) or settings.TRAVEL_MIN_MINUTES
    eta_from = _round_up_5(leave + timedelta(minutes=minutes))
    return eta_from, eta_from + timedelta(minutes=ETA_WINDOW_MINUTES)


@transaction.atomic
def visit_on_my_way(
    *,
    visit: Visit,
    nurse: User,
    eta_from: datetime | None = None,
    eta_until: datetime | None = None,
    now: datetime | None = None,
) -> VisitChart:
    """Text the patient an arrival window (estimated, or the nurse's) and move the visit to EN_ROUTE.

    Once per visit: tapping again (or after undoing) sends no second text.
    """
    now = now or timezone.now()
    visit = visit_fresh(visit)
    require_nurse(visit, nurse)
    if visit.status == S_EN_ROUTE:
        chart = chart_lock(visit)
        if chart is not None and chart.on_my_way_at is not None:
            return chart
    infusion_step_check(visit, at=visit.starts_at, now=now)  # not on the road to a visit that may not happen
    if visit.status not in (S_CONFIRMED, S_EN_ROUTE):
        raise WrongStep(_("This visit is already under way or over."))
    require_visit_day(visit, now)
    entered = eta_from is not None
    if eta_from is not None:
        if eta_until is None or eta_until <= eta_from:
            raise TimeProblem(_("The window must end after it starts."), extra={"field": "eta_until"})
        if eta_until - eta_from > timedelta(minutes=ETA_WINDOW_MAX_MINUTES):
            raise TimeProblem(_("Give a window of two hours at most."), extra={"field": "eta_until"})
        if eta_until < now:
            raise TimeProblem(_("The window is already over."), extra={"field": "eta_until"})
    else:
        eta_from, eta_until = eta_estimate(visit=visit, now=now)
    transition(visit, S_EN_ROUTE, nurse, now)
    chart = chart_lock_or_create(visit, nurse)
    if chart.on_my_way_at is None:
        chart.on_my_way_at, chart.eta_from, chart.eta_until, chart.eta_entered = now, eta_from, eta_until, entered
        chart.full_clean()
        chart.save()
        window = f"{local_text(visit, eta_from)} - {local_text(visit, eta_until)}"
        event_log(chart, ChartEventKind.ON_MY_WAY, nurse, f"Arriving {window}" + (" (entered)" if entered else ""), now)
    # The window was set above on the first tap (or by an earlier one): it is never empty here.
    assert chart.eta_from is not None and chart.eta_until is not None
    sms_on_my_way(visit=visit, eta_from=chart.eta_from, eta_until=chart.eta_until)
    return chart
