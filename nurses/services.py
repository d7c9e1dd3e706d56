"""Field work: the visit chart, from "on my way" to the signature (the roster is roster/services.py)."""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from booking.services import visit_locked, visit_transition
from concierge.errors import ApplicationError, InvalidState, NotAllowed
from concierge.geo import travel_minutes

from . import protocol
from .models import (
    AdverseEvent,
    ChartAmendment,
    ChartEvent,
    ChartEventKind,
    ChartOutcome,
    DischargeChecklist,
    DoseRecord,
    ReadingKind,
    VisitChart,
    VitalsReading,
)

# --- field work: the visit chart (issue 7) -----------------------------------------------------
#
# Every use case below: checks the visit is in the right step, validates, writes new rows (never
# changes a clinical row), moves the visit through booking's visit_transition (the one
# life-cycle table), and logs a ChartEvent with who and when. Locks: booking's transition takes
# Provider -> patient -> visit; the chart row is locked after those, always in that order.
# Repeating a call (a double tap, a retried form) has one effect: steps already done are
# returned as they are, and forms carry a token that is unique per chart.

# The arrival window texted to the patient is this long.
ETA_WINDOW_MINUTES = 20
# An arrival window the nurse types may be at most this long.
ETA_WINDOW_MAX_MINUTES = 120


class ChartLocked(InvalidState):
    default_message = _("This chart is signed and locked. Add an amendment instead.")
    code = "chart_locked"


class WrongStep(InvalidState):
    default_message = _("That step does not fit where this visit is now. Please reload the page.")
    code = "wrong_step"


class NotOnVisitDay(InvalidState):
    default_message = _("This can only be done on the day of the visit.")
    code = "not_on_visit_day"


class ActionRequired(ApplicationError):
    """A reading crosses a protocol limit: it is saved only with the action taken."""

    default_message = _("This reading is past the protocol limits. Record the action you took before saving.")
    code = "action_required"


class ChartIncomplete(InvalidState):
    """The chart cannot be signed yet; `extra["missing"]` lists what is missing, in words."""

    default_message = _("The chart is not complete yet.")
    code = "chart_incomplete"


class DoseChanged(ApplicationError):
    default_message = _("The dose changed with the weight you entered. Check the new dose and confirm it.")
    code = "dose_changed"


class SignatureMismatch(ApplicationError):
    default_message = _("Type your full name exactly as it is on your account to sign.")
    code = "signature_mismatch"


class TimeProblem(ApplicationError):
    code = "time_problem"


S_CONFIRMED, S_EN_ROUTE, S_IN_PROGRESS, S_COMPLETED, S_NO_SHOW = (
    "confirmed",
    "en_route",
    "in_progress",
    "completed",
    "no_show",
)


def _zone(visit):
    return ZoneInfo(visit.time_zone)


def visit_local_date(visit):
    return visit.starts_at.astimezone(_zone(visit)).date()


def local_moment(visit, clock_time):
    """A wall-clock time typed by the nurse, on the visit's date, in the visit's zone (aware)."""
    return datetime.combine(visit_local_date(visit), clock_time, tzinfo=_zone(visit))


def _local_text(visit, moment):
    local = moment.astimezone(_zone(visit))
    return f"{formats.time_format(local, 'g:i A')} {local.tzname()}"


def _require_visit_day(visit, now):
    if now.astimezone(_zone(visit)).date() != visit_local_date(visit):
        raise NotOnVisitDay()


def _require_nurse(visit, nurse):
    # Views find visits through the nurse's own list; this is the same rule for any other caller.
    if visit.provider_id is None or visit.provider.user_id != nurse.pk:
        raise NotAllowed(_("This visit is not assigned to you."))


def _fresh(visit):
    """The visit re-read under booking's locks (its provider, its patient, then the visit): two taps
    racing on one visit queue up here, and the second sees what the first did."""
    return visit_locked(visit, related=("provider__user", "patient", "service", "clearance"))


def _transition(visit, to, nurse, now):
    return visit_transition(visit=visit, to=to, actor=nurse, now=now)


def _chart(visit, nurse, *, create=False):
    """The visit's chart, locked (created when asked and missing)."""
    chart = VisitChart.objects.select_for_update().filter(visit=visit).first()
    if chart is None and create:
        try:
            with transaction.atomic():
                VisitChart.objects.create(visit=visit, nurse=nurse)
        except IntegrityError:
            pass  # created by a parallel request: use that one
        chart = VisitChart.objects.select_for_update().get(visit=visit)
    return chart


