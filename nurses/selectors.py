"""Reads for the nurse's day: their own visits only, each with what the nurse needs at the door.

A nurse reaches a patient's details only through a visit assigned to their Provider; every
selector here takes the provider and filters by it, so someone else's visit is simply not found.
The day list costs a fixed number of queries, whatever the number of visits.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import HoldOutcome, SafetyHold, Visit, VisitStatus
from notifications.models import Channel, Message, MessageStatus
from patients.models import IntakeResponse, IntakeStatus
from patients.triage import rules_for_ids
from roster.models import Provider

from . import protocol
from .models import AdverseEvent, ChartAmendment, ChartEvent, DischargeChecklist, DoseRecord, VisitChart, VitalsReading

S = VisitStatus
# The nurse's list shows the visits that are theirs to do or done, and those on hold (a warning
# sign: shown with a red banner, never to be started); unpaid holds, expired holds and
# cancellations are not work.
DAY_STATUSES = (S.CONFIRMED, S.EN_ROUTE, S.IN_PROGRESS, S.COMPLETED, S.NO_SHOW, S.ON_HOLD)
MAP_URL = "https://www.google.com/maps/search/?api=1&query="


def provider_today(provider: Provider, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(ZoneInfo(provider.time_zone)).date()


def day_bounds(provider: Provider, first_day: date, days: int = 1) -> tuple[datetime, datetime]:
    """The first instant of `first_day` and of the day after the last, in the provider's zone."""
    tz = ZoneInfo(provider.time_zone)
    start = datetime.combine(first_day, time(0), tzinfo=tz)
    end = datetime.combine(first_day + timedelta(days=days), time(0), tzinfo=tz)
    return start, end


def _visits(provider: Provider) -> QuerySet[Visit]:
    # Why a visit on hold waits comes with the row (no query more per visit, or per page).
    open_hold = SafetyHold.objects.filter(visit=OuterRef("pk"), outcome=HoldOutcome.OPEN)
    return (
        Visit.objects.filter(provider=provider, status__in=DAY_STATUSES)
        .exclude(service__is_telehealth=True)
        .select_related("service", "clearance", "patient__patient_profile", "chart")
        .annotate(hold_words=Subquery(open_hold.values("staff_words")[:1]))
        .order_by("starts_at", "pk")
    )


def _latest_intakes(patient_ids: Iterable[int]) -> dict[int, IntakeResponse]:
    """{patient id: latest sent intake (with triage)}, in one query."""
    latest: dict[int, IntakeResponse] = {}
    rows = (
        IntakeResponse.objects.filter(patient_id__in=set(patient_ids), status=IntakeStatus.SUBMITTED)
        .select_related("triage")
        .order_by("patient_id", "-version", "-pk")
    )
    for intake in rows:
        latest.setdefault(intake.patient_id, intake)
    return latest


@dataclass
class Briefing:
    """What the nurse needs to know about a visit, from the booking, the profile, plan and intake."""

    visit: Visit
    name: str
    legal_name: str
    phone: str  # E.164 for tel: links, or ""
    phone_display: str
    address: str
    map_url: str
    support_name: str
    support_phone: str
    support_phone_display: str
    weight_kg: Decimal | None
    mg_per_kg: Decimal | None
    total_mg: Decimal | None
    infusion_minutes: int | None
    allergies: str
    medications: str
    notes: list[str] = field(default_factory=list)  # triage rule texts the nurse must know
    clinician_note: str = ""
    # The visit is on hold (a warning sign): why, for the red banner; "" otherwise.
    hold: str = ""

    @property
    def on_hold(self) -> bool:
        return self.visit.status == S.ON_HOLD


def _phone(number: Any) -> tuple[str, str]:
    # `number` is phonenumber_field's PhoneNumber (untyped), or empty.
    if not number:
        return "", ""
    return number.as_e164, number.as_national


