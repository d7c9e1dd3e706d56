"""The dose: today's weight and the plan give it, the nurse confirms it (lot, volume, start and stop
times), and the adverse events seen are recorded with it. A later record (adding the stop time,
say) supersedes the earlier one; nothing is overwritten.

Before a dose starts (a first record, or one with another start time), the protocol's stops
apply (nurses/protocol.py): the visit may receive an infusion (booking's one question), a
baseline at the hard-stop pressure has a clinician's override, the last action was not "paused"
or "stopped" without a "resumed" after it. Every record checks the weight (the wrong unit, a
change needing a tick), the dose cap, and the duration (a reason when much shorter than planned).
A record that completes the dose already started (same start time: adding the stop time) is
never refused for the stops: it says what happened."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Visit
from booking.services import safety_alert_rows_lock
from concierge.errors import ApplicationError, InvalidState
from concierge.models import User
from nurses import protocol
from nurses.models import AdverseEvent, ChartEventKind, DoseRecord, OverrideKind, ReadingKind, VisitChart
from patients import services as patient_services
from roster.selectors import oncall_phone_now

from .chart import (
    already_recorded,
    chart_lock,
    chart_open,
    event_log,
    infusion_step_check,
    local_text,
    require_nurse,
    time_check,
    visit_fresh,
)
from .errors import DoseChanged, ProtocolStop, TimeProblem, WrongStep


def last_weight_kg(visit: Visit) -> Decimal | None:
    """The patient's last recorded weight: the latest dose charted for them, else their profile's."""
    last = (
        DoseRecord.objects.filter(chart__visit__patient_id=visit.patient_id)
        .order_by("-recorded_at", "-id")
        .values_list("weight_kg", flat=True)
        .first()
    )
    if last is not None:
        return last
    profile = getattr(visit.patient, "patient_profile", None)
    return profile.weight_kg if profile is not None else None


def _weight_check(visit: Visit, weight: Decimal, weight_unit: str, change_confirmed: bool) -> Decimal:
    """Today's weight in kg: plausible, in the right unit, and a big change ticked as checked."""
    last = last_weight_kg(visit)
    refusal = protocol.weight_refusal(weight, weight_unit, last)
    if refusal is not None:
        raise ApplicationError(refusal, extra={"field": "weight"})
    kg = protocol.weight_kg(weight, weight_unit)
    if protocol.weight_changed_a_lot(kg, last) and not change_confirmed:
        raise ApplicationError(
            _("%(kg)s kg is more than 10%% from the last recorded %(last)s kg. Weigh again, then tick to confirm.")
            % {"kg": kg, "last": last},
            extra={"field": "weight_change_confirmed"},
        )
    return kg


def dose_worked_out(mg_per_kg: Decimal, kg: Decimal) -> Decimal:
    """The dose for today's weight under the plan; ProtocolStop when it is over the protocol's cap.
    The dose page asks before it shows a dose ("Work out the dose"), and recording asks again."""
    dose = protocol.dose_mg(kg, mg_per_kg)
    over = protocol.dose_over_cap(mg_per_kg, dose)
    if over is not None:
        raise ProtocolStop(
            _("%(why)s Do not start: call the on-call clinician at %(phone)s.")
            % {"why": over, "phone": oncall_phone_now().display},
            extra={"field": "weight"},
        )
    return dose


def _dose_for_weight(visit: Visit, kg: Decimal, confirmed_dose_mg: Decimal | None) -> tuple[Decimal, Decimal]:
    """(plan mg/kg, dose mg) from today's weight and the plan, within the protocol's cap; the dose
    must be the one the nurse confirmed."""
    if visit.clearance is None:
        raise InvalidState(_("This visit has no treatment plan. Call the clinician before giving anything."))
    mg_per_kg = visit.clearance.dose_mg_per_kg
    dose = dose_worked_out(mg_per_kg, kg)
    if confirmed_dose_mg is None or dose != confirmed_dose_mg:
        raise DoseChanged(extra={"dose_mg": dose, "weight_kg": kg})
    return mg_per_kg, dose