def _open_chart(visit):
    chart = VisitChart.objects.select_for_update().filter(visit=visit).first()
    if chart is None or chart.arrived_at is None:
        raise WrongStep(_("Check in first."))
    if chart.is_locked:
        raise ChartLocked()
    return chart


def _event(chart, kind, actor, summary, now):
    event = ChartEvent(chart=chart, kind=kind, actor=actor, summary=str(summary)[:500], at=now)
    event.full_clean()
    event.save()
    return event


def _check_time(visit, moment, now, *, field, not_before=None, label):
    if moment > now + timedelta(minutes=protocol.CLOCK_SKEW_MINUTES):
        raise TimeProblem(_("%(label)s cannot be in the future.") % {"label": label}, extra={"field": field})
    if not_before is not None and moment < not_before:
        raise TimeProblem(
            _("%(label)s cannot be before %(time)s.") % {"label": label, "time": _local_text(visit, not_before)},
            extra={"field": field},
        )


def _round_up_5(moment):
    seconds = moment.minute * 60 + moment.second + moment.microsecond / 1e6
    extra = math.ceil(seconds / 300) * 300 - seconds
    return (moment + timedelta(seconds=extra)).replace(second=0, microsecond=0)


def eta_estimate(*, visit, now=None):
    """(from, until): leave now, or when the previous stop ends, and drive from there (or from home).

    The previous stop is the nurse's visit before this one that day; if it has not ended on the
    chart yet, the nurse leaves at its planned end at the earliest. Travel is concierge.geo's
    estimate; the start is rounded up to 5 minutes and the window is ETA_WINDOW_MINUTES long.
    """
    from .selectors import previous_stop

    now = now or timezone.now()
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
def visit_on_my_way(*, visit, nurse, eta_from=None, eta_until=None, now=None):
    """Text the patient an arrival window (estimated, or the nurse's) and move the visit to EN_ROUTE.

    Once per visit: tapping again (or after undoing) sends no second text.
    """
    from notifications.services import sms_on_my_way

    now = now or timezone.now()
    visit = _fresh(visit)
    _require_nurse(visit, nurse)
    if visit.status == S_EN_ROUTE:
        chart = _chart(visit, nurse)
        if chart is not None and chart.on_my_way_at is not None:
            return chart
    if visit.status not in (S_CONFIRMED, S_EN_ROUTE):
        raise WrongStep(_("This visit is already under way or over."))
    _require_visit_day(visit, now)
    entered = eta_from is not None
    if entered:
        if eta_until is None or eta_until <= eta_from:
            raise TimeProblem(_("The window must end after it starts."), extra={"field": "eta_until"})
        if eta_until - eta_from > timedelta(minutes=ETA_WINDOW_MAX_MINUTES):
            raise TimeProblem(_("Give a window of two hours at most."), extra={"field": "eta_until"})
        if eta_until < now:
            raise TimeProblem(_("The window is already over."), extra={"field": "eta_until"})
    else:
        eta_from, eta_until = eta_estimate(visit=visit, now=now)
    _transition(visit, S_EN_ROUTE, nurse, now)
    chart = _chart(visit, nurse, create=True)
    if chart.on_my_way_at is None:
        chart.on_my_way_at, chart.eta_from, chart.eta_until, chart.eta_entered = now, eta_from, eta_until, entered
        chart.full_clean()
        chart.save()
        window = f"{_local_text(visit, eta_from)} - {_local_text(visit, eta_until)}"
        _event(chart, ChartEventKind.ON_MY_WAY, nurse, f"Arriving {window}" + (" (entered)" if entered else ""), now)
    sms_on_my_way(visit=visit, eta_from=chart.eta_from, eta_until=chart.eta_until)
    return chart


@dataclass
class Vitals:
    taken_at: datetime
    systolic: int
    diastolic: int
    heart_rate: int
    spo2: int
    respiratory_rate: int
    sedation_note: str = ""
    action_taken: str = ""
    action_note: str = ""

    def values(self):
        return {
            "systolic": self.systolic,
            "diastolic": self.diastolic,
            "heart_rate": self.heart_rate,
            "spo2": self.spo2,
            "respiratory_rate": self.respiratory_rate,
        }