def briefing_for(visit: Visit, intake: IntakeResponse | None) -> Briefing:
    profile = getattr(visit.patient, "patient_profile", None)
    clearance = visit.clearance
    parts = [visit.address_line1, visit.address_line2, visit.city, f"{visit.state} {visit.zip_code}"]
    address = ", ".join(p.strip() for p in parts if p and p.strip())
    phone, phone_display = _phone(profile.mobile_phone if profile else None)
    support_phone, support_display = _phone(profile.support_person_phone if profile else None)
    weight = profile.weight_kg if profile else None
    answers = intake.answers if intake is not None else {}
    if intake is None:
        allergies = str(_("No health questions on file: ask."))
    elif answers.get("has_allergies"):
        allergies = answers.get("allergies") or str(_("Yes (not described): ask."))
    else:
        allergies = str(_("None reported"))
    triage = getattr(intake, "triage", None) if intake is not None else None
    notes = [rule.staff_text or rule.id for rule in rules_for_ids(triage.fired_rules)] if triage else []
    return Briefing(
        visit=visit,
        name=(profile.display_name if profile else "") or visit.patient.first_name or visit.patient.email,
        legal_name=(profile.full_legal_name if profile else "") or visit.patient.get_full_name(),
        phone=phone,
        phone_display=phone_display,
        address=address,
        map_url=MAP_URL + quote_plus(address),
        support_name=profile.support_person_name if profile else "",
        support_phone=support_phone,
        support_phone_display=support_display,
        weight_kg=weight,
        mg_per_kg=clearance.dose_mg_per_kg if clearance else None,
        total_mg=protocol.dose_mg(weight, clearance.dose_mg_per_kg) if clearance and weight else None,
        infusion_minutes=clearance.infusion_minutes if clearance else None,
        allergies=allergies,
        medications=answers.get("medications", ""),
        notes=notes,
        clinician_note=clearance.note if clearance else "",
        hold=(getattr(visit, "hold_words", "") or "") if visit.status == S.ON_HOLD else "",
    )


_PROFILE = "patient__patient_profile__"
# What a card of the nurse's day shows (nurses/today.html: `briefing_for` without the intake, the
# status and the chart's outcome), and all the day's list reads: a visit with its patient,
# profile, plan and chart is ~130 columns, and reading them cost more than running the query. A
# field a card starts to show goes here too, or it costs a query per card.
DAY_CARD_FIELDS = (
    *("status", "starts_at", "time_zone", "address_line1", "address_line2", "city", "state", "zip_code"),
    *("patient__first_name", "patient__last_name", "patient__email"),
    "service__kind",  # not shown: `_visits` joins the service, so one of its fields is read
    *(_PROFILE + name for name in ("preferred_name", "legal_first_name", "legal_last_name", "weight_kg")),
    *(_PROFILE + name for name in ("mobile_phone", "support_person_name", "support_person_phone")),
    *("clearance__dose_mg_per_kg", "clearance__infusion_minutes", "clearance__note", "chart__outcome"),
)


def visit_list_for_nurse(*, provider: Provider, day: date) -> list[Briefing]:
    """The nurse's home visits on one day (their own zone), in time order, as Briefings (only
    `DAY_CARD_FIELDS` of each visit are read)."""
    start, end = day_bounds(provider, day)
    visits = list(_visits(provider).only(*DAY_CARD_FIELDS).filter(starts_at__gte=start, starts_at__lt=end))
    intakes = _latest_intakes(v.patient_id for v in visits)
    return [briefing_for(v, intakes.get(v.patient_id)) for v in visits]


def visit_week_for_nurse(*, provider: Provider, first_day: date, days: int = 7) -> list[tuple[date, list[Visit]]]:
    """[(day, [visits])] for `days` days from `first_day`, every day listed (empty ones too)."""
    start, end = day_bounds(provider, first_day, days)
    tz = ZoneInfo(provider.time_zone)
    by_day: dict[date, list[Visit]] = {first_day + timedelta(days=i): [] for i in range(days)}
    for visit in _visits(provider).filter(starts_at__gte=start, starts_at__lt=end):
        by_day.setdefault(visit.starts_at.astimezone(tz).date(), []).append(visit)
    return sorted(by_day.items())


def visit_get_for_nurse(*, provider: Provider, pk: int | str) -> Visit | None:
    """One of this nurse's visits (any day), or None: another nurse's visit is None too (404)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return _visits(provider).select_related("provider__user", "patient").filter(pk=pk).first()


def visit_briefing_for_nurse(*, provider: Provider, pk: int | str) -> Briefing | None:
    visit = visit_get_for_nurse(provider=provider, pk=pk)
    if visit is None:
        return None
    return briefing_for(visit, _latest_intakes([visit.patient_id]).get(visit.patient_id))


def previous_stop(*, visit: Visit) -> Visit | None:
    """The nurse's visit before this one on the same (provider-local) day, or None."""
    provider = visit.provider
    if provider is None:
        return None  # nobody's route: no stop before it
    start, _end = day_bounds(provider, visit.starts_at.astimezone(ZoneInfo(provider.time_zone)).date())
    return (
        Visit.objects.filter(
            provider=provider,
            status__in=DAY_STATUSES,
            starts_at__gte=start,
            starts_at__lt=visit.starts_at,
        )
        .exclude(status=S.ON_HOLD)  # not a stop: nobody goes to a visit on hold
        .exclude(service__is_telehealth=True)
        .order_by("-starts_at")
        .first()
    )


