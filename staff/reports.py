"""The clinic's reports (managers): each a table for a date range, shown in admin and exported as CSV.

- visits per day and state: every visit booked for a day (in the visit's own time zone), by US
  state and status (expired holds left out);
- nurse utilisation: minutes booked in visits / minutes of working time (weekly pattern, date
  overrides, time off), per provider, with the travel the visits need;
- cancellations and no-shows, by who cancelled (the patient early or late, staff, the clinic), of
  the visits that were confirmed;
- revenue and refunds, per day (REPORTS_TIME_ZONE): money taken and money sent back, in dollars;
- outcomes: PHQ-9, GAD-7 and PCL-5 from the patient's first measure (baseline) to their last one
  in the range, across patients with at least two measures; response = a drop of at least
  OUTCOME_RESPONSE_DROP_PERCENT from a baseline above 0, remission = a last score below
  OUTCOME_REMISSION_BELOW[instrument].

Every report takes a fixed number of queries and does its sums in Python: the numbers of rows a
clinic has in a year fit in memory easily, and visits' days depend on each visit's own zone.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Protocol, cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from booking import selectors
from booking.availability import zone
from booking.models import BLOCKING_STATUSES, CancelledBy, Visit, VisitStatus
from patients.models import Instrument, ScreeningResponse
from payments.models import PAID_STATUSES, REFUND_COUNTING_STATUSES, Payment, Refund
from roster.models import Provider
from staff.board import minutes_between, working_windows
from staff.board.hours import Shifts, TimeRange

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    # One value of a report's table: text, a number (cents for money, 0-100 for a percent), or nothing.
    Cell = StrOrPromise | int | float | None

MONEY, PERCENT, NUMBER, TEXT, DECIMAL = "money", "percent", "number", "text", "decimal"


@dataclass
class Column:
    label: StrOrPromise
    kind: str = NUMBER


@dataclass
class Report:
    slug: str
    title: StrOrPromise
    description: StrOrPromise
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)  # raw values (cents for money, 0-100 floats for percent)
    totals: list[Cell] | None = None
    notes: list[StrOrPromise] = field(default_factory=list)

    def csv(self) -> str:
        """The report as CSV text: money in dollars with cents, percents as numbers."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([str(c.label) for c in self.columns])
        for row in [*self.rows, *([self.totals] if self.totals else [])]:
            writer.writerow([csv_value(v, c.kind) for v, c in zip(row, self.columns, strict=True)])
        return out.getvalue()