def _vitals_problems(vitals):
    problems = {}
    for name, (low, high) in protocol.PLAUSIBLE.items():
        value = getattr(vitals, name)
        if value is None or not low <= value <= high:
            problems[name] = _("Enter a value between %(low)s and %(high)s.") % {"low": low, "high": high}
    if "systolic" not in problems and "diastolic" not in problems and vitals.diastolic >= vitals.systolic:
        problems["diastolic"] = _("The diastolic (lower) number must be below the systolic.")
    return problems


def _save_reading(chart, vitals, kind, nurse, now, form_token):
    problems = _vitals_problems(vitals)
    if problems:
        raise ApplicationError(_("Check the values marked."), extra={"fields": problems})
    alerts = protocol.vitals_alerts(vitals.values())
    if alerts and not vitals.action_taken:
        raise ActionRequired(extra={"alerts": alerts})
    reading = VitalsReading(
        chart=chart,
        kind=kind,
        taken_at=vitals.taken_at,
        **vitals.values(),
        sedation_note=vitals.sedation_note,
        alerts=alerts,
        action_taken=vitals.action_taken,
        action_note=vitals.action_note,
        recorded_by=nurse,
        recorded_at=now,
        form_token=form_token,
    )
    reading.full_clean(exclude=["chart", "recorded_by"], validate_constraints=False)
    reading.save()
    summary = f"{reading.get_kind_display()}: {reading}"
    if alerts:
        summary += (
            f"; warnings: {', '.join(protocol.alert_messages(alerts))}; action: {reading.get_action_taken_display()}"
        )
    _event(chart, ChartEventKind.VITALS, nurse, summary, now)
    return reading


@transaction.atomic
def visit_check_in(
    *,
    visit,
    nurse,
    adult_present,
    prep_followed,
    baseline,
    latitude=None,
    longitude=None,
    accuracy_m=None,
    now=None,
):
    """Arrival (server time, and where the phone was if it said), the confirmations, baseline vitals -> IN_PROGRESS."""
    now = now or timezone.now()
    visit = _fresh(visit)
    _require_nurse(visit, nurse)
    if visit.status == S_IN_PROGRESS:
        chart = _chart(visit, nurse)
        if chart is not None and chart.arrived_at is not None:
            return chart  # already checked in (a double tap)
    if visit.status not in (S_CONFIRMED, S_EN_ROUTE):
        raise WrongStep(_("This visit is already under way or over."))
    _require_visit_day(visit, now)
    missing = {}
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
        _transition(visit, S_EN_ROUTE, nurse, now)  # arrived without tapping "on my way": no text
    _transition(visit, S_IN_PROGRESS, nurse, now)
    chart = _chart(visit, nurse, create=True)
    chart.arrived_at = now
    chart.adult_present, chart.prep_followed = True, True
    if latitude is not None and longitude is not None:
        chart.arrival_latitude, chart.arrival_longitude = latitude, longitude
        chart.arrival_accuracy_m = accuracy_m
    chart.full_clean()
    chart.save()
    where = " (location from the phone)" if chart.arrival_latitude is not None else ""
    _event(chart, ChartEventKind.CHECK_IN, nurse, f"Arrived; adult present; prep followed{where}", now)
    _save_reading(chart, baseline, ReadingKind.BASELINE, nurse, now, form_token="check-in")  # noqa: S106 (one baseline per chart)
    return chart


def _existing(model, chart, form_token):
    if not form_token:
        return None
    return model.objects.filter(chart=chart, form_token=form_token).first()


@transaction.atomic
def vitals_record(*, visit, nurse, vitals, form_token="", now=None):
    """One set of vitals during or after the infusion. Past a protocol limit: only with the action taken."""
    now = now or timezone.now()
    visit = _fresh(visit)
    _require_nurse(visit, nurse)
    chart = VisitChart.objects.select_for_update().filter(visit=visit).first()
    done = _existing(VitalsReading, chart, form_token) if chart else None
    if done is not None:
        return done
    chart = _open_chart(visit)
    _check_time(
        visit,
        vitals.taken_at,
        now,
        field="taken_at",
        not_before=chart.arrived_at - timedelta(minutes=10),
        label=_("The time taken"),
    )
    latest_dose = chart.doses.order_by("-recorded_at", "-id").first()
    after = latest_dose is not None and latest_dose.stopped_at is not None and vitals.taken_at >= latest_dose.stopped_at
    kind = ReadingKind.AFTER if after else ReadingKind.DURING
    return _save_reading(chart, vitals, kind, nurse, now, form_token)


