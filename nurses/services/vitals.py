"""Vital signs: one set at check-in (the baseline), then during and after the infusion. A reading
past a protocol limit (nurses/protocol.py) is saved only with the action the nurse took."""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Visit
from concierge.errors import ApplicationError
from concierge.models import User
from nurses import protocol
from nurses.models import ChartEventKind, ReadingKind, VisitChart, VitalsReading

from .chart import (
    already_recorded,
    chart_lock,
    chart_open,
    earliest_time,
    event_log,
    infusion_step_check,
    require_nurse,
    time_check,
    visit_fresh,
)
from .errors import ActionRequired

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


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

    def values(self) -> dict[str, int]:
        return {
            "systolic": self.systolic,
            "diastolic": self.diastolic,
            "heart_rate": self.heart_rate,
            "spo2": self.spo2,
            "respiratory_rate": self.respiratory_rate,
        }


def _vitals_problems(vitals: Vitals) -> "dict[str, StrOrPromise]":
    problems: dict[str, StrOrPromise] = {}
    for name, (low, high) in protocol.PLAUSIBLE.items():
        value = getattr(vitals, name)
        if value is None or not low <= value <= high:
            problems[name] = _("Enter a value between %(low)s and %(high)s.") % {"low": low, "high": high}
    if "systolic" not in problems and "diastolic" not in problems and vitals.diastolic >= vitals.systolic:
        problems["diastolic"] = _("The diastolic (lower) number must be below the systolic.")
    return problems


def reading_save(
    chart: VisitChart, vitals: Vitals, kind: str, nurse: User, now: datetime, form_token: str
) -> VitalsReading:
    """Check one set of vitals against the plausible ranges and the limits, then save it with its history."""
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
    event_log(chart, ChartEventKind.VITALS, nurse, summary, now)
    return reading


@transaction.atomic
def vitals_record(
    *, visit: Visit, nurse: User, vitals: Vitals, form_token: str = "", now: datetime | None = None
) -> VitalsReading:
    """One set of vitals during or after the infusion. Past a protocol limit: only with the action taken."""
    now = now or timezone.now()
    visit = visit_fresh(visit)
    require_nurse(visit, nurse)
    chart = chart_lock(visit)
    done = already_recorded(VitalsReading, chart, form_token) if chart else None
    if done is not None:
        return done
    chart = chart_open(visit)
    latest_dose = chart.doses.order_by("-recorded_at", "-id").first()
    if latest_dose is None:
        # Before the drug the visit may still not go ahead (a warning sign since check-in). Once
        # it runs, monitoring is never refused: a reading then is the patient's safety.
        infusion_step_check(visit, at=max(now, visit.starts_at), now=now)
    time_check(
        visit,
        vitals.taken_at,
        now,
        field="taken_at",
        not_before=earliest_time(chart),
        label=_("The time taken"),
    )
    after = latest_dose is not None and latest_dose.stopped_at is not None and vitals.taken_at >= latest_dose.stopped_at
    kind = ReadingKind.AFTER if after else ReadingKind.DURING
    return reading_save(chart, vitals, kind, nurse, now, form_token)
