"""The schedule board staff see in admin, the visits at risk, and which visits a roster change orphans.

`board_for_day(day=...)` and `board_for_week(first_day=...)` load everything in a fixed number of
queries (providers, licences, weekly shifts, date overrides, time off, visits: six, however many
nurses and visits) and lay each provider's day out in memory: visits, the travel before and after
them (the `blocked_from`/`blocked_until` the booking guard wrote), free working time, time off.
Each provider's row is in their own time zone, on a common wall-clock axis (e.g. 7 AM to 7 PM),
measured in 5-minute columns so that the page can draw it with CSS grid classes (no inline styles:
the admin is under the strict Content Security Policy too).

A visit is "at risk" when it has no provider, when the provider has no valid licence in the
visit's state that day or the licence that covers it expires within BOARD_LICENCE_WARNING_DAYS of
the visit, when it is a hold about to run out (BOARD_HOLD_WARNING_MINUTES), when it lies outside
the provider's working hours (the roster changed after it was booked), or when the provider is
no longer active.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from booking import availability, selectors
from booking.availability import zone
from booking.models import BLOCKING_STATUSES, Visit, VisitStatus
from roster.licensure import licence_valid_in
from roster.models import Provider, ProviderKind

COLUMN_MINUTES = 5
DEFAULT_AXIS = (7, 19)  # local hours shown when nobody works earlier or later
SHOWN_STATUSES = (*BLOCKING_STATUSES, VisitStatus.COMPLETED, VisitStatus.NO_SHOW)


def licence_warning_days():
    return getattr(settings, "BOARD_LICENCE_WARNING_DAYS", 30)


def hold_warning():
    return timedelta(minutes=getattr(settings, "BOARD_HOLD_WARNING_MINUTES", 5))


# --- plain helpers (no database) --------------------------------------------------------------


def working_windows(*, day, tz_name, weekly, overrides, time_off):
    """A provider's working time on one local date: [(start, end)] aware datetimes, time off cut out.

    `weekly`: weekday -> [(start time, end time)]; `overrides`: date -> [(start, end)] (an empty
    list is a day off); `time_off`: [(starts_at, ends_at)]. The same rules as availability.
    """
    tz = zone(tz_name)
    shifts = overrides[day] if day in overrides else weekly.get(day.weekday(), [])
    windows = []
    for start, end in shifts:
        a = datetime.combine(day, start, tzinfo=tz)
        b = datetime.combine(day, end, tzinfo=tz)
        cuts = sorted((s, e) for s, e in time_off if e > a and s < b)
        windows.extend(_subtract(a, b, cuts))
    return windows


def _subtract(start, end, cuts):
    pieces, cursor = [], start
    for cut_start, cut_end in cuts:
        if cut_end <= cursor or cut_start >= end:
            continue
        if cut_start > cursor:
            pieces.append((cursor, cut_start))
        cursor = max(cursor, cut_end)
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def minutes_between(a, b):
    return max(0, int((b - a).total_seconds() // 60))


def _clock(moment):
    # "9:05" and "AM"/"PM" (US English, as every page shows times), without Django's slower date formatter:
    # the board writes hundreds of these.
    return f"{moment.hour % 12 or 12}:{moment.minute:02d}", "AM" if moment.hour < 12 else "PM"


def time_range_label(start, end, tz_name):
    """'9:00-11:00 AM EST' or '11:30 AM-1:30 PM EST' (local, with the zone's abbreviation)."""
    tz = zone(tz_name)
    a, b = start.astimezone(tz), end.astimezone(tz)
    (a_time, a_half), (b_time, b_half) = _clock(a), _clock(b)
    if a_half == b_half:
        return f"{a_time}-{b_time} {b_half} {b.tzname()}"
    return f"{a_time} {a_half}-{b_time} {b_half} {b.tzname()}"


def duration_label(minutes):
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)s h") % {"h": hours}
    return _("%(m)s min") % {"m": rest}


@dataclass(frozen=True)
class Segment:
    """One block of a row: a visit, travel, free working time or time off, on the row's axis."""

    kind: str  # "visit", "travel", "free", "time_off"
    start: datetime
    end: datetime
    column: int  # first 5-minute column (1-based, CSS grid line)
    span: int  # number of columns
    label: str
    visit: object = None  # BoardVisit for "visit" and "travel"


