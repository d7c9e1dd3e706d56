"""The day's board: one row per provider working or booked that day, laid out on a common axis.

The data is loaded in a fixed number of queries (providers, licences, weekly shifts, date
overrides, time off, visits: six, however many nurses and visits); each row is laid out in memory
in the provider's own time zone, on a common wall-clock axis (e.g. 7 AM to 7 PM), in 5-minute
columns the page draws with CSS grid classes (no inline styles: the admin is under the strict
Content Security Policy too).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING

from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from booking import selectors
from booking.availability import LicenceData, zone
from booking.models import BLOCKING_STATUSES, BookingOrigin, Visit, VisitStatus
from booking.policy import visit_is_late
from booking.templatetags.booking_tags import visit_time
from roster.models import Provider, ProviderKind

from .hours import (
    COLUMN_MINUTES,
    Shifts,
    TimeRange,
    duration_label,
    minutes_between,
    patient_display_name,
    subtract,
    time_range_label,
    working_windows,
)
from .risks import ProviderRowData, licence_warning_days, visit_risks

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DEFAULT_AXIS = (7, 19)  # local hours shown when nobody works earlier or later
SHOWN_STATUSES = (*BLOCKING_STATUSES, VisitStatus.COMPLETED, VisitStatus.NO_SHOW)


@dataclass(frozen=True)
class Segment:
    """One block of a row: a visit, travel, free working time or time off, on the row's axis."""

    kind: str  # "visit", "travel", "free", "time_off"
    start: datetime
    end: datetime
    column: int  # first 5-minute column (1-based, CSS grid line)
    span: int  # number of columns
    label: StrOrPromise
    visit: BoardVisit | None = None  # for "visit" and "travel"


@dataclass
class BoardVisit:
    visit: Visit
    provider_name: str
    patient_name: str
    time_label: str
    telehealth: bool
    travel_before: int
    travel_after: int
    risks: list[StrOrPromise] = field(default_factory=list)
    # Filled by the page (board_urls_attach): one reverse() per page, not three per visit.
    change_url: str = ""
    reassign_url: str = ""
    late: bool = False  # not started well after its start (booking.policy.visit_is_late)

    @property
    def status(self) -> str:
        # get_status_display() hashes every choice's lazy label on each call; a board asks ~3 times a visit
        return _status_labels(get_language())[self.visit.status]

    @property
    def status_code(self) -> str:
        return self.visit.status

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)

    @property
    def can_reassign(self) -> bool:
        return self.visit.status in (VisitStatus.HELD, VisitStatus.CONFIRMED)

    @property
    def hold_note(self) -> StrOrPromise:
        """For a hold made on the phone or offered from the waitlist: whose, and until when."""
        visit = self.visit
        if visit.status != VisitStatus.HELD or visit.hold_expires_at is None:
            return ""
        until = visit_time(visit.hold_expires_at, visit.time_zone)
        if visit.origin == BookingOrigin.PHONE:
            by = visit.booked_by.get_full_name() or visit.booked_by.email if visit.booked_by else ""
            return _("phone hold by %(by)s, until %(time)s") % {"by": by, "time": until}
        if visit.origin == BookingOrigin.WAITLIST:
            return _("offered from the waitlist, held until %(time)s") % {"time": until}
        return _("held online until %(time)s") % {"time": until}


@dataclass
class BoardRow:
    provider: Provider
    name: str
    kind_label: str
    zone_label: str | None  # e.g. "EST"
    day: date
    windows: list[TimeRange]
    visits: list[BoardVisit]  # in time order
    segments: list[Segment] = field(default_factory=list)
    notes: list[StrOrPromise] = field(default_factory=list)  # about the provider: inactive, licence expiring
    now_column: int | None = None  # where "now" falls on the row's track (its own zone), if on the axis

    @property
    def working_minutes(self) -> int:
        return sum(minutes_between(a, b) for a, b in self.windows)

    @property
    def booked_minutes(self) -> int:
        return sum(
            minutes_between(v.visit.starts_at, v.visit.ends_at)
            for v in self.visits
            if v.visit.status != VisitStatus.NO_SHOW
        )

    @property
    def travel_minutes(self) -> int:
        return sum(v.travel_before + v.travel_after for v in self.visits if v.visit.is_blocking)

    @property
    def free_minutes(self) -> int:
        return sum(minutes_between(s.start, s.end) for s in self.segments if s.kind == "free")

    @property
    def load_label(self) -> str:
        return _("%(booked)s booked of %(working)s working") % {
            "booked": duration_label(self.booked_minutes),
            "working": duration_label(self.working_minutes),
        }

    @property
    def free_label(self) -> str:
        return duration_label(self.free_minutes)