def _start_check(visit: Visit, chart: VisitChart, started_at: datetime, now: datetime) -> None:
    """What must hold before the drug starts: the one question, the baseline, no pause left open."""
    infusion_step_check(visit, at=started_at, now=now)
    phone = oncall_phone_now().display
    baseline = chart.vitals.filter(kind=ReadingKind.BASELINE).order_by("taken_at", "id").first()
    if (
        baseline is not None
        and protocol.baseline_blocks_start(baseline.systolic, baseline.diastolic)
        and not chart.overrides.filter(kind=OverrideKind.BASELINE_PRESSURE).exists()
    ):
        limit = "/".join(str(n) for n in protocol.BASELINE_HARD_STOP)
        raise ProtocolStop(
            _(
                "The baseline blood pressure (%(reading)s) is at or above %(limit)s: do not start unless a "
                "clinician decides to go on. Call the on-call clinician at %(phone)s and record their override."
            )
            % {"reading": f"{baseline.systolic}/{baseline.diastolic}", "limit": limit, "phone": phone},
            extra={"override": OverrideKind.BASELINE_PRESSURE},
        )
    last_action = (
        chart.vitals.filter(action_taken__in=(*protocol.PAUSING_ACTIONS, protocol.RESUMING_ACTION))
        .order_by("-taken_at", "-id")
        .first()
    )
    if last_action is not None and last_action.action_taken in protocol.PAUSING_ACTIONS:
        raise ProtocolStop(
            _(
                'The last action recorded was "%(action)s" at %(time)s. Record a reading with "Infusion resumed" '
                "before recording a dose."
            )
            % {
                "action": last_action.get_action_taken_display(),
                "time": local_text(visit, last_action.taken_at),
            }
        )


def _duration_check(visit: Visit, started_at: datetime, stopped_at: datetime | None, short_reason: str) -> None:
    if stopped_at is None or visit.clearance is None:
        return
    minutes = Decimal((stopped_at - started_at).total_seconds()) / 60
    plan = visit.clearance.infusion_minutes
    if protocol.infusion_too_short(minutes, plan) and not short_reason.strip():
        raise ProtocolStop(
            _("The infusion ran %(minutes)s minutes of the plan's %(plan)s: say why it was shorter.")
            % {"minutes": int(minutes), "plan": plan},
            extra={"field": "short_reason"},
        )


def _earliest_start(chart: VisitChart) -> datetime:
    """The earliest infusion start the nurse may type: the minute they checked in.

    Not earliest_time()'s margin before arrival (a reading taken at the door): the drug starts
    after the check-in's baseline vitals, so a start before the arrival is a typing mistake. A
    typed time has no seconds, so the minute of the arrival itself is allowed.
    """
    if chart.arrived_at is None:
        raise WrongStep(_("Check in first."))
    return chart.arrived_at.replace(second=0, microsecond=0)


def _infusion_times_check(
    visit: Visit, chart: VisitChart, started_at: datetime, stopped_at: datetime | None, now: datetime
) -> None:
    time_check(
        visit,
        started_at,
        now,
        field="started_at",
        not_before=_earliest_start(chart),
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
    weight_change_confirmed: bool = False,
    short_reason: str = "",
    form_token: str = "",
    now: datetime | None = None,
) -> DoseRecord:
    """The dose from today's weight and the plan, as confirmed by the nurse; adverse events with it.

    `confirmed_dose_mg` is the dose the nurse saw and confirmed; if the weight gives another
    dose now, nothing is saved (DoseChanged). Recording again (e.g. to add the stop time) adds a
    new record that supersedes the earlier one. The protocol's stops raise InfusionNotAllowed or
    ProtocolStop (the module's docstring).
    """
    now = now or timezone.now()
    adverse_events = list(dict.fromkeys(adverse_events))
    for_review = protocol.adverse_events_for_review(adverse_events)
    if for_review:
        # The alert these raise locks the patient's profile and its holds the patient's other
        # visits: all of them first, in the one lock order (concierge/locking.py).
        safety_alert_rows_lock(visit=visit, now=now)
    visit = visit_fresh(visit)
    require_nurse(visit, nurse)
    chart = chart_lock(visit)
    done = already_recorded(DoseRecord, chart, form_token) if chart else None
    if done is not None:
        return done
    chart = chart_open(visit)
    started = chart.doses.filter(started_at=started_at).exists()  # completing the dose already started
    if not started:
        _start_check(visit, chart, started_at, now)
    kg = _weight_check(visit, weight, weight_unit, weight_change_confirmed)
    mg_per_kg, dose = _dose_for_weight(visit, kg, confirmed_dose_mg)
    _infusion_times_check(visit, chart, started_at, stopped_at, now)
    _duration_check(visit, started_at, stopped_at, short_reason)
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
        short_reason=short_reason.strip(),
        weight_change_confirmed=weight_change_confirmed,
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
    if for_review:
        # A serious event: the next infusions wait for a clinician's review (once per visit).
        patient_services.safety_alert_raise(
            adverse_event_visit=visit,
            patient=visit.patient,
            matched_words=for_review,
            source_text=adverse_event_note.strip(),
        )
    return record