@dataclass
class BoardVisit:
    visit: Visit
    provider_name: str
    patient_name: str
    time_label: str
    telehealth: bool
    travel_before: int
    travel_after: int
    risks: list = field(default_factory=list)

    @property
    def status(self):
        return self.visit.get_status_display()

    @property
    def status_code(self):
        return self.visit.status

    @property
    def at_risk(self):
        return bool(self.risks)

    @property
    def can_reassign(self):
        return self.visit.status in (VisitStatus.HELD, VisitStatus.CONFIRMED)


@dataclass
class BoardRow:
    provider: object  # Provider
    name: str
    kind_label: str
    zone_label: str  # e.g. "EST"
    day: date
    windows: list
    visits: list  # BoardVisit, in time order
    segments: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # about the provider: inactive, licence expiring

    @property
    def working_minutes(self):
        return sum(minutes_between(a, b) for a, b in self.windows)

    @property
    def booked_minutes(self):
        return sum(
            minutes_between(v.visit.starts_at, v.visit.ends_at)
            for v in self.visits
            if v.visit.status != VisitStatus.NO_SHOW
        )

    @property
    def travel_minutes(self):
        return sum(v.travel_before + v.travel_after for v in self.visits if v.visit.is_blocking)

    @property
    def free_minutes(self):
        return sum(minutes_between(s.start, s.end) for s in self.segments if s.kind == "free")

    @property
    def load_label(self):
        return _("%(booked)s booked of %(working)s working") % {
            "booked": duration_label(self.booked_minutes),
            "working": duration_label(self.working_minutes),
        }

    @property
    def free_label(self):
        return duration_label(self.free_minutes)