@dataclass
class Board:
    day: date
    axis_start: int  # local hour
    axis_end: int
    rows: list[BoardRow]
    unassigned: list[BoardVisit]  # without a provider

    @property
    def columns(self) -> int:
        return (self.axis_end - self.axis_start) * 60 // COLUMN_MINUTES

    @property
    def span_hours(self) -> int:
        return self.axis_end - self.axis_start

    @property
    def hours(self) -> list[tuple[str, int]]:
        """[(label, column)] for the hour marks along the axis."""
        marks = []
        for hour in range(self.axis_start, self.axis_end):
            label = formats.time_format(time(hour), "g A")
            marks.append((label, (hour - self.axis_start) * 60 // COLUMN_MINUTES + 1))
        return marks

    @property
    def at_risk(self) -> list[BoardVisit]:
        """The visits at risk, those on hold (a warning sign) first, then by time."""
        visits = [v for row in self.rows for v in row.visits if v.risks] + [v for v in self.unassigned if v.risks]
        return sorted(visits, key=lambda v: (v.visit.status != VisitStatus.ON_HOLD, v.visit.starts_at))

    @property
    def late_count(self) -> int:
        return sum(v.late for row in self.rows for v in row.visits) + sum(v.late for v in self.unassigned)

    @property
    def visit_count(self) -> int:
        return sum(len(r.visits) for r in self.rows) + len(self.unassigned)


def axis_minutes(moment: datetime, day: date, tz: tzinfo) -> int:
    """Minutes from local midnight of `day` (wall clock), clamped to the day."""
    local = moment.astimezone(tz)
    if local.date() < day:
        return 0
    if local.date() > day:
        return 24 * 60
    return local.hour * 60 + local.minute


def now_column(now: datetime, day: date, tz: tzinfo, axis_start: int, axis_end: int) -> int | None:
    """The 5-minute column of "now" on a row in zone `tz`, or None when now is not on that day's axis."""
    local = now.astimezone(tz)
    if local.date() != day:
        return None
    minutes = local.hour * 60 + local.minute
    if not axis_start * 60 <= minutes < axis_end * 60:
        return None
    return (minutes - axis_start * 60) // COLUMN_MINUTES + 1


def lay_out(row: BoardRow, *, axis_start: int, axis_end: int, time_off: Sequence[TimeRange]) -> BoardRow:
    """Fill `row.segments` (visits, travel, free time, time off) on the board's axis. Pure."""
    tz = zone(row.provider.time_zone)
    first, last = axis_start * 60, axis_end * 60

    def segment(
        kind: str, start: datetime, end: datetime, label: StrOrPromise, visit: BoardVisit | None = None
    ) -> Segment | None:
        a = max(first, axis_minutes(start, row.day, tz))
        b = min(last, axis_minutes(end, row.day, tz))
        if b <= a:
            return None
        column = (a - first) // COLUMN_MINUTES + 1
        span = max(1, -(-(b - first) // COLUMN_MINUTES) - (column - 1))
        return Segment(kind, start, end, column, span, label, visit)

    segments: list[Segment | None] = []
    busy: list[TimeRange] = []
    for visit in row.visits:
        appt = visit.visit
        if appt.is_blocking:
            busy.append((appt.blocked_from, appt.blocked_until))
            if appt.blocked_from < appt.starts_at:
                segments.append(segment("travel", appt.blocked_from, appt.starts_at, _("travel"), visit))
            if appt.blocked_until > appt.ends_at:
                segments.append(segment("travel", appt.ends_at, appt.blocked_until, _("travel"), visit))
        segments.append(segment("visit", appt.starts_at, appt.ends_at, visit.time_label, visit))
    for a, b in row.windows:
        for start, end in subtract(a, b, sorted(busy)):
            segments.append(segment("free", start, end, _("free")))
    day_start = datetime.combine(row.day, time(0), tzinfo=tz)
    day_end = day_start + timedelta(days=1)
    for a, b in time_off:
        if b > day_start and a < day_end:
            segments.append(segment("time_off", max(a, day_start), min(b, day_end), _("time off")))
    row.segments = sorted((s for s in segments if s is not None), key=lambda s: (s.column, s.kind != "visit"))
    return row


# --- loading (a fixed number of queries) -------------------------------------------------------


@dataclass
class BoardData:
    """What the board reads, as loaded by board_data_load: every map is keyed by provider id."""

    providers: dict[int, Provider]
    licences: dict[int, list[LicenceData]]
    weekly: dict[int, dict[int, Shifts]]
    overrides: dict[int, dict[date, Shifts]]
    time_off: dict[int, list[TimeRange]]
    visits: list[Visit]


# What the board reads of a visit (and its service and patient): the rest of the row stays in the database.
VISIT_FIELDS = (
    "status",
    "starts_at",
    "ends_at",
    "blocked_from",
    "blocked_until",
    "time_zone",
    "state",
    "hold_expires_at",
    "origin",
    "booked_by__first_name",
    "booked_by__last_name",
    "booked_by__email",
    "provider_id",
    "service__name",
    "service__is_telehealth",
    "patient__email",
    "patient__first_name",
    "patient__last_name",
    "patient__patient_profile__preferred_name",
    "patient__patient_profile__legal_first_name",
    "patient__patient_profile__legal_last_name",
)


def board_data_load(first_day: date, last_day: date) -> BoardData:
    # A local date is somewhere between UTC-12 and UTC+14: load those instants, then sort by local date.
    utc = zone("UTC")
    range_start = datetime.combine(first_day, time(0), tzinfo=utc) - timedelta(hours=14)
    range_end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=utc) + timedelta(hours=12)
    providers = {p.pk: p for p in Provider.objects.select_related("user")}
    licences, weekly, overrides, time_off = selectors._roster(list(providers), range_start, range_end)
    visits = list(
        Visit.objects.filter(status__in=SHOWN_STATUSES, starts_at__lt=range_end, ends_at__gt=range_start)
        .select_related("service", "patient__patient_profile", "booked_by")
        .only(*VISIT_FIELDS)
        .order_by("starts_at", "pk")
    )
    return BoardData(providers, licences, weekly, overrides, time_off, visits)


@lru_cache(maxsize=16)
def _status_labels(language: str | None) -> dict[str, str]:
    return {value: str(label) for value, label in VisitStatus.choices}


def board_urls_attach(board: Board, *, change_url: str, reassign_url: str, placeholder: str) -> None:
    """Give every visit on the board its admin links, made from URLs reversed once with
    `placeholder` for the visit's id (the page reverses them; the board does not know its URLs)."""
    for visit in [v for row in board.rows for v in row.visits] + board.unassigned:
        pk = str(visit.visit.pk)
        visit.change_url = change_url.replace(placeholder, pk)
        visit.reassign_url = reassign_url.replace(placeholder, pk)


def board_visit(visit: Visit, provider: Provider | None, now: datetime, row_data: ProviderRowData | None) -> BoardVisit:
    tz_name = visit.time_zone
    return BoardVisit(
        visit=visit,
        provider_name=str(provider) if provider is not None else "",
        patient_name=patient_display_name(visit.patient),
        time_label=time_range_label(visit.starts_at, visit.ends_at, tz_name),
        telehealth=visit.service.is_telehealth,
        travel_before=minutes_between(visit.blocked_from, visit.starts_at),
        travel_after=minutes_between(visit.ends_at, visit.blocked_until),
        risks=visit_risks(visit=visit, provider_row_data=row_data, now=now),
        late=visit_is_late(visit, now),
    )


def provider_order(provider: Provider) -> tuple[bool, str, str, int]:
    return (provider.kind != ProviderKind.NURSE, provider.user.last_name, provider.user.first_name, provider.pk)


# {(provider id, the provider's local date): [visits]} and {the visit's local date: [visits without one]}
VisitsByDay = tuple[dict[tuple[int, date], list[Visit]], dict[date, list[Visit]]]


def visits_by_day(data: BoardData) -> VisitsByDay:
    """{(provider id, the provider's local date): [visits]} and {the visit's local date: [visits without one]}."""
    by_provider_day: defaultdict[tuple[int, date], list[Visit]] = defaultdict(list)
    unassigned: defaultdict[date, list[Visit]] = defaultdict(list)
    for visit in data.visits:
        provider = data.providers.get(visit.provider_id) if visit.provider_id else None
        if provider is None:
            unassigned[visit.starts_at.astimezone(zone(visit.time_zone)).date()].append(visit)
        else:
            by_provider_day[(provider.pk, visit.starts_at.astimezone(zone(provider.time_zone)).date())].append(visit)
    return by_provider_day, unassigned


def _axis(rows: list[BoardRow], day: date) -> tuple[int, int]:
    """(first, last) local hour of the common axis: DEFAULT_AXIS, widened to every window and route block."""
    axis_start, axis_end = DEFAULT_AXIS
    for row in rows:
        tz = zone(row.provider.time_zone)
        moments = [m for w in row.windows for m in w]
        moments += [m for v in row.visits for m in (v.visit.blocked_from, v.visit.blocked_until)]
        for moment in moments:
            minutes = axis_minutes(moment, day, tz)
            axis_start = min(axis_start, minutes // 60)
            axis_end = max(axis_end, -(-minutes // 60))
    return axis_start, min(24, max(axis_end, axis_start + 1))


def board_day_build(
    data: BoardData, day: date, now: datetime, grouped: VisitsByDay | None = None, layout: bool = True
) -> Board:
    by_provider_day, unassigned_by_day = grouped or visits_by_day(data)
    unassigned = unassigned_by_day.get(day, [])

    rows: list[BoardRow] = []
    for provider in sorted(data.providers.values(), key=provider_order):
        windows = working_windows(
            day=day,
            tz_name=provider.time_zone,
            weekly=data.weekly[provider.pk],
            overrides=data.overrides[provider.pk],
            time_off=data.time_off[provider.pk],
        )
        visits = by_provider_day.get((provider.pk, day), [])
        if not visits and (not windows or not provider.is_active):
            continue
        licences = data.licences[provider.pk]
        row_data = (provider, licences, windows)
        row = BoardRow(
            provider=provider,
            name=str(provider),
            kind_label=provider.get_kind_display(),
            zone_label=datetime.combine(day, time(12), tzinfo=zone(provider.time_zone)).tzname(),
            day=day,
            windows=windows,
            visits=[board_visit(v, provider, now, row_data) for v in visits],
        )
        if not provider.is_active:
            row.notes.append(_("inactive"))
        soon = [lic for lic in licences if day <= lic.expires_on <= day + timedelta(days=licence_warning_days())]
        for lic in soon:
            row.notes.append(
                _("%(type)s %(state)s licence expires %(date)s")
                % {
                    "type": lic.licence_type,
                    "state": lic.state,
                    "date": formats.date_format(lic.expires_on, "MONTH_DAY_SHORT_FORMAT"),
                }
            )
        rows.append(row)

    axis_start, axis_end = _axis(rows, day)
    for row in rows if layout else ():  # the week needs the figures, not the drawing
        lay_out(row, axis_start=axis_start, axis_end=axis_end, time_off=data.time_off[row.provider.pk])
        row.now_column = now_column(now, row.day, zone(row.provider.time_zone), axis_start, axis_end)
    return Board(
        day=day,
        axis_start=axis_start,
        axis_end=axis_end,
        rows=rows,
        unassigned=[board_visit(v, None, now, None) for v in unassigned],
    )


def board_for_day(*, day: date, now: datetime | None = None) -> Board:
    """The day's board: one row per provider working or booked that day (six queries)."""
    now = now or timezone.now()
    return board_day_build(board_data_load(day, day), day, now)