def _money_parts(cents: int) -> tuple[str, int, int]:
    """(sign, dollars, cents) of an amount in cents."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(int(cents)), 100)
    return sign, dollars, rest


def csv_value(value: Cell, kind: str) -> str:
    if value is None:
        return ""
    if kind == MONEY:
        sign, dollars, cents = _money_parts(cast(int, value))  # a money column holds integer cents
        return f"{sign}{dollars}.{cents:02d}"
    if kind in (PERCENT, DECIMAL):
        return f"{value:.1f}"
    return str(value)


def display_value(value: Cell, kind: str) -> str:
    if value is None:
        return "—"
    if kind == MONEY:
        sign, dollars, cents = _money_parts(cast(int, value))  # a money column holds integer cents
        return f"{sign}${dollars:,}.{cents:02d}"
    if kind == PERCENT:
        return f"{value:.1f}%"
    if kind == DECIMAL:
        return f"{value:.1f}"
    return str(value)


def report_zone() -> ZoneInfo:
    return zone(getattr(settings, "REPORTS_TIME_ZONE", "America/New_York"))


def _utc_bounds(first_day: date, last_day: date, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """A local date range as [start, end) instants; with no zone, padded a day for every US zone."""
    if tz is not None:
        return (
            datetime.combine(first_day, time(0), tzinfo=tz),
            datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz),
        )
    utc = zone("UTC")
    return (
        datetime.combine(first_day - timedelta(days=1), time(0), tzinfo=utc),
        datetime.combine(last_day + timedelta(days=2), time(0), tzinfo=utc),
    )


def _days(first_day: date, last_day: date) -> Iterator[date]:
    day = first_day
    while day <= last_day:
        yield day
        day += timedelta(days=1)


def _pct(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# --- visits per day and state --------------------------------------------------------------------


def visits_per_day(*, first_day: date, last_day: date) -> Report:
    statuses = [s for s in VisitStatus if s != VisitStatus.EXPIRED]
    start, end = _utc_bounds(first_day, last_day)
    counts: defaultdict[tuple[date, str], defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        Visit.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=VisitStatus.EXPIRED)
        .values_list("starts_at", "time_zone", "state", "status")
    )
    for starts_at, tz_name, state, status in rows:
        day = starts_at.astimezone(zone(tz_name)).date()
        if first_day <= day <= last_day:
            counts[(day, state)][status] += 1
    table: list[list[Cell]] = []
    totals: defaultdict[str, int] = defaultdict(int)
    for (day, state), by_status in sorted(counts.items()):
        values = [by_status.get(s.value, 0) for s in statuses]
        for s, v in zip(statuses, values, strict=True):
            totals[s] += v
        table.append([day.isoformat(), state, *values, sum(values)])
    return Report(
        slug="visits",
        title=_("Visits per day and state"),
        description=_("Every visit by the day it happens (in its own time zone), US state and status."),
        columns=[Column(_("day"), TEXT), Column(_("state"), TEXT)]
        + [Column(s.label) for s in statuses]
        + [Column(_("all"))],
        rows=table,
        totals=[str(_("Total")), "", *[totals[s] for s in statuses], sum(totals.values())],
    )


# --- nurse utilisation -------------------------------------------------------------------------


VisitTimes = tuple[datetime, datetime, datetime, datetime]  # starts_at, ends_at, blocked_from, blocked_until


def _visit_times_by_provider(
    provider_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[VisitTimes]]:
    """{provider id: [(starts_at, ends_at, blocked_from, blocked_until)]} of the visits that count, in one query."""
    visits: defaultdict[int, list[VisitTimes]] = defaultdict(list)
    for provider_id, starts_at, ends_at, blocked_from, blocked_until in Visit.objects.filter(
        provider_id__in=provider_ids,
        status__in=(*BLOCKING_STATUSES, VisitStatus.COMPLETED),
        starts_at__gte=start,
        starts_at__lt=end,
    ).values_list("provider_id", "starts_at", "ends_at", "blocked_from", "blocked_until"):
        visits[provider_id].append((starts_at, ends_at, blocked_from, blocked_until))
    return visits


def _working_time(
    provider: Provider,
    first_day: date,
    last_day: date,
    *,
    weekly: dict[int, Shifts],
    overrides: dict[date, Shifts],
    time_off: list[TimeRange],
) -> tuple[int, int]:
    """(working minutes, days with working time) of one provider over the range, in their own zone."""
    working = days_worked = 0
    for day in _days(first_day, last_day):
        windows = working_windows(
            day=day, tz_name=provider.time_zone, weekly=weekly, overrides=overrides, time_off=time_off
        )
        minutes = sum(minutes_between(a, b) for a, b in windows)
        working += minutes
        days_worked += 1 if minutes else 0
    return working, days_worked


@dataclass
class _ProviderTime:
    """One provider's figures over the range (minutes; shown in hours)."""

    provider: Provider
    days_worked: int
    visits: int
    working: int
    booked: int
    travel: int

    def cells(self) -> list[Cell]:
        return [
            str(self.provider),
            self.provider.get_kind_display(),
            self.days_worked,
            self.visits,
            round(self.working / 60, 1),
            round(self.booked / 60, 1),
            round(self.travel / 60, 1),
            _pct(self.booked, self.working),
        ]


def _utilisation_report(figures: list[_ProviderTime]) -> Report:
    all_working = sum(f.working for f in figures)
    all_booked = sum(f.booked for f in figures)
    return Report(
        slug="utilisation",
        title=_("Nurse utilisation"),
        description=_(
            "Hours booked in visits (travel not counted) over hours of working time (weekly pattern, "
            "date overrides, minus time off), per provider, days in their own time zone."
        ),
        columns=[
            Column(_("provider"), TEXT),
            Column(_("kind"), TEXT),
            Column(_("days worked")),
            Column(_("visits")),
            Column(_("working hours"), DECIMAL),
            Column(_("booked hours"), DECIMAL),
            Column(_("travel hours"), DECIMAL),
            Column(_("utilisation"), PERCENT),
        ],
        rows=[f.cells() for f in figures],
        totals=[
            str(_("Total")),
            "",
            sum(f.days_worked for f in figures),
            sum(f.visits for f in figures),
            round(all_working / 60, 1),
            round(all_booked / 60, 1),
            # The travel hours shown, added up (as a reader of the table would).
            round(sum(round(f.travel / 60, 1) for f in figures), 1),
            _pct(all_booked, all_working),
        ],
    )


