"""Free start times for a visit: a pure module over data that is already loaded.

`find_slots(providers, query)` answers "when can a provider who may legally and physically reach
this address start this visit?" for a range of days. It does no database work: the selector
`booking.selectors.availability_for` loads everything in a fixed number of queries and calls it,
and the booking guard calls it again under lock before it writes.

The rules, for every provider handed in (the selector already kept only active providers of the
right kind serving an area that covers the ZIP):

- a licence valid in the visit's state on the visit's date (`roster.licensure`);
- working that day: the weekly pattern in the provider's own time zone, unless a date override
  replaces it (other hours, or none for a day off); time off is cut out of those hours;
- fewer visits that day than the provider's maximum;
- the provider's day is a route: from the home base to each visit in turn and back home. A start
  time fits when the provider can leave the previous stop (the previous visit that day, or the
  home base) no earlier than the shift starts or that visit ends, drive there, do the visit,
  and drive on to the next stop (the next visit that day, or home) by the time it starts or the
  shift ends. Telehealth visits need no travel;
- the patient is not in another visit at that time, and other infusions are at least the plan's
  minimum spacing away;
- at least `notice` after now, no later than `horizon` after today, on the `step` grid counted
  from local midnight in the visit's own time zone (so 9:00 and 9:30 stay 9:00 and 9:30 on the
  days clocks change, and Arizona, with no daylight-saving time, simply never shifts).

Dispatch rule (who gets the visit when several providers are free at that time), in this order:

1. the patient's previous provider (continuity of care);
2. then the least added travel (minutes added to that provider's route by inserting the visit);
3. then the lightest day (fewest visits already booked that day);
4. then the lowest provider id, so the choice is always the same for the same data.

Internally times are whole minutes since the Unix epoch (UTC): integer arithmetic keeps the
search over hundreds of providers and weeks fast.
"""

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo

from concierge.geo import ZipInfo, distance_miles, travel_minutes, zip_lookup
from roster.licensure import licence_valid_in

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Hours = list[tuple[time, time]]  # working hours of one day, wall-clock in the provider's zone
Interval = tuple[datetime, datetime]  # aware datetimes, start before end
Travel = Callable[[str, str], int | None]  # minutes from one ZIP to another; None: no known way


def to_minutes(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def from_minutes(minutes: int) -> datetime:
    return EPOCH + timedelta(minutes=minutes)


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=4096)
def local_minutes(day: date, at: time, tz: ZoneInfo) -> int:
    """A wall-clock time on a date in a time zone, as epoch minutes (zoneinfo resolves DST gaps).

    Kept: a search asks for the same midnights and shift hours of every provider in a zone."""
    return to_minutes(datetime.combine(day, at, tzinfo=tz))


# --- the data handed in -----------------------------------------------------------------------


@dataclass(frozen=True)
class LicenceData:
    state: str
    licence_type: str
    multistate: bool
    expires_on: date


class VisitData(NamedTuple):
    """A blocking visit already on a provider's route: its start and end in epoch minutes and its
    ZIP (a named tuple of integers: a search reads thousands, and the selector has the database
    compute the minutes, `concierge.db.EpochMinutes`). `VisitData.of` takes datetimes."""

    start: int
    end: int
    zip_code: str

    @classmethod
    def of(cls, starts_at: datetime, ends_at: datetime, zip_code: str) -> "VisitData":
        return cls(to_minutes(starts_at), to_minutes(ends_at), zip_code)


@dataclass
class ProviderData:
    id: int
    home_zip: str
    time_zone: str
    max_visits_per_day: int
    licences: list[LicenceData] = field(default_factory=list)
    weekly: dict[int, Hours] = field(default_factory=dict)  # weekday (Mon=0) -> hours
    overrides: dict[date, Hours] = field(default_factory=dict)  # an empty list is a day off
    time_off: list[Interval] = field(default_factory=list)
    visits: list[VisitData] = field(default_factory=list)  # the blocking ones


@dataclass(frozen=True)
class SlotQuery:
    visit_zip: str
    visit_state: str
    visit_time_zone: str
    visit_minutes: int
    telehealth: bool
    first_day: date  # in the visit's time zone, inclusive
    last_day: date
    now: datetime
    notice: timedelta = timedelta(hours=12)
    horizon_days: int = 60
    step_minutes: int = 30
    patient_busy: tuple[Interval, ...] = ()  # the patient's other blocking visits
    patient_infusions: tuple[datetime, ...] = ()  # starts of the patient's other infusions (for spacing)
    min_gap: timedelta | None = None  # minimum time between two infusions' starts
    preferred_provider_id: int | None = None  # the patient's previous provider


# --- the answer -------------------------------------------------------------------------------