@dataclass
class ChartView:
    chart: VisitChart | None
    vitals: list[VitalsReading]
    doses: list[DoseRecord]
    adverse_events: list[AdverseEvent]
    discharges: list[DischargeChecklist]
    amendments: list[ChartAmendment]
    events: list[ChartEvent]

    @property
    def baseline(self) -> VitalsReading | None:
        return next((v for v in self.vitals if v.kind == "baseline"), None)

    @property
    def last_reading(self) -> VitalsReading | None:
        return self.vitals[-1] if self.vitals else None

    @property
    def dose(self) -> DoseRecord | None:
        return self.doses[-1] if self.doses else None

    @property
    def discharge(self) -> DischargeChecklist | None:
        return self.discharges[-1] if self.discharges else None

    @property
    def paused(self) -> bool:
        """The infusion's last action was "paused" or "stopped", with no "resumed" after it."""
        actions = [
            v.action_taken
            for v in self.vitals
            if v.action_taken in (*protocol.PAUSING_ACTIONS, protocol.RESUMING_ACTION)
        ]
        return bool(actions) and actions[-1] in protocol.PAUSING_ACTIONS

    @property
    def next_reading_due(self) -> datetime | None:
        last = self.last_reading
        return last.taken_at + timedelta(minutes=protocol.VITALS_EVERY_MINUTES) if last else None


def chart_view(*, visit: Visit) -> ChartView:
    """Everything charted on this visit (no chart yet: empty lists)."""
    chart = getattr(visit, "chart", None)
    if chart is None:
        return ChartView(None, [], [], [], [], [], [])
    return ChartView(
        chart=chart,
        # The baseline first, then in the order taken (a typed time has no seconds).
        vitals=sorted(chart.vitals.all(), key=lambda r: (r.kind != "baseline", r.taken_at, r.pk)),
        doses=list(chart.doses.all()),
        adverse_events=list(chart.adverse_events.all()),
        discharges=list(chart.discharges.all()),
        amendments=list(chart.amendments.select_related("amended_by")),
        events=list(chart.events.select_related("actor")),
    )


def on_my_way_text_for(*, visit: Visit, name: str, phone_display: str = "") -> str:
    """What the nurse's page says about the "on my way" message: exactly what went, or why not.

    Read from the outbox row, so "Taylor was told" is never said of a text that did not go.
    """
    chart = VisitChart.objects.filter(visit=visit).first()
    message = (
        Message.objects.filter(visit=visit, template="on_my_way").order_by("-channel", "-created_at").first()
    )  # the text ("sms") before its email twin ("email")
    if chart is None or chart.eta_from is None or chart.eta_until is None or message is None:
        return ""
    tz = ZoneInfo(visit.time_zone)
    window = f"{_hm(chart.eta_from.astimezone(tz))} \N{EN DASH} {_hm(chart.eta_until.astimezone(tz))}"
    facts = {"name": name, "window": window, "phone": phone_display or str(_("their number"))}
    if message.status in (MessageStatus.SENT, MessageStatus.DELIVERED):
        sent = _hm(message.sent_at.astimezone(tz)) if message.sent_at else ""
        if message.channel == Channel.SMS:
            return str(_("Text sent to %(name)s at %(sent)s: arriving %(window)s.") % {**facts, "sent": sent})
        return str(_("Emailed %(name)s (no text possible): arriving %(window)s.") % facts)
    if message.status in (MessageStatus.PENDING, MessageStatus.SENDING):
        if message.channel == Channel.SMS:
            return str(_("Texting %(name)s now: arriving %(window)s.") % facts)
        return str(_("Emailing %(name)s (no text possible): arriving %(window)s.") % facts)
    reason = message.last_error or message.get_status_display()
    return str(_("%(name)s was not told: %(reason)s Call them on %(phone)s.") % {**facts, "reason": reason})


def _hm(moment: datetime) -> str:
    return f"{moment:%-I:%M %p} {moment.tzname()}"