@transaction.atomic
def dose_record(
    *,
    visit,
    nurse,
    weight,
    weight_unit,
    confirmed_dose_mg,
    lot_number,
    volume_ml,
    started_at,
    stopped_at=None,
    adverse_events=(),
    adverse_event_note="",
    form_token="",
    now=None,
):
    """The dose from today's weight and the plan, as confirmed by the nurse; adverse events with it.

    `confirmed_dose_mg` is the dose the nurse saw and confirmed; if the weight gives another
    dose now, nothing is saved (DoseChanged). Recording again (e.g. to add the stop time) adds a
    new record that supersedes the earlier one.
    """
    now = now or timezone.now()
    visit = _fresh(visit)
    _require_nurse(visit, nurse)
    chart = VisitChart.objects.select_for_update().filter(visit=visit).first()
    done = _existing(DoseRecord, chart, form_token) if chart else None
    if done is not None:
        return done
    chart = _open_chart(visit)
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
    _check_time(
        visit,
        started_at,
        now,
        field="started_at",
        not_before=chart.arrived_at - timedelta(minutes=10),
        label=_("The start time"),
    )
    if stopped_at is not None:
        if stopped_at <= started_at:
            raise TimeProblem(_("The stop time must be after the start time."), extra={"field": "stopped_at"})
        _check_time(visit, stopped_at, now, field="stopped_at", label=_("The stop time"))
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
    times = _local_text(visit, started_at) + (f" - {_local_text(visit, stopped_at)}" if stopped_at else "")
    _event(
        chart,
        ChartEventKind.DOSE,
        nurse,
        f"{record}; lot {record.lot_number}; {record.volume_ml} mL; {times}",
        now,
    )
    for kind in adverse_events:
        event = AdverseEvent(chart=chart, kind=kind, note=adverse_event_note, recorded_by=nurse, recorded_at=now)
        event.full_clean(exclude=["chart", "recorded_by"])
        event.save()
        _event(chart, ChartEventKind.ADVERSE_EVENT, nurse, f"{event}: {adverse_event_note}".strip(": "), now)
    return record


@transaction.atomic
def discharge_record(
    *,
    visit,
    nurse,
    baseline_mental_status,
    vitals_near_baseline,
    adult_present,
    instructions_given,
    note="",
    form_token="",
    now=None,
):
    """The discharge checklist; every item must be confirmed (the sign-off needs it)."""
    now = now or timezone.now()
    visit = _fresh(visit)
    _require_nurse(visit, nurse)
    chart = VisitChart.objects.select_for_update().filter(visit=visit).first()
    done = _existing(DischargeChecklist, chart, form_token) if chart else None
    if done is not None:
        return done
    chart = _open_chart(visit)
    values = {
        "baseline_mental_status": baseline_mental_status,
        "vitals_near_baseline": vitals_near_baseline,
        "adult_present": adult_present,
        "instructions_given": instructions_given,
    }
    missing = {name: _("Confirm this before the patient is discharged.") for name, ok in values.items() if not ok}
    if missing:
        raise ApplicationError(_("Every item must be confirmed."), extra={"fields": missing})
    checklist = DischargeChecklist(
        chart=chart, **values, note=note, recorded_by=nurse, recorded_at=now, form_token=form_token
    )
    checklist.full_clean(exclude=["chart", "recorded_by"], validate_constraints=False)
    checklist.save()
    _event(chart, ChartEventKind.DISCHARGE, nurse, "All items confirmed" + (f"; note: {note}" if note else ""), now)
    return checklist


@transaction.atomic
def visit_stop(*, visit, nurse, reason, now=None):
    """The visit is stopped early (it happened; not a cancellation). Discharge and signature follow,
    and the visit then ends COMPLETED with the chart's outcome "stopped early" and the reason."""
    now = now or timezone.now()
    visit = _fresh(visit)
    _require_nurse(visit, nurse)
    chart = _open_chart(visit)
    if chart.stopped_at is not None:
        return chart
    if not (reason or "").strip():
        raise ApplicationError(_("Say why the visit was stopped."), extra={"field": "reason"})
    chart.stopped_at, chart.stop_reason = now, reason.strip()
    chart.full_clean()
    chart.save()
    _event(chart, ChartEventKind.STOPPED, nurse, f"Stopped: {chart.stop_reason}", now)
    return chart


