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

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from booking import selectors
from booking.availability import zone
from booking.models import BLOCKING_STATUSES, CancelledBy, Visit, VisitStatus
from patients.models import Instrument, ScreeningResponse
from payments.models import PAID_STATUSES, REFUND_COUNTING_STATUSES, Payment, Refund
from roster.models import Provider
from staff.board import minutes_between, working_windows

MONEY, PERCENT, NUMBER, TEXT, DECIMAL = "money", "percent", "number", "text", "decimal"


@dataclass
class Column:
    label: str
    kind: str = NUMBER


@dataclass
class Report:
    slug: str
    title: str
    description: str
    columns: list
    rows: list = field(default_factory=list)  # lists of raw values (cents for money, 0-100 floats for percent)
    totals: list | None = None
    notes: list = field(default_factory=list)

    def csv(self):
        """The report as CSV text: money in dollars with cents, percents as numbers."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([str(c.label) for c in self.columns])
        for row in [*self.rows, *([self.totals] if self.totals else [])]:
            writer.writerow([csv_value(v, c.kind) for v, c in zip(row, self.columns, strict=True)])
        return out.getvalue()


def csv_value(value, kind):
    if value is None:
        return ""
    if kind == MONEY:
        sign = "-" if value < 0 else ""
        dollars, cents = divmod(abs(int(value)), 100)
        return f"{sign}{dollars}.{cents:02d}"
    if kind in (PERCENT, DECIMAL):
        return f"{value:.1f}"
    return str(value)


def display_value(value, kind):
    if value is None:
        return "—"
    if kind == MONEY:
        sign = "-" if value < 0 else ""
        dollars, cents = divmod(abs(int(value)), 100)
        return f"{sign}${dollars:,}.{cents:02d}"
    if kind == PERCENT:
        return f"{value:.1f}%"
    if kind == DECIMAL:
        return f"{value:.1f}"
    return str(value)


def report_zone():
    return zone(getattr(settings, "REPORTS_TIME_ZONE", "America/New_York"))


def _utc_bounds(first_day, last_day, tz=None):
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


def _days(first_day, last_day):
    day = first_day
    while day <= last_day:
        yield day
        day += timedelta(days=1)


def _pct(part, whole):
    return round(100 * part / whole, 1) if whole else None


# --- visits per day and state --------------------------------------------------------------------


def visits_per_day(*, first_day, last_day):
    statuses = [s for s in VisitStatus if s != VisitStatus.EXPIRED]
    start, end = _utc_bounds(first_day, last_day)
    counts = defaultdict(lambda: defaultdict(int))
    rows = (
        Visit.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .exclude(status=VisitStatus.EXPIRED)
        .values_list("starts_at", "time_zone", "state", "status")
    )
    for starts_at, tz_name, state, status in rows:
        day = starts_at.astimezone(zone(tz_name)).date()
        if first_day <= day <= last_day:
            counts[(day, state)][status] += 1
    table = []
    totals = defaultdict(int)
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


def _visit_times_by_provider(provider_ids, start, end):
    """{provider id: [(starts_at, ends_at, blocked_from, blocked_until)]} of the visits that count, in one query."""
    visits = defaultdict(list)
    for provider_id, starts_at, ends_at, blocked_from, blocked_until in Visit.objects.filter(
        provider_id__in=provider_ids,
        status__in=(*BLOCKING_STATUSES, VisitStatus.COMPLETED),
        starts_at__gte=start,
        starts_at__lt=end,
    ).values_list("provider_id", "starts_at", "ends_at", "blocked_from", "blocked_until"):
        visits[provider_id].append((starts_at, ends_at, blocked_from, blocked_until))
    return visits


def _working_time(provider, first_day, last_day, *, weekly, overrides, time_off):
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


def _utilisation_report(table, all_working, all_booked):
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
        rows=table,
        totals=[
            str(_("Total")),
            "",
            sum(r[2] for r in table),
            sum(r[3] for r in table),
            round(all_working / 60, 1),
            round(all_booked / 60, 1),
            round(sum(r[6] for r in table), 1),
            _pct(all_booked, all_working),
        ],
    )


def nurse_utilisation(*, first_day, last_day):
    start, end = _utc_bounds(first_day, last_day)
    providers = list(Provider.objects.select_related("user").order_by("kind", "user__last_name", "pk"))
    ids = [p.pk for p in providers]
    _licences, weekly, overrides, time_off = selectors._roster(ids, start, end)
    visits = _visit_times_by_provider(ids, start, end)
    table = []
    all_working = all_booked = 0
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
        all_working += working
        all_booked += booked
        table.append(
            [
                str(provider),
                provider.get_kind_display(),
                days_worked,
                len(mine),
                round(working / 60, 1),
                round(booked / 60, 1),
                round(travel / 60, 1),
                _pct(booked, working),
            ]
        )
    return _utilisation_report(table, all_working, all_booked)


# --- cancellations and no-shows ------------------------------------------------------------------


def cancellations(*, first_day, last_day):
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
    counts = defaultdict(int)
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
    rows = [[str(label), counts[key], _pct(counts[key], total)] for key, label in groups.items()]
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


def revenue(*, first_day, last_day):
    tz = report_zone()
    start, end = _utc_bounds(first_day, last_day, tz)
    paid = defaultdict(lambda: [0, 0])
    for succeeded_at, cents in Payment.objects.filter(
        status__in=PAID_STATUSES, succeeded_at__gte=start, succeeded_at__lt=end
    ).values_list("succeeded_at", "amount_cents"):
        entry = paid[succeeded_at.astimezone(tz).date()]
        entry[0] += 1
        entry[1] += cents
    refunded = defaultdict(lambda: [0, 0])
    for created_at, cents in Refund.objects.filter(
        status__in=REFUND_COUNTING_STATUSES, created_at__gte=start, created_at__lt=end
    ).values_list("created_at", "amount_cents"):
        entry = refunded[created_at.astimezone(tz).date()]
        entry[0] += 1
        entry[1] += cents
    rows = []
    for day in sorted(set(paid) | set(refunded)):
        (n_paid, cents_paid), (n_refunds, cents_refunded) = paid[day], refunded[day]
        rows.append([day.isoformat(), n_paid, cents_paid, n_refunds, cents_refunded, cents_paid - cents_refunded])
    totals = [str(_("Total")), *[sum(r[i] for r in rows) for i in range(1, 6)]]
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


def outcome_settings():
    return (
        getattr(settings, "OUTCOME_RESPONSE_DROP_PERCENT", 50),
        getattr(settings, "OUTCOME_REMISSION_BELOW", {"phq9": 5, "gad7": 5, "pcl5": 33}),
    )


def _baseline_and_latest(start, end):
    """{instrument: [(baseline total, last total in the range)]}, one pair per patient with both."""
    series = defaultdict(list)
    for patient_id, instrument, total, submitted_at in (
        ScreeningResponse.objects.filter(submitted_at__lt=end)
        .order_by("patient_id", "instrument", "submitted_at", "pk")
        .values_list("patient_id", "instrument", "total", "submitted_at")
    ):
        series[(patient_id, instrument)].append((submitted_at, total))
    per_instrument = defaultdict(list)
    for (_patient, instrument), measures in series.items():
        baseline = measures[0]
        in_range = [m for m in measures[1:] if m[0] >= start]
        if in_range:
            per_instrument[instrument].append((baseline[1], in_range[-1][1]))
    return per_instrument


def _outcome_row(instrument, pairs, *, drop_percent, threshold):
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


def outcomes(*, first_day, last_day):
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


REPORTS = {
    "visits": visits_per_day,
    "utilisation": nurse_utilisation,
    "cancellations": cancellations,
    "revenue": revenue,
    "outcomes": outcomes,
}

REPORT_TITLES = {
    "visits": _("Visits per day and state"),
    "utilisation": _("Nurse utilisation"),
    "cancellations": _("Cancellations and no-shows"),
    "revenue": _("Revenue and refunds"),
    "outcomes": _("Outcomes: PHQ-9, GAD-7, PCL-5"),
}


def report_build(*, slug, first_day, last_day):
    return REPORTS[slug](first_day=first_day, last_day=last_day)
