"""The dose: today's weight and the plan give it, the nurse confirms it (lot, volume, start and stop
times), and the adverse events seen are recorded with it. A later record (adding the stop time,
say) supersedes the earlier one; nothing is overwritten."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Visit
from concierge.errors import ApplicationError, InvalidState
from concierge.models import User
from nurses import protocol
from nurses.models import AdverseEvent, ChartEventKind, DoseRecord, VisitChart

from .chart import (
    already_recorded,
    chart_lock,
    chart_open,
    earliest_time,
    event_log,
    local_text,
    require_nurse,
    time_check,
    visit_fresh,
)
from .errors import DoseChanged, TimeProblem


def _dose_for_weight(
    visit: Visit, weight: Decimal, weight_unit: str, confirmed_dose_mg: Decimal | None
) -> tuple[Decimal, Decimal, Decimal]:
    """(kg, plan mg/kg, dose mg) from today's weight and the plan; the dose must be the one the nurse confirmed."""
    if visit.clearance is None:
        raise InvalidState(_("This visit has no treatment plan. Call the clinician before giving anything."))
    kg = protocol.weight_kg(weight, weight_unit)
    low, high = protocol.WEIGHT_KG_RANGE
    if not low <= kg <= high:
        raise ApplicationError(
            _("Enter a weight between %(low)s and %(high)s kg.") % {"low": low, "high": high}, extra={"field": "weight"}
        )
    mg_per_kg = visit.clearance.dose_mg_per_kg
    dose = protocol.dose_mg(kg, mg_per_kg)
    if confirmed_dose_mg is None or dose != confirmed_dose_mg:
        raise DoseChanged(extra={"dose_mg": dose, "weight_kg": kg})
    return kg, mg_per_kg, dose


def _infusion_times_check(
    visit: Visit, chart: VisitChart, started_at: datetime, stopped_at: datetime | None, now: datetime
) -> None:
    time_check(
        visit,
        started_at,
        now,
        field="started_at",
        not_before=earliest_time(chart),
        label=_("The start time"),
    )
    if stopped_at is not None:
        if stopped_at <= started_at:
            raise TimeProblem(_("The stop time must be after the start time."), extra={"field": "stopped_at"})
        time_check(visit, stopped_at, now, field="stopped_at", label=_("The stop time"))


def _adverse_events_record(chart: VisitChart, kinds: Iterable[str], note: str, nurse: User, now: datetime) -> None:
    for kind in kinds:
        event = AdverseEvent(chart=chart, kind=kind, note=note, recorded_by=nurse, recorded_at=now)
        event.full_clean(exclude=["chart", "recorded_by"])
        event.save()
        event_log(chart, ChartEventKind.ADVERSE_EVENT, nurse, f"{event}: {note}".strip(": "), now)


@transaction.atomic
def dose_record(
    *,
    visit: Visit,
    nurse: User,
    weight: Decimal,
    weight_unit: str,
    confirmed_dose_mg: Decimal | None,
    lot_number: str,
    volume_ml: Decimal,
    started_at: datetime,
    stopped_at: datetime | None = None,
    adverse_events: Iterable[str] = (),
    adverse_event_note: str = "",
    form_token: str = "",
    now: datetime | None = None,
) -> DoseRecord:
    """The dose from today's weight and the plan, as confirmed by the nurse; adverse events with it.

    `confirmed_dose_mg` is the dose the nurse saw and confirmed; if the weight gives another
    dose now, nothing is saved (DoseChanged). Recording again (e.g. to add the stop time) adds a
    new record that supersedes the earlier one.
    """
    now = now or timezone.now()
    visit = visit_fresh(visit)
    require_nurse(visit, nurse)
    chart = chart_lock(visit)
    done = already_recorded(DoseRecord, chart, form_token) if chart else None
    if done is not None:
        return done
    chart = chart_open(visit)
    kg, mg_per_kg, dose = _dose_for_weight(visit, weight, weight_unit, confirmed_dose_mg)
    _infusion_times_check(visit, chart, started_at, stopped_at, now)
    record = DoseRecord(
        chart=chart,
        weight_entered=weight,
        weight_unit=weight_unit,
        weight_kg=kg,
        dose_mg_per_kg=mg_per_kg,
        dose_mg=dose,
        lot_number=lot_number.strip(),
        volume_ml=volume_ml,
        started_at=started_at,
        stopped_at=stopped_at,
        recorded_by=nurse,
        recorded_at=now,
        form_token=form_token,
    )
    record.full_clean(exclude=["chart", "recorded_by"], validate_constraints=False)
    record.save()
    times = local_text(visit, started_at) + (f" - {local_text(visit, stopped_at)}" if stopped_at else "")
    summary = f"{record}; lot {record.lot_number}; {record.volume_ml} mL; {times}"
    event_log(chart, ChartEventKind.DOSE, nurse, summary, now)
    _adverse_events_record(chart, adverse_events, adverse_event_note, nurse, now)
    return record