class Candidate(NamedTuple):
    """A provider who can take a visit at one start time, with what it costs their route.

    A named tuple: searches make and cache thousands of them (50 nurses x 14 days), and a tuple
    is the cheapest thing to build and to unpickle.
    """

    provider_id: int
    travel_before: int  # minutes from the previous stop
    travel_after: int  # minutes to the next stop
    added_travel: int  # minutes the visit adds to the provider's route
    visits_that_day: int
    preferred: bool

    def dispatch_key(self) -> tuple[bool, int, int, int]:
        return (not self.preferred, self.added_travel, self.visits_that_day, self.provider_id)


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # UTC
    ends_at: datetime
    time_zone: str
    candidates: tuple[Candidate, ...]  # best first (the dispatch rule)

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(zone(self.time_zone))

    @property
    def local_date(self) -> date:
        return self.local_start.date()

    @property
    def best(self) -> Candidate:
        return self.candidates[0]

    def candidate_for(self, provider_id: int) -> Candidate | None:
        return next((c for c in self.candidates if c.provider_id == provider_id), None)


# --- helpers shared with the booking service --------------------------------------------------


class LicenceFields(Protocol):
    """What the licensure rule reads of a licence: a LicenceData, or a roster Licence row."""

    @property
    def state(self) -> str: ...
    @property
    def licence_type(self) -> str: ...
    @property
    def multistate(self) -> bool: ...
    @property
    def expires_on(self) -> date: ...


L = TypeVar("L", bound=LicenceFields)


def licences_valid_in(licences: Iterable[L], *, visit_state: str, on_date: date) -> Iterator[L]:
    """The licences that let their holder practise in `visit_state` on `on_date`, in the order given."""
    return (
        lic
        for lic in licences
        if licence_valid_in(
            state=lic.state,
            licence_type=lic.licence_type,
            multistate=lic.multistate,
            expires_on=lic.expires_on,
            visit_state=visit_state,
            on_date=on_date,
        )
    )


def licences_allow(licences: Iterable[LicenceData], *, visit_state: str, on_date: date) -> bool:
    return next(licences_valid_in(licences, visit_state=visit_state, on_date=on_date), None) is not None


def area_covers(
    *, area_state: str, zip_codes: set[str], base_zip: str, radius_miles: int | None, zip_info: ZipInfo | None
) -> bool:
    """Does a service area cover this ZIP? Same state, and in its ZIP list or within its radius."""
    if zip_info is None or zip_info.state != area_state:
        return False
    if zip_info.zip_code in zip_codes:
        return True
    if base_zip and radius_miles:
        base = zip_lookup(base_zip)
        return base is not None and distance_miles(base, zip_info) <= radius_miles
    return False


class TravelCache:
    """Travel minutes between ZIPs, looked up once per pair."""

    def __init__(self, travel: Travel | None = None) -> None:
        self._travel = travel if travel is not None else travel_minutes
        self._cache: dict[tuple[str, str], int | None] = {}

    def __call__(self, zip_a: str, zip_b: str) -> int | None:
        key = (zip_a, zip_b)
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = self._travel(zip_a, zip_b)
            return value


def route_blocks(
    *, visits: Sequence[tuple[datetime, datetime, str, bool]], home_zip: str, travel: Travel
) -> list[Interval]:
    """The time each visit of one provider's day blocks, travel included.

    `visits`: that day's blocking visits as (starts_at, ends_at, zip_code, telehealth), any order.
    Returns [(blocked_from, blocked_until)] in the same order. A home visit blocks the trip to it
    (from the previous home visit of the day, or from the home base for the first) and, for the
    last one of the day, the trip home; a telehealth visit blocks just itself. These are the
    ranges the PostgreSQL exclusion constraint compares. They follow the same route `find_slots`
    checks, so the constraint only ever fires on a real clash.
    """
    blocks: list[Interval] = [(v[0], v[1]) for v in visits]  # a telehealth visit: just itself
    home_visits = sorted((i for i, v in enumerate(visits) if not v[3]), key=lambda i: visits[i][0])
    for position, i in enumerate(home_visits):
        starts_at, ends_at, zip_code, _ = visits[i]
        previous_zip = visits[home_visits[position - 1]][2] if position else home_zip
        before = travel(previous_zip, zip_code) or 0
        after = (travel(zip_code, home_zip) or 0) if position == len(home_visits) - 1 else 0
        blocks[i] = (starts_at - timedelta(minutes=before), ends_at + timedelta(minutes=after))
    return blocks