def nurse_utilisation(*, first_day: date, last_day: date) -> Report:
    start, end = _utc_bounds(first_day, last_day)
    providers = list(Provider.objects.select_related("user").order_by("kind", "user__last_name", "pk"))
    ids = [p.pk for p in providers]
    _licences, weekly, overrides, time_off = selectors._roster(ids, start, end)
    visits = _visit_times_by_provider(ids, start, end)
    figures: list[_ProviderTime] = []
    for provider in providers:
        tz = zone(provider.time_zone)
        working, days_worked = _working_time(
            provider,
            first_day,
            last_day,
            weekly=weekly[provider.pk],
            overrides=overrides[provider.pk],
            time_off=time_off[provider.pk],
        )
        mine = [v for v in visits[provider.pk] if first_day <= v[0].astimezone(tz).date() <= last_day]
        booked = sum(minutes_between(s, e) for s, e, _f, _u in mine)
        travel = sum(minutes_between(f, s) + minutes_between(e, u) for s, e, f, u in mine)
        if not working and not mine:
            continue
        figures.append(_ProviderTime(provider, days_worked, len(mine), working, booked, travel))
    return _utilisation_report(figures)


# --- cancellations and no-shows ------------------------------------------------------------------


def cancellations(*, first_day: date, last_day: date) -> Report:
    start, end = _utc_bounds(first_day, last_day)
    late_after = timedelta(hours=settings.PAYMENT_FULL_REFUND_HOURS)
    booked = (
        Visit.objects.filter(starts_at__gte=start, starts_at__lt=end, confirmed_at__isnull=False)
        .exclude(status=VisitStatus.EXPIRED)
        .values_list("starts_at", "time_zone", "status", "cancelled_by", "cancelled_at")
    )
    groups = {
        "patient_early": _("Cancelled by the patient (%(h)s h or more ahead)")
        % {"h": settings.PAYMENT_FULL_REFUND_HOURS},
        "patient_late": _("Cancelled by the patient (later)"),
        CancelledBy.STAFF.value: _("Cancelled by staff"),
        CancelledBy.CLINIC.value: _("Cancelled by ConciergeMD (system)"),
        "no_show": _("No-show"),
    }
    counts: defaultdict[str, int] = defaultdict(int)
    total = 0
    for starts_at, tz_name, status, by, cancelled_at in booked:
        if not first_day <= starts_at.astimezone(zone(tz_name)).date() <= last_day:
            continue
        total += 1
        if status == VisitStatus.NO_SHOW:
            counts["no_show"] += 1
        elif status == VisitStatus.CANCELLED:
            if by == CancelledBy.PATIENT:
                early = cancelled_at is not None and starts_at - cancelled_at >= late_after
                counts["patient_early" if early else "patient_late"] += 1
            else:
                counts[by or CancelledBy.CLINIC.value] += 1
    rows: list[list[Cell]] = [[str(label), counts[key], _pct(counts[key], total)] for key, label in groups.items()]
    lost = sum(counts.values())
    return Report(
        slug="cancellations",
        title=_("Cancellations and no-shows"),
        description=_(
            "Of the visits that were confirmed (paid) for days in the range: who cancelled, and who did not come."
        ),
        columns=[Column(_("what happened"), TEXT), Column(_("visits")), Column(_("of confirmed visits"), PERCENT)],
        rows=rows,
        totals=[str(_("All cancellations and no-shows")), lost, _pct(lost, total)],
        notes=[_("Confirmed visits in the range: %(n)s.") % {"n": total}],
    )


# --- revenue and refunds ---------------------------------------------------------------------------


def revenue(*, first_day: date, last_day: date) -> Report:
    tz = report_zone()
    start, end = _utc_bounds(first_day, last_day, tz)
    paid: defaultdict[date, list[int]] = defaultdict(lambda: [0, 0])  # day -> [payments, cents]
    for succeeded_at, cents in Payment.objects.filter(
        status__in=PAID_STATUSES, succeeded_at__gte=start, succeeded_at__lt=end
    ).values_list("succeeded_at", "amount_cents"):
        assert succeeded_at is not None  # the filter above: a payment that succeeded in the range
        entry = paid[succeeded_at.astimezone(tz).date()]
        entry[0] += 1
        entry[1] += cents
    refunded: defaultdict[date, list[int]] = defaultdict(lambda: [0, 0])  # day -> [refunds, cents]
    for created_at, cents in Refund.objects.filter(
        status__in=REFUND_COUNTING_STATUSES, created_at__gte=start, created_at__lt=end
    ).values_list("created_at", "amount_cents"):
        entry = refunded[created_at.astimezone(tz).date()]
        entry[0] += 1
        entry[1] += cents
    rows: list[list[Cell]] = []
    sums = [0, 0, 0, 0, 0]
    for day in sorted(set(paid) | set(refunded)):
        (n_paid, cents_paid), (n_refunds, cents_refunded) = paid[day], refunded[day]
        figures = [n_paid, cents_paid, n_refunds, cents_refunded, cents_paid - cents_refunded]
        sums = [total + figure for total, figure in zip(sums, figures, strict=True)]
        rows.append([day.isoformat(), *figures])
    totals: list[Cell] = [str(_("Total")), *sums]
    return Report(
        slug="revenue",
        title=_("Revenue and refunds"),
        description=_(
            "Payments taken and refunds sent (or on their way) per day, in %(zone)s. Net = taken minus refunded."
        )
        % {"zone": getattr(settings, "REPORTS_TIME_ZONE", "America/New_York")},
        columns=[
            Column(_("day"), TEXT),
            Column(_("payments")),
            Column(_("taken"), MONEY),
            Column(_("refunds")),
            Column(_("refunded"), MONEY),
            Column(_("net"), MONEY),
        ],
        rows=rows,
        totals=totals,
    )


