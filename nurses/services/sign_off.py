"""The signature: what the chart still needs before it can be signed, and signing it, which locks
the chart and completes the visit (stopped early or not)."""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Visit
from concierge.models import User
from nurses import protocol
from nurses.models import ChartEventKind, ChartOutcome, ReadingKind, VisitChart
from nurses.selectors import ChartView

from .chart import S_COMPLETED, chart_lock, chart_open, event_log, require_nurse, transition, visit_fresh
from .errors import ChartIncomplete, SignatureMismatch


def chart_missing(chart: VisitChart, view: ChartView | None = None) -> list[str]:
    """What must still be done before this chart can be signed, in words (empty: ready)."""
    view = view or ChartView(
        chart,
        list(chart.vitals.all()),
        list(chart.doses.all()),
        [],
        list(chart.discharges.all()),
        [],
        [],
    )
    missing = []
    if chart.arrived_at is None:
        return [str(_("Check in with baseline vitals."))]
    if not any(v.kind != ReadingKind.BASELINE for v in view.vitals) and chart.stopped_at is None:
        missing.append(str(_("Record vitals during or after the infusion.")))
    dose = view.dose
    if dose is None and chart.stopped_at is None:
        missing.append(str(_("Record the dose.")))
    elif dose is not None and dose.stopped_at is None:
        missing.append(str(_("Add the time the infusion stopped to the dose.")))
    elif dose is not None and dose.stopped_at is not None:
        missing.extend(_readings_during_missing(view, dose.started_at, dose.stopped_at))
    if view.discharge is None or not view.discharge.is_complete:
        missing.append(str(_("Complete the discharge checklist.")))
    return missing


def _readings_during_missing(view: ChartView, started_at: datetime, stopped_at: datetime) -> list[str]:
    """One reading per VITALS_EVERY_MINUTES of infusion (nurses/protocol.py), taken while it ran."""
    minutes = Decimal((stopped_at - started_at).total_seconds()) / 60
    needed = protocol.readings_needed(minutes)
    taken = sum(1 for v in view.vitals if v.kind != ReadingKind.BASELINE and started_at <= v.taken_at <= stopped_at)
    if taken >= needed:
        return []
    return [
        str(
            _(
                "Record vitals every %(every)s minutes during the infusion: %(needed)s readings for %(minutes)s "
                "minutes, %(taken)s recorded."
            )
            % {"every": protocol.VITALS_EVERY_MINUTES, "needed": needed, "minutes": int(minutes), "taken": taken}
        )
    ]


def _same_name(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()).casefold() == " ".join((b or "").split()).casefold()


@transaction.atomic
def chart_sign(
    *, visit: Visit, nurse: User, signature_name: str, confirm: bool, now: datetime | None = None
) -> VisitChart:
    """The nurse signs: the chart locks and the visit is COMPLETED (stopped early or not). Twice: no-op."""
    now = now or timezone.now()
    visit = visit_fresh(visit)
    require_nurse(visit, nurse)
    chart = chart_lock(visit)
    if chart is not None and chart.signed_at is not None:
        return chart
    chart = chart_open(visit)
    missing = chart_missing(chart)
    if missing:
        raise ChartIncomplete(extra={"missing": missing})
    if not confirm or not _same_name(signature_name, nurse.get_full_name()):
        raise SignatureMismatch(extra={"field": "signature_name" if confirm else "confirm"})
    transition(visit, S_COMPLETED, nurse, now)
    chart.outcome = ChartOutcome.STOPPED if chart.stopped_at else ChartOutcome.COMPLETED
    chart.signed_at, chart.signed_by, chart.signature_name, chart.locked_at = now, nurse, signature_name.strip(), now
    chart.full_clean()
    chart.save()
    event_log(
        chart, ChartEventKind.SIGNED, nurse, f"Signed as {chart.signature_name}; {chart.get_outcome_display()}", now
    )
    return chart