@dataclass
class Board:
    day: date
    axis_start: int  # local hour
    axis_end: int
    rows: list
    unassigned: list  # BoardVisit without a provider

    @property
    def columns(self):
        return (self.axis_end - self.axis_start) * 60 // COLUMN_MINUTES

    @property
    def span_hours(self):
        return self.axis_end - self.axis_start

    @property
    def hours(self):
        """[(label, column)] for the hour marks along the axis."""
        marks = []
        for hour in range(self.axis_start, self.axis_end):
            label = formats.time_format(time(hour), "g A")
            marks.append((label, (hour - self.axis_start) * 60 // COLUMN_MINUTES + 1))
        return marks

    @property
    def at_risk(self):
        visits = [v for row in self.rows for v in row.visits if v.risks] + [v for v in self.unassigned if v.risks]
        return sorted(visits, key=lambda v: v.visit.starts_at)

    @property
    def visit_count(self):
        return sum(len(r.visits) for r in self.rows) + len(self.unassigned)


def _axis_minutes(moment, day, tz):
    """Minutes from local midnight of `day` (wall clock), clamped to the day."""
    local = moment.astimezone(tz)
    if local.date() < day:
        return 0
    if local.date() > day:
        return 24 * 60
    return local.hour * 60 + local.minute


def lay_out(row, *, axis_start, axis_end, time_off):
    """Fill `row.segments` (visits, travel, free time, time off) on the board's axis. Pure."""
    tz = zone(row.provider.time_zone)
    first, last = axis_start * 60, axis_end * 60

    def segment(kind, start, end, label, visit=None):
        a = max(first, _axis_minutes(start, row.day, tz))
        b = min(last, _axis_minutes(end, row.day, tz))
        if b <= a:
            return None
        column = (a - first) // COLUMN_MINUTES + 1
        span = max(1, -(-(b - first) // COLUMN_MINUTES) - (column - 1))
        return Segment(kind, start, end, column, span, label, visit)

    segments = []
    busy = []
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
        for start, end in _subtract(a, b, sorted(busy)):
            segments.append(segment("free", start, end, _("free")))
    day_start = datetime.combine(row.day, time(0), tzinfo=tz)
    day_end = day_start + timedelta(days=1)
    for a, b in time_off:
        if b > day_start and a < day_end:
            segments.append(segment("time_off", max(a, day_start), min(b, day_end), _("time off")))
    row.segments = sorted((s for s in segments if s is not None), key=lambda s: (s.column, s.kind != "visit"))
    return row


def visit_risks(*, visit, provider_row_data, now):
    """Why a visit may not happen as booked (a list of short sentences; empty when all is well)."""
    if visit.status not in BLOCKING_STATUSES:
        return []
    risks = []
    if visit.status == VisitStatus.HELD and visit.hold_expires_at:
        if visit.hold_expires_at <= now:
            risks.append(_("the hold has run out (not paid)"))
        elif visit.hold_expires_at <= now + hold_warning():
            local = visit.hold_expires_at.astimezone(zone(visit.time_zone))
            risks.append(
                _("the hold runs out at %(time)s") % {"time": f"{formats.date_format(local, 'g:i A')} {local.tzname()}"}
            )
    if provider_row_data is None:
        risks.append(_("no nurse assigned"))
        return risks
    provider, licences, windows = provider_row_data
    visit_day = visit.starts_at.astimezone(zone(visit.time_zone)).date()
    valid = [
        lic
        for lic in licences
        if licence_valid_in(
            state=lic.state,
            licence_type=lic.licence_type,
            multistate=lic.multistate,
            expires_on=lic.expires_on,
            visit_state=visit.state,
            on_date=visit_day,
        )
    ]
    if not valid:
        risks.append(_("no licence valid in %(state)s on that day") % {"state": visit.state})
    else:
        expires = max(lic.expires_on for lic in valid)
        if expires <= visit_day + timedelta(days=licence_warning_days()):
            risks.append(
                _("licence for %(state)s expires %(date)s")
                % {"state": visit.state, "date": formats.date_format(expires, "M j, Y")}
            )
    if not provider.is_active:
        risks.append(_("the nurse is no longer active"))
    elif windows is not None and not any(a <= visit.starts_at and visit.ends_at <= b for a, b in windows):
        risks.append(_("outside the nurse's working hours"))
    return risks


# --- loading (a fixed number of queries) -------------------------------------------------------


@dataclass
class _Data:
    providers: dict  # id -> Provider
    licences: dict
    weekly: dict
    overrides: dict
    time_off: dict
    visits: list


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


def _load(first_day, last_day):
    # A local date is somewhere between UTC-12 and UTC+14: load those instants, then sort by local date.
    utc = zone("UTC")
    range_start = datetime.combine(first_day, time(0), tzinfo=utc) - timedelta(hours=14)
    range_end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=utc) + timedelta(hours=12)
    providers = {p.pk: p for p in Provider.objects.select_related("user")}
    licences, weekly, overrides, time_off = selectors._roster(list(providers), range_start, range_end)
    visits = list(
        Visit.objects.filter(status__in=SHOWN_STATUSES, starts_at__lt=range_end, ends_at__gt=range_start)
        .select_related("service", "patient__patient_profile")
        .only(*VISIT_FIELDS)
        .order_by("starts_at", "pk")
    )
    return _Data(providers, licences, weekly, overrides, time_off, visits)


def patient_display_name(user):
    profile = getattr(user, "patient_profile", None)
    name = ""
    if profile is not None:
        name = profile.preferred_name or profile.legal_first_name
        last = profile.legal_last_name or user.last_name
        name = f"{name} {last}".strip() if name else ""
    return name or user.get_full_name()


def _board_visit(visit, provider, now, row_data):
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
    )


def _provider_order(provider):
    return (provider.kind != ProviderKind.NURSE, provider.user.last_name, provider.user.first_name, provider.pk)


def _by_day(data):
    """{(provider id, the provider's local date): [visits]} and {the visit's local date: [visits without one]}."""
    by_provider_day, unassigned = defaultdict(list), defaultdict(list)
    for visit in data.visits:
        provider = data.providers.get(visit.provider_id) if visit.provider_id else None
        if provider is None:
            unassigned[visit.starts_at.astimezone(zone(visit.time_zone)).date()].append(visit)
        else:
            by_provider_day[(provider.pk, visit.starts_at.astimezone(zone(provider.time_zone)).date())].append(visit)
    return by_provider_day, unassigned


def _build_day(data, day, now, grouped=None, layout=True):
    by_provider_day, unassigned_by_day = grouped or _by_day(data)
    unassigned = unassigned_by_day.get(day, [])

    rows = []
    for provider in sorted(data.providers.values(), key=_provider_order):
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
            visits=[_board_visit(v, provider, now, row_data) for v in visits],
        )
        if not provider.is_active:
            row.notes.append(_("inactive"))
        soon = [lic for lic in licences if day <= lic.expires_on <= day + timedelta(days=licence_warning_days())]
        for lic in soon:
            row.notes.append(
                _("%(type)s %(state)s licence expires %(date)s")
                % {"type": lic.licence_type, "state": lic.state, "date": formats.date_format(lic.expires_on, "M j")}
            )
        rows.append(row)

    axis_start, axis_end = DEFAULT_AXIS
    for row in rows:
        tz = zone(row.provider.time_zone)
        moments = [m for w in row.windows for m in w]
        moments += [m for v in row.visits for m in (v.visit.blocked_from, v.visit.blocked_until)]
        for moment in moments:
            minutes = _axis_minutes(moment, day, tz)
            axis_start = min(axis_start, minutes // 60)
            axis_end = max(axis_end, -(-minutes // 60))
    axis_end = min(24, max(axis_end, axis_start + 1))
    for row in rows if layout else ():  # the week needs the figures, not the drawing
        lay_out(row, axis_start=axis_start, axis_end=axis_end, time_off=data.time_off[row.provider.pk])
    return Board(
        day=day,
        axis_start=axis_start,
        axis_end=axis_end,
        rows=rows,
        unassigned=[_board_visit(v, None, now, None) for v in unassigned],
    )


def board_for_day(*, day, now=None):
    """The day's board: one row per provider working or booked that day (six queries)."""
    now = now or timezone.now()
    return _build_day(_load(day, day), day, now)


@dataclass
class WeekCell:
    day: date
    visits: int
    booked_minutes: int
    working_minutes: int
    at_risk: int

    @property
    def utilisation(self):
        return round(100 * self.booked_minutes / self.working_minutes) if self.working_minutes else None


@dataclass
class WeekRow:
    provider: object
    name: str
    kind_label: str
    cells: list


def board_for_week(*, first_day, now=None, days=7):
    """Seven days side by side: per provider and day, visits, booked and working time, risks (six queries)."""
    now = now or timezone.now()
    last_day = first_day + timedelta(days=days - 1)
    data = _load(first_day, last_day)
    week_days = [first_day + timedelta(days=i) for i in range(days)]
    grouped = _by_day(data)
    boards = [_build_day(data, day, now, grouped, layout=False) for day in week_days]
    providers = {}
    for board in boards:
        for row in board.rows:
            providers.setdefault(row.provider.pk, row)
    rows = []
    for provider_id, first_row in sorted(providers.items(), key=lambda item: _provider_order(item[1].provider)):
        cells = []
        for board in boards:
            row = next((r for r in board.rows if r.provider.pk == provider_id), None)
            if row is None:
                cells.append(WeekCell(board.day, 0, 0, 0, 0))
            else:
                cells.append(
                    WeekCell(
                        board.day,
                        len([v for v in row.visits if v.visit.is_blocking or v.status_code == "completed"]),
                        row.booked_minutes,
                        row.working_minutes,
                        len([v for v in row.visits if v.risks]),
                    )
                )
        rows.append(WeekRow(first_row.provider, first_row.name, first_row.kind_label, cells))
    unassigned = [len(b.unassigned) for b in boards]
    return {"days": week_days, "rows": rows, "unassigned": unassigned, "boards": boards}


# --- reassigning: who could take a visit ---------------------------------------------------------


def visit_place(visit):
    return selectors.VisitPlace(
        zip_code=visit.zip_code,
        state=visit.state,
        time_zone=visit.time_zone,
        city=visit.city,
        address_line1=visit.address_line1,
        address_line2=visit.address_line2,
    )


def reassign_candidates(*, visit, now=None):
    """Providers who are eligible and free to take this visit at its time, best first (dispatch rule).

    The same search the booking guard re-runs under lock (staff: no notice), so what is offered
    here is what `visit_reassign` accepts unless someone books in between. The current
    provider is left out. Returns [(Provider, Candidate)].
    """
    from booking import services

    now = now or timezone.now()
    ctx = services.booking_context(
        patient=visit.patient,
        service=visit.service,
        place=visit_place(visit),
        check_eligibility=False,
    )
    clearance = visit.clearance or ctx.clearance
    min_gap = timedelta(hours=clearance.min_hours_between) if clearance is not None else ctx.min_gap
    day = visit.starts_at.astimezone(zone(visit.time_zone)).date()
    slots = selectors.availability_for(
        service=visit.service,
        place=ctx.place,
        patient=visit.patient,
        first_day=day,
        last_day=day,
        now=now,
        visit_minutes=minutes_between(visit.starts_at, visit.ends_at),
        min_gap=min_gap,
        exclude_visit_id=visit.pk,
        notice=timedelta(0),
    )
    slot = availability.slot_at(slots, visit.starts_at)
    if slot is None:
        return []
    candidates = [c for c in slot.candidates if c.provider_id != visit.provider_id]
    providers = Provider.objects.select_related("user").in_bulk([c.provider_id for c in candidates])
    return [(providers[c.provider_id], c) for c in candidates if c.provider_id in providers]


# --- a roster change that would orphan booked visits ---------------------------------------------


@dataclass(frozen=True)
class Orphan:
    visit: Visit
    reason: str


def visits_orphaned_by_roster(*, provider_id, now=None):
    """The provider's booked visits still to come that their roster (as saved now) no longer allows.

    Each visit is checked with the availability module as if it were booked again at its time by
    this provider (licence that day, working hours and time off, the route with the other visits,
    no notice); a day with more visits than the maximum orphans its latest ones. Inactive: all.
    """
    now = now or timezone.now()
    provider = Provider.objects.get(pk=provider_id)
    provider_id = provider.pk  # an id from a URL may be a string; the roster's maps are keyed by int
    visits = list(
        Visit.objects.filter(provider_id=provider_id, status__in=BLOCKING_STATUSES, starts_at__gt=now)
        .exclude(status=VisitStatus.HELD, hold_expires_at__lte=now)
        .select_related("service", "patient__patient_profile")
        .order_by("starts_at", "pk")
    )
    if not visits:
        return []
    if not provider.is_active:
        return [Orphan(v, _("the nurse is no longer active")) for v in visits]
    ptz = zone(provider.time_zone)
    first_day = min(v.starts_at.astimezone(ptz).date() for v in visits) - timedelta(days=1)
    last_day = max(v.starts_at.astimezone(ptz).date() for v in visits) + timedelta(days=1)
    range_start = datetime.combine(first_day, time(0), tzinfo=ptz)
    range_end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=ptz)
    licences, weekly, overrides, time_off = selectors._roster([provider_id], range_start, range_end)
    licences, weekly, overrides, time_off = (
        licences[provider_id],
        weekly[provider_id],
        overrides[provider_id],
        time_off[provider_id],
    )
    # Every blocking visit of those days (past ones included) shapes the route.
    route = list(
        Visit.objects.filter(
            provider_id=provider_id, status__in=BLOCKING_STATUSES, starts_at__lt=range_end, ends_at__gt=range_start
        )
        .exclude(status=VisitStatus.HELD, hold_expires_at__lte=now)
        .values_list("pk", "starts_at", "ends_at", "zip_code")
    )
    orphans = []
    per_day = defaultdict(int)
    for visit in visits:
        vday = visit.starts_at.astimezone(ptz).date()
        per_day[vday] += 1
        local_visit_day = visit.starts_at.astimezone(zone(visit.time_zone)).date()
        reason = None
        if not availability.licences_allow(licences, visit_state=visit.state, on_date=local_visit_day):
            reason = _("no licence valid in %(state)s on that day") % {"state": visit.state}
        elif per_day[vday] > provider.max_visits_per_day:
            reason = _("more visits that day than the nurse's maximum (%(n)s)") % {"n": provider.max_visits_per_day}
        else:
            minute = visit.starts_at.astimezone(zone(visit.time_zone)).minute
            data = availability.ProviderData(
                id=provider_id,
                home_zip=provider.home_zip,
                time_zone=provider.time_zone,
                max_visits_per_day=10_000,
                licences=licences,
                weekly=weekly,
                overrides=overrides,
                time_off=time_off,
                visits=[availability.VisitData(s, e, z) for pk, s, e, z in route if pk != visit.pk],
            )
            query = availability.SlotQuery(
                visit_zip=visit.zip_code,
                visit_state=visit.state,
                visit_time_zone=visit.time_zone,
                visit_minutes=minutes_between(visit.starts_at, visit.ends_at),
                telehealth=visit.service.is_telehealth,
                first_day=local_visit_day,
                last_day=local_visit_day,
                now=now,
                notice=timedelta(0),
                horizon_days=100_000,
                step_minutes=COLUMN_MINUTES if minute % COLUMN_MINUTES == 0 else 1,
            )
            if availability.slot_at(availability.find_slots([data], query), visit.starts_at) is None:
                windows = working_windows(
                    day=vday, tz_name=provider.time_zone, weekly=weekly, overrides=overrides, time_off=time_off
                )
                if any(a < visit.ends_at and visit.starts_at < b for a, b in time_off):
                    reason = _("it falls in time off")
                elif not any(a <= visit.starts_at and visit.ends_at <= b for a, b in windows):
                    reason = _("it is outside the working hours")
                else:
                    reason = _("the day's route no longer fits (travel between visits)")
        if reason is not None:
            orphans.append(Orphan(visit, reason))
    return orphans