# --- outcomes --------------------------------------------------------------------------------------


def outcome_settings() -> tuple[int, dict[str, int]]:
    return (
        getattr(settings, "OUTCOME_RESPONSE_DROP_PERCENT", 50),
        getattr(settings, "OUTCOME_REMISSION_BELOW", {"phq9": 5, "gad7": 5, "pcl5": 33}),
    )


def _baseline_and_latest(start: datetime, end: datetime) -> dict[str, list[tuple[int, int]]]:
    """{instrument: [(baseline total, last total in the range)]}, one pair per patient with both."""
    series: defaultdict[tuple[int, str], list[tuple[datetime, int]]] = defaultdict(list)
    for patient_id, instrument, total, submitted_at in (
        ScreeningResponse.objects.filter(submitted_at__lt=end)
        .order_by("patient_id", "instrument", "submitted_at", "pk")
        .values_list("patient_id", "instrument", "total", "submitted_at")
    ):
        series[(patient_id, instrument)].append((submitted_at, total))
    per_instrument: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
    for (_patient, instrument), measures in series.items():
        baseline = measures[0]
        in_range = [m for m in measures[1:] if m[0] >= start]
        if in_range:
            per_instrument[instrument].append((baseline[1], in_range[-1][1]))
    return per_instrument


def _outcome_row(
    instrument: Instrument, pairs: list[tuple[int, int]], *, drop_percent: int, threshold: int | None
) -> list[Cell]:
    n = len(pairs)
    responders = sum(1 for b, latest in pairs if b > 0 and (b - latest) * 100 >= drop_percent * b)
    remitted = sum(1 for _b, latest in pairs if threshold is not None and latest < threshold)
    return [
        instrument.label,
        n,
        round(sum(b for b, _ in pairs) / n, 1) if n else None,
        round(sum(latest for _, latest in pairs) / n, 1) if n else None,
        round(sum(latest - b for b, latest in pairs) / n, 1) if n else None,
        responders,
        _pct(responders, n),
        threshold,
        remitted,
        _pct(remitted, n),
    ]


def outcomes(*, first_day: date, last_day: date) -> Report:
    tz = report_zone()
    start, end = _utc_bounds(first_day, last_day, tz)
    drop_percent, remission_below = outcome_settings()
    per_instrument = _baseline_and_latest(start, end)
    rows = [
        _outcome_row(
            instrument,
            per_instrument.get(instrument.value, []),
            drop_percent=drop_percent,
            threshold=remission_below.get(instrument.value),
        )
        for instrument in Instrument
    ]
    return Report(
        slug="outcomes",
        title=_("Outcomes: PHQ-9, GAD-7, PCL-5"),
        description=_(
            "Per questionnaire, patients with a baseline (their first measure) and a later measure in the range: "
            "the change from baseline to their last measure in the range. Response: a drop of %(drop)s%% or "
            "more from a baseline above 0. Remission: a last score below the threshold."
        )
        % {"drop": drop_percent},
        columns=[
            Column(_("questionnaire"), TEXT),
            Column(_("patients")),
            Column(_("mean baseline"), DECIMAL),
            Column(_("mean last"), DECIMAL),
            Column(_("mean change"), DECIMAL),
            Column(_("responders")),
            Column(_("response rate"), PERCENT),
            Column(_("remission below")),
            Column(_("in remission")),
            Column(_("remission rate"), PERCENT),
        ],
        rows=rows,
    )


class ReportBuilder(Protocol):
    def __call__(self, *, first_day: date, last_day: date) -> Report: ...


REPORTS: dict[str, ReportBuilder] = {
    "visits": visits_per_day,
    "utilisation": nurse_utilisation,
    "cancellations": cancellations,
    "revenue": revenue,
    "outcomes": outcomes,
}

REPORT_TITLES: dict[str, StrOrPromise] = {
    "visits": _("Visits per day and state"),
    "utilisation": _("Nurse utilisation"),
    "cancellations": _("Cancellations and no-shows"),
    "revenue": _("Revenue and refunds"),
    "outcomes": _("Outcomes: PHQ-9, GAD-7, PCL-5"),
}


def report_build(*, slug: str, first_day: date, last_day: date) -> Report:
    return REPORTS[slug](first_day=first_day, last_day=last_day)
