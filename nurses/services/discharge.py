"""The end of the infusion: the discharge checklist (every item confirmed, after the observation
period), or the visit stopped early, after which the discharge and the signature still follow."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Visit
from concierge.errors import ApplicationError
from concierge.models import User
from nurses import protocol
from nurses.models import ChartEventKind, DischargeChecklist, VisitChart

from .chart import already_recorded, chart_lock, chart_open, event_log, local_text, require_nurse, visit_fresh
from .errors import ProtocolStop


def _observation_check(visit: Visit, chart: VisitChart, now: datetime) -> None:
    """After a dose: the infusion's stop time, then OBSERVATION_MINUTES with a reading at the end."""
    dose = chart.doses.order_by("-recorded_at", "-id").first()
    if dose is None:
        return  # stopped before any drug was given: nothing to observe
    if dose.stopped_at is None:
        raise ProtocolStop(_("Add the time the infusion stopped to the dose before the discharge."))
    ends = dose.stopped_at + timedelta(minutes=protocol.OBSERVATION_MINUTES)
    if now < ends or not chart.vitals.filter(taken_at__gte=ends).exists():
        raise ProtocolStop(
            _(
                "Observe the patient for %(minutes)s minutes after the infusion stopped: until %(time)s, with "
                "a vitals reading then, before the discharge."
            )
            % {"minutes": protocol.OBSERVATION_MINUTES, "time": local_text(visit, ends)}
        )


@transaction.atomic
def discharge_record(
    *,
    visit: Visit,
    nurse: User,
    baseline_mental_status: bool,
    vitals_near_baseline: bool,
    adult_present: bool,
    instructions_given: bool,
    note: str = "",
    form_token: str = "",
    now: datetime | None = None,
) -> DischargeChecklist:
    """The discharge checklist; every item must be confirmed (the sign-off needs it)."""
    now = now or timezone.now()
    visit = visit_fresh(visit)
    require_nurse(visit, nurse)
    chart = chart_lock(visit)
    done = already_recorded(DischargeChecklist, chart, form_token) if chart else None
    if done is not None:
        return done
    chart = chart_open(visit)
    values = {
        "baseline_mental_status": baseline_mental_status,
        "vitals_near_baseline": vitals_near_baseline,
        "adult_present": adult_present,
        "instructions_given": instructions_given,
    }
    missing = {name: _("Confirm this before the patient is discharged.") for name, ok in values.items() if not ok}
    if missing:
        raise ApplicationError(_("Every item must be confirmed."), extra={"fields": missing})
    _observation_check(visit, chart, now)
    checklist = DischargeChecklist(
        chart=chart, **values, note=note, recorded_by=nurse, recorded_at=now, form_token=form_token
    )
    checklist.full_clean(exclude=["chart", "recorded_by"], validate_constraints=False)
    checklist.save()
    event_log(chart, ChartEventKind.DISCHARGE, nurse, "All items confirmed" + (f"; note: {note}" if note else ""), now)
    return checklist


@transaction.atomic
def visit_stop(*, visit: Visit, nurse: User, reason: str, now: datetime | None = None) -> VisitChart:
    """The visit is stopped early (it happened; not a cancellation). Discharge and signature follow,
    and the visit then ends COMPLETED with the chart's outcome "stopped early" and the reason."""
    now = now or timezone.now()
    visit = visit_fresh(visit)
    require_nurse(visit, nurse)
    chart = chart_open(visit)
    if chart.stopped_at is not None:
        return chart
    if not (reason or "").strip():
        raise ApplicationError(_("Say why the visit was stopped."), extra={"field": "reason"})
    chart.stopped_at, chart.stop_reason = now, reason.strip()
    chart.full_clean()
    chart.save()
    event_log(chart, ChartEventKind.STOPPED, nurse, f"Stopped: {chart.stop_reason}", now)
    return chart