def chart_missing(chart, view=None):
    """What must still be done before this chart can be signed, in words (empty: ready)."""
    from .selectors import ChartView

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
    if view.discharge is None or not view.discharge.is_complete:
        missing.append(str(_("Complete the discharge checklist.")))
    return missing


def _same_name(a, b):
    return " ".join((a or "").split()).casefold() == " ".join((b or "").split()).casefold()


@transaction.atomic
def chart_sign(*, visit, nurse, signature_name, confirm, now=None):
    """The nurse signs: the chart locks and the visit is COMPLETED (stopped early or not). Twice: no-op."""
    now = now or timezone.now()
    visit = _fresh(visit)
    _require_nurse(visit, nurse)
    chart = VisitChart.objects.select_for_update().filter(visit=visit).first()
    if chart is not None and chart.signed_at is not None:
        return chart
    chart = _open_chart(visit)
    missing = chart_missing(chart)
    if missing:
        raise ChartIncomplete(extra={"missing": missing})
    if not confirm or not _same_name(signature_name, nurse.get_full_name()):
        raise SignatureMismatch(extra={"field": "signature_name" if confirm else "confirm"})
    _transition(visit, S_COMPLETED, nurse, now)
    chart.outcome = ChartOutcome.STOPPED if chart.stopped_at else ChartOutcome.COMPLETED
    chart.signed_at, chart.signed_by, chart.signature_name, chart.locked_at = now, nurse, signature_name.strip(), now
    chart.full_clean()
    chart.save()
    _event(chart, ChartEventKind.SIGNED, nurse, f"Signed as {chart.signature_name}; {chart.get_outcome_display()}", now)
    return chart


@transaction.atomic
def visit_no_show(*, visit, nurse, reason, now=None):
    """Nobody to treat (not home, no adult, prep not followed...): NO_SHOW with the reason; the chart locks."""
    now = now or timezone.now()
    visit = _fresh(visit)
    _require_nurse(visit, nurse)
    if visit.status == S_NO_SHOW:
        return _chart(visit, nurse)
    if visit.status not in (S_CONFIRMED, S_EN_ROUTE):
        raise WrongStep(_("A visit that has started cannot be a no-show. Stop the visit instead."))
    _require_visit_day(visit, now)
    if now < visit.starts_at:
        raise InvalidState(
            _("A no-show can be recorded from the visit's start time (%(time)s).")
            % {"time": _local_text(visit, visit.starts_at)}
        )
    if not (reason or "").strip():
        raise ApplicationError(_("Say what happened."), extra={"field": "reason"})
    _transition(visit, S_NO_SHOW, nurse, now)
    chart = _chart(visit, nurse, create=True)
    chart.outcome, chart.no_show_reason, chart.locked_at = ChartOutcome.NO_SHOW, reason.strip(), now
    chart.full_clean()
    chart.save()
    _event(chart, ChartEventKind.NO_SHOW, nurse, f"No-show: {chart.no_show_reason}", now)
    return chart


@transaction.atomic
def chart_amend(*, visit, nurse, section, text, reason, form_token="", now=None):
    """A correction or addition to a locked chart; the original rows stay as they were."""
    now = now or timezone.now()
    visit = _fresh(visit)
    _require_nurse(visit, nurse)
    chart = VisitChart.objects.select_for_update().filter(visit=visit).first()
    if chart is None or not chart.is_locked:
        raise WrongStep(_("The chart is still open: change it in its own step."))
    done = _existing(ChartAmendment, chart, form_token)
    if done is not None:
        return done
    missing = {}
    if not (text or "").strip():
        missing["text"] = _("Write the correction or addition.")
    if not (reason or "").strip():
        missing["reason"] = _("Give the reason for the amendment.")
    if missing:
        raise ApplicationError(_("Check the fields marked."), extra={"fields": missing})
    amendment = ChartAmendment(
        chart=chart,
        section=section,
        text=(text or "").strip(),
        reason=(reason or "").strip(),
        amended_by=nurse,
        amended_at=now,
        form_token=form_token,
    )
    amendment.full_clean(exclude=["chart", "amended_by"], validate_constraints=False)
    amendment.save()
    _event(
        chart,
        ChartEventKind.AMENDED,
        nurse,
        f"{amendment.get_section_display()}: {amendment.text} (reason: {amendment.reason})",
        now,
    )
    return amendment