def _subtract(start: int, end: int, cuts: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """[start, end) minus the (sorted) cut intervals, as a list of intervals."""
    pieces = []
    cursor = start
    for cut_start, cut_end in cuts:
        if cut_end <= cursor or cut_start >= end:
            continue
        if cut_start > cursor:
            pieces.append((cursor, cut_start))
        cursor = max(cursor, cut_end)
        if cursor >= end:
            break
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# --- the search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grid:
    """The start times to try (epoch minutes, in order) and the visit-local day of each."""

    starts: list[int]
    day_of: dict[int, date]
    first_day: date
    last_day: date


def find_slots(
    providers: Iterable[ProviderData], query: SlotQuery, *, travel: TravelCache | Travel | None = None
) -> list[Slot]:
    """Every free start time in the query's days, each with its candidates (best first)."""
    return pick_slots(open_starts(providers, query, travel=travel), query)


def open_starts(
    providers: Iterable[ProviderData], query: SlotQuery, *, travel: TravelCache | Travel | None = None
) -> dict[int, list[Candidate]]:
    """The providers' side of the search: {start (epoch minutes): candidates} for every start of
    the query's days (today and the horizon applied) that a provider can take.

    It leaves out what belongs to the one asking: the minimum notice (it moves with the clock),
    the patient's own calendar and their previous provider (no candidate is `preferred`). So the
    same answer serves every patient at that place, and can be kept (booking.selectors caches it
    per day); `pick_slots` applies the rest. Candidates come sorted by the dispatch rule.
    """
    travel = travel if isinstance(travel, TravelCache) else TravelCache(travel)
    grid = _grid(query)
    found: defaultdict[int, list[Candidate]] = defaultdict(list)
    if not grid.starts:
        return found
    for provider in providers:
        for start, candidate in _provider_candidates(provider, query, grid, travel):
            found[start].append(candidate)
    for candidates in found.values():
        candidates.sort(key=Candidate.dispatch_key)
    return found


def pick_slots(found: Mapping[int, Sequence[Candidate]], query: SlotQuery) -> list[Slot]:
    """The free starts for this query out of `open_starts`: at least `notice` ahead, allowed by the
    patient's calendar, the patient's previous provider first (continuity of care)."""
    earliest = to_minutes(query.now + query.notice)
    patient_ok = _patient_filter(query)
    preferred_id = query.preferred_provider_id
    duration = query.visit_minutes
    slots = []
    for g in sorted(found):
        if g < earliest or not patient_ok(g):
            continue
        candidates = found[g]
        if preferred_id is not None and any(c.provider_id == preferred_id for c in candidates):
            # Sorted by the rest of the dispatch key already: the preferred one moves to the front.
            first = [c._replace(preferred=True) for c in candidates if c.provider_id == preferred_id]
            candidates = first + [c for c in candidates if c.provider_id != preferred_id]
        slots.append(
            Slot(
                starts_at=from_minutes(g),
                ends_at=from_minutes(g + duration),
                time_zone=query.visit_time_zone,
                candidates=tuple(candidates),
            )
        )
    return slots


def search_days(query: SlotQuery) -> list[date]:
    """The visit-local days the query covers once today and the horizon are applied."""
    grid_first, grid_last = _grid_days(query)
    return list(_days(grid_first, grid_last))


def local_day_of(minute: int, time_zone: str) -> date:
    """The visit-local date of a start (epoch minutes)."""
    return from_minutes(minute).astimezone(zone(time_zone)).date()


def _grid_days(query: SlotQuery) -> tuple[date, date]:
    today = query.now.astimezone(zone(query.visit_time_zone)).date()
    return max(query.first_day, today), min(query.last_day, today + timedelta(days=query.horizon_days))


def _grid(query: SlotQuery) -> _Grid:
    """The grid of start times of the query's days, in the visit's zone, inside the horizon."""
    visit_tz = zone(query.visit_time_zone)
    first_day, last_day = _grid_days(query)
    starts: list[int] = []
    day_of: dict[int, date] = {}
    for day in _days(first_day, last_day):
        midnight = local_minutes(day, time(0), visit_tz)
        next_midnight = local_minutes(day + timedelta(days=1), time(0), visit_tz)
        # US offsets change by whole hours, so a grid counted in UTC minutes from local midnight
        # stays on the local wall-clock grid across a daylight-saving change.
        for minute in range(midnight, next_midnight, query.step_minutes):
            starts.append(minute)
            day_of[minute] = day
    return _Grid(starts, day_of, first_day, last_day)


def _patient_filter(query: SlotQuery) -> Callable[[int], bool]:
    """What the patient's own calendar allows: no other visit at that time, and other infusions
    at least the plan's spacing away."""
    duration = query.visit_minutes
    busy = [(to_minutes(a), to_minutes(b)) for a, b in query.patient_busy]
    gap = int(query.min_gap.total_seconds() // 60) if query.min_gap else 0
    infusions = [to_minutes(s) for s in query.patient_infusions] if gap else []
    if not busy and not infusions:
        return lambda g: True

    def allowed(g: int) -> bool:
        end = g + duration
        return not any(g < b and end > a for a, b in busy) and not any(abs(g - s) < gap for s in infusions)

    return allowed


def _provider_candidates(
    provider: ProviderData, query: SlotQuery, grid: _Grid, travel: TravelCache
) -> Iterator[tuple[int, Candidate]]:
    """(start, candidate) for every start of the grid this provider can take, day by day."""
    licensed = {
        day: licences_allow(provider.licences, visit_state=query.visit_state, on_date=day)
        for day in _days(grid.first_day, grid.last_day)
    }
    if not any(licensed.values()):
        return
    if not query.telehealth and travel(provider.home_zip, query.visit_zip) is None:
        return  # an unknown ZIP is an impossible trip, never a free one
    ptz = zone(provider.time_zone)
    stops = sorted(provider.visits)  # by start: a day's route is a slice of it
    stop_starts = [stop[0] for stop in stops]
    time_off = sorted((to_minutes(a), to_minutes(b)) for a, b in provider.time_off)
    p_first = from_minutes(grid.starts[0]).astimezone(ptz).date()
    p_last = from_minutes(grid.starts[-1] + query.visit_minutes).astimezone(ptz).date()
    for pday in _days(p_first, p_last):
        shifts = provider.overrides[pday] if pday in provider.overrides else provider.weekly.get(pday.weekday())
        if not shifts:
            continue
        # The day's route: the visits starting between this local midnight and the next.
        day_start = local_minutes(pday, time(0), ptz)
        day_end = local_minutes(pday + timedelta(days=1), time(0), ptz)
        route = stops[bisect_left(stop_starts, day_start) : bisect_left(stop_starts, day_end)]
        if len(route) >= provider.max_visits_per_day:
            continue
        for shift_start, shift_end in shifts:
            window_start = local_minutes(pday, shift_start, ptz)
            window_end = local_minutes(pday, shift_end, ptz)
            for a, b in _subtract(window_start, window_end, time_off):
                for lowest, highest, before, after, added in _gap_ranges(route, a, b, provider.home_zip, query, travel):
                    candidate = Candidate(provider.id, before, after, added, len(route), False)
                    for i in range(bisect_left(grid.starts, lowest), bisect_right(grid.starts, highest)):
                        g = grid.starts[i]
                        if licensed[grid.day_of[g]]:
                            yield g, candidate


def _gap_ranges(
    route: Sequence[VisitData], a: int, b: int, home: str, query: SlotQuery, travel: TravelCache
) -> Iterator[tuple[int, int, int, int, int]]:
    """Inside the free window [a, b): for each gap of the route where the visit fits, the range of
    starts (lowest, highest), the travel before and after, and the travel it adds to the route."""
    load = len(route)
    duration = query.visit_minutes
    visit_zip = query.visit_zip
    # Between two stops of the route (gap k: after visit k-1, before visit k) the travel is the
    # same for every start, so each gap gives one range of starts.
    for k in range(load + 1):
        prev = route[k - 1] if k else None
        nxt = route[k] if k < load else None
        depart = max(prev[1], a) if prev else a
        arrive = min(nxt[0], b) if nxt else b
        if arrive - depart < duration:
            continue
        if query.telehealth:
            before = after = added = 0
        else:
            from_zip = prev[2] if prev else home
            to_zip = nxt[2] if nxt else home
            travel_before, travel_after = travel(from_zip, visit_zip), travel(visit_zip, to_zip)
            if travel_before is None or travel_after is None:
                continue
            before, after = travel_before, travel_after
            saved = travel(from_zip, to_zip) if (prev or nxt) else 0
            added = before + after - (saved or 0)
        lowest, highest = depart + before, arrive - after - duration
        if lowest <= highest:
            yield lowest, highest, before, after, added


# --- reading the answer -----------------------------------------------------------------------


def slot_at(slots: Iterable[Slot], starts_at: datetime) -> Slot | None:
    return next((s for s in slots if s.starts_at == starts_at), None)


def slots_by_day(slots: Iterable[Slot]) -> dict[date, list[Slot]]:
    """{local date: [Slot, ...]} in time order."""
    days: defaultdict[date, list[Slot]] = defaultdict(list)
    for slot in slots:
        days[slot.local_date].append(slot)
    return dict(days)


def nearest(slots: Iterable[Slot], starts_at: datetime, limit: int = 3) -> list[Slot]:
    """The `limit` free starts closest to `starts_at`, in time order."""
    closest = sorted(slots, key=lambda s: (abs((s.starts_at - starts_at).total_seconds()), s.starts_at))[:limit]
    return sorted(closest, key=lambda s: s.starts_at)
