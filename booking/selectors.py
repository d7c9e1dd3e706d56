"""Reads for booking: coverage, free times, and a patient's visits.

`availability_for` is the one way free times are loaded: a fixed number of queries (nine with
a patient, whatever the number of providers and days; one when the providers' side is in the
schedule cache), then the pure `booking.availability` module does the rest in memory.
"""

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import caches
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from concierge.db import EpochMinutes
from concierge.geo import ZipInfo, zip_lookup, zips_load
from concierge.models import User
from concierge.schedule import (
    CACHE_ALIAS,
    schedule_cache_usable,
    schedule_cached,
    schedule_recent_get_many,
    schedule_recent_put_many,
    schedule_version,
)
from patients.models import PatientProfile
from payments.services import visit_paid_allocation
from roster.models import DateOverride, Licence, Provider, TimeOff, WeeklyShift
from roster.selectors import provider_photo_url

from . import availability, policy
from .availability import Candidate, Hours, Interval, LicenceData, ProviderData, Slot, VisitData
from .models import (
    BLOCKING_STATUSES,
    CalendarFeed,
    HoldOutcome,
    SafetyHold,
    Service,
    ServiceArea,
    ServiceKind,
    Visit,
    VisitStatus,
    hold_lapsed,
)

INFUSION_KINDS = (ServiceKind.INFUSION, ServiceKind.BOOSTER)
# Statuses in which a visit counts towards "the patient's previous provider" and infusion spacing.
HAPPENED_OR_BOOKED = (*BLOCKING_STATUSES, VisitStatus.COMPLETED)
_UNREAD: Any = object()  # an argument not given (None is an answer: no profile)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VisitPlace:
    """Where a visit happens, copied onto the visit when it is booked."""

    zip_code: str
    state: str
    time_zone: str
    city: str = ""
    address_line1: str = ""
    address_line2: str = ""

    @classmethod
    def from_zip(cls, zip_code: str, **address: str) -> "VisitPlace | None":
        info = zip_lookup(zip_code)
        if info is None:
            return None
        return cls(zip_code=info.zip_code, state=info.state, time_zone=info.time_zone, **address)


def visit_place_for(*, patient: User, profile: Any = _UNREAD) -> VisitPlace | None:
    """The patient's home as a VisitPlace, or None when they have no known ZIP yet.

    `profile`: their PatientProfile (or None) when the page has read it already.
    """
    if profile is _UNREAD:
        profile = getattr(patient, "patient_profile", None)
    if profile is None or not profile.zip_code:
        return None
    return VisitPlace.from_zip(
        profile.zip_code,
        city=profile.city,
        address_line1=profile.address_line1,
        address_line2=profile.address_line2,
    )


# --- coverage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaCoverage:
    area: ServiceArea
    services: list[Service]
    base: ZipInfo | None  # the nurse base; None for a ZIP-list area


@dataclass(frozen=True)
class Coverage:
    zip_info: ZipInfo | None  # None for an unknown ZIP
    areas: list[AreaCoverage]

    @property
    def covered(self) -> bool:
        return bool(self.areas)

    @property
    def services(self) -> list[Service]:
        seen: dict[int, Service] = {}
        for entry in self.areas:
            for service in entry.services:
                seen.setdefault(service.pk, service)
        return sorted(seen.values(), key=lambda s: s.price_cents)


def areas_covering(
    *, zip_info: ZipInfo | None, service: Service | None = None, with_services: bool = True
) -> list[ServiceArea]:
    """Active areas covering a ZIP (optionally: that offer a service). One query, two with services."""
    if zip_info is None:
        return []
    areas = ServiceArea.objects.filter(is_active=True, state=zip_info.state)
    if with_services:
        areas = areas.prefetch_related(Prefetch("services", queryset=_active_services()))
    if service is not None:
        areas = areas.filter(services=service)
    return [
        area
        for area in areas
        if availability.area_covers(
            area_state=area.state,
            zip_codes=area.zip_list(),
            base_zip=area.base_zip,
            radius_miles=area.radius_miles,
            zip_info=zip_info,
        )
    ]


def _active_services() -> QuerySet[Service]:
    return Service.objects.filter(is_active=True)


def area_ids_covering(*, zip_code: str, service: Service, fresh: bool = False) -> tuple[int, ...]:
    """The active areas that cover this ZIP and offer this service: kept under the schedule
    version (areas and services are schedule tables); `fresh` reads the database (the guard)."""

    def read() -> tuple[int, ...]:
        return tuple(a.pk for a in areas_covering(zip_info=zip_lookup(zip_code), service=service, with_services=False))

    return read() if fresh else schedule_cached(f"areas:{service.pk}:{zip_code}", read)


def coverage_for_zip(*, zip_code: str) -> Coverage:
    """Which areas cover a ZIP and what each offers (kept under the schedule version)."""
    return schedule_cached(f"coverage:{zip_code}", lambda: _coverage_for_zip(zip_code))


def _coverage_for_zip(zip_code: str) -> Coverage:
    info = zip_lookup(zip_code)
    entries = []
    for area in areas_covering(zip_info=info):
        services = list(area.services.all())
        if services:
            entries.append(AreaCoverage(area=area, services=services, base=zip_lookup(area.base_zip)))
    return Coverage(zip_info=info, areas=entries)


def service_list_for_place(*, place: VisitPlace | None) -> list[Service]:
    """Bookable services at this address, cheapest first."""
    if place is None:
        return []
    return coverage_for_zip(zip_code=place.zip_code).services


# --- availability -----------------------------------------------------------------------------


def _utc_range(place: VisitPlace, first_day: date, last_day: date) -> Interval:
    tz = availability.zone(place.time_zone)
    # A day either side: the provider's own day may start or end in another zone, and the visits
    # just before and after decide the travel.
    start = datetime.combine(first_day - timedelta(days=1), time(0), tzinfo=tz)
    end = datetime.combine(last_day + timedelta(days=2), time(0), tzinfo=tz)
    return start, end


class RosterData(NamedTuple):
    """Roster rows of some providers, by provider id (a provider with none gets an empty value)."""

    licences: defaultdict[int, list[LicenceData]]
    weekly: defaultdict[int, dict[int, Hours]]  # weekday (Mon=0) -> hours
    overrides: defaultdict[int, dict[date, Hours]]  # an empty list is a day off
    time_off: defaultdict[int, list[Interval]]


def _roster(provider_ids: Sequence[int], range_start: datetime, range_end: datetime) -> RosterData:
    """The roster data of these providers, as plain values: one query per table.

    staff/board.py and staff/reports.py use it too, unpacking it as four values.
    """
    roster = RosterData(defaultdict(list), defaultdict(dict), defaultdict(dict), defaultdict(list))
    licences, weekly, overrides, time_off = roster
    licence_rows = Licence.objects.filter(provider_id__in=provider_ids).values_list(
        "provider_id", "state", "licence_type", "multistate", "expires_on"
    )
    for provider_id, state, licence_type, multistate, expires_on in licence_rows:
        licences[provider_id].append(LicenceData(state, licence_type, multistate, expires_on))
    shift_rows = WeeklyShift.objects.filter(provider_id__in=provider_ids).values_list(
        "provider_id", "weekday", "start_time", "end_time"
    )
    for provider_id, weekday, start, end in shift_rows:
        weekly[provider_id].setdefault(weekday, []).append((start, end))
    override_rows = DateOverride.objects.filter(
        provider_id__in=provider_ids,
        date__gte=range_start.date() - timedelta(days=1),
        date__lte=range_end.date() + timedelta(days=1),
    ).values_list("provider_id", "date", "start_time", "end_time")
    for provider_id, day, override_start, override_end in override_rows:
        hours = overrides[provider_id].setdefault(day, [])  # the day exists (a day off) even without times
        if override_start is not None and override_end is not None:
            hours.append((override_start, override_end))
    time_off_rows = TimeOff.objects.filter(
        provider_id__in=provider_ids, starts_at__lt=range_end, ends_at__gt=range_start
    ).values_list("provider_id", "starts_at", "ends_at")
    for provider_id, off_from, off_until in time_off_rows:
        time_off[provider_id].append((off_from, off_until))
    return roster


def availability_for(
    *,
    service: Service,
    place: VisitPlace,
    first_day: date,
    last_day: date,
    patient: User | None = None,
    now: datetime | None = None,
    visit_minutes: int | None = None,
    min_gap: timedelta | None = None,
    exclude_visit_id: int | None = None,
    preferred_provider_id: int | None = None,
    provider_ids: Collection[int] | None = None,
    notice: timedelta | None = None,
    fresh: bool = False,
) -> list[Slot]:
    """Free start times for `service` at `place` between two local dates (inclusive).

    Returns `booking.availability.Slot`s, each with its candidate providers best first (the
    dispatch rule). `patient` adds their own calendar (no overlap, infusion spacing `min_gap`)
    and their previous provider; `exclude_visit_id` leaves out a visit being moved;
    `provider_ids` restricts the search (the booking guard, staff reassigning).

    The providers' side of the answer (`availability.open_starts`) is cached per day under the
    schedule version (concierge/schedule.py), so the days page and then each day's times cost
    one search between them. `fresh=True` (the booking guard, under its locks) and searches that
    leave out a visit or keep to some providers always read the database.
    """
    now = now or timezone.now()
    range_start, range_end = _utc_range(place, first_day, last_day)
    calendar = (
        _patient_calendar(
            patient, service=service, range_start=range_start, range_end=range_end, now=now, exclude=exclude_visit_id
        )
        if patient is not None
        else _PatientCalendar()
    )
    is_infusion = service.kind in INFUSION_KINDS
    query = availability.SlotQuery(
        visit_zip=place.zip_code,
        visit_state=place.state,
        visit_time_zone=place.time_zone,
        visit_minutes=visit_minutes or service.visit_minutes(),
        telehealth=service.is_telehealth,
        first_day=first_day,
        last_day=last_day,
        now=now,
        notice=timedelta(hours=settings.BOOKING_MIN_NOTICE_HOURS) if notice is None else notice,
        horizon_days=settings.BOOKING_HORIZON_DAYS,
        step_minutes=settings.BOOKING_STEP_MINUTES,
        patient_busy=calendar.busy,
        patient_infusions=calendar.infusions if is_infusion else (),
        min_gap=min_gap if is_infusion else None,
        preferred_provider_id=preferred_provider_id or calendar.previous_provider_id,
    )
    if not fresh and exclude_visit_id is None and provider_ids is None:
        found = _open_starts_cached(service=service, place=place, query=query)
        if found is not None:
            return availability.pick_slots(found, query)
    found, _ = _open_starts(
        service=service, place=place, query=query, provider_ids=provider_ids, exclude=exclude_visit_id, fresh=fresh
    )
    return availability.pick_slots(found, query)


def _open_starts(
    *,
    service: Service,
    place: VisitPlace,
    query: availability.SlotQuery,
    provider_ids: Collection[int] | None = None,
    exclude: int | None = None,
    fresh: bool = False,
) -> tuple[dict[int, list[Candidate]], datetime | None]:
    """The providers' side of a search, read from the database (seven queries at most), and
    until when it holds without any write (the first live hold to run out), if ever."""
    range_start, range_end = _utc_range(place, query.first_day, query.last_day)
    providers = _providers_serving(service=service, place=place, provider_ids=provider_ids, fresh=fresh)
    roster, valid_until = _providers_data(
        providers, range_start=range_start, range_end=range_end, now=query.now, exclude=exclude
    )
    # Every ZIP the routes use, in one query, before the search asks for their travel times.
    zips_load([query.visit_zip, *(p.home_zip for p in roster), *(v.zip_code for p in roster for v in p.visits)])
    return availability.open_starts(roster, query), valid_until


def _open_starts_cached(
    *, service: Service, place: VisitPlace, query: availability.SlotQuery
) -> dict[int, list[Candidate]] | None:
    """`_open_starts` through the schedule cache, one entry per visit-local day; the days not
    cached are searched together, once. None when the cache cannot be used here."""
    if not schedule_cache_usable():
        return None
    version = schedule_version()  # read before the database: a change after it makes a new one
    if version is None:
        return None
    days = availability.search_days(query)
    keys = {
        day: f"open:{version}:{service.pk}:{place.zip_code}:{query.visit_minutes}:{query.step_minutes}:{day}"
        for day in days
    }
    cache = caches[CACHE_ALIAS]
    entries = schedule_recent_get_many(keys.values())  # the keys name the version: never stale
    wanted = [key for key in keys.values() if key not in entries]
    try:
        read = cache.get_many(wanted) if wanted else {}
    except Exception:
        logger.exception("booking: the schedule cache cannot be read; searching without it")
        return None
    schedule_recent_put_many(read)
    entries.update(read)
    now_minute = availability.to_minutes(query.now)
    found: dict[int, list[Candidate]] = {}
    missing = []
    for day, key in keys.items():
        entry = entries.get(key)
        if entry is None or (entry[0] is not None and entry[0] <= now_minute):
            missing.append(day)
        else:
            found.update(entry[1])
    if missing:
        searched, valid_until = _open_starts(
            service=service, place=place, query=replace(query, first_day=missing[0], last_day=missing[-1])
        )
        until = availability.to_minutes(valid_until) if valid_until is not None else None
        by_day: dict[date, dict[int, list[Candidate]]] = {day: {} for day in days if missing[0] <= day <= missing[-1]}
        for start, candidates in searched.items():
            by_day.setdefault(availability.local_day_of(start, place.time_zone), {})[start] = candidates
        found.update(searched)
        written = {keys[day]: (until, starts) for day, starts in by_day.items() if day in keys}
        schedule_recent_put_many(written)
        try:
            cache.set_many(written, timeout=settings.SCHEDULE_CACHE_SECONDS)
        except Exception:
            logger.exception("booking: the schedule cache cannot be written")
    return found


def _providers_serving(
    *, service: Service, place: VisitPlace, provider_ids: Collection[int] | None, fresh: bool = False
) -> list[tuple[int, str, str, int]]:
    """Active providers of the service's kind in an area covering the place (two queries; one
    when the areas are cached): (id, home ZIP, time zone, most visits a day), by id. `fresh`:
    the areas from the database too (the guard)."""
    area_ids = area_ids_covering(zip_code=place.zip_code, service=service, fresh=fresh)
    providers = Provider.objects.filter(
        is_active=True, user__is_active=True, kind=service.delivered_by, areas__in=area_ids
    )
    if provider_ids is not None:
        providers = providers.filter(pk__in=list(provider_ids))
    return list(providers.distinct().order_by("pk").values_list("pk", "home_zip", "time_zone", "max_visits_per_day"))


def _providers_data(
    providers: list[tuple[int, str, str, int]],
    *,
    range_start: datetime,
    range_end: datetime,
    now: datetime,
    exclude: int | None,
) -> tuple[list[ProviderData], datetime | None]:
    """Each provider's blocking visits and roster in the range (five queries; none without
    providers), and when the first of the holds among those visits runs out (None: no hold)."""
    if not providers:
        return [], None
    ids = [p[0] for p in providers]
    visits: defaultdict[int, list[VisitData]] = defaultdict(list)
    first_expiry: datetime | None = None
    rows = (
        Visit.objects.filter(
            provider_id__in=ids,
            status__in=BLOCKING_STATUSES,
            starts_at__lt=range_end,
            ends_at__gt=range_start,
        )
        .exclude(hold_lapsed(now))
        .exclude(pk=exclude or 0)
        .order_by()  # the search sorts each route itself
        # Epoch minutes, as the search counts: the driver builds no datetime per row.
        .annotate(start=EpochMinutes("starts_at"), end=EpochMinutes("ends_at"))
        .values_list("provider_id", "start", "end", "zip_code", "status", "hold_expires_at")
    )
    for provider_id, start, end, zip_code, status, hold_expires_at in rows:
        if provider_id is not None:  # always: the filter is on these providers
            visits[provider_id].append(VisitData(start, end, zip_code))
        if status == VisitStatus.HELD and hold_expires_at is not None:
            first_expiry = hold_expires_at if first_expiry is None else min(first_expiry, hold_expires_at)
    licences, weekly, overrides, time_off = _roster(ids, range_start, range_end)
    data = [
        ProviderData(
            id=pk,
            home_zip=home_zip,
            time_zone=time_zone,
            max_visits_per_day=max_visits,
            licences=licences[pk],
            weekly=weekly[pk],
            overrides=overrides[pk],
            time_off=time_off[pk],
            visits=visits[pk],
        )
        for pk, home_zip, time_zone, max_visits in providers
    ]
    return data, first_expiry


class _PatientCalendar(NamedTuple):
    """What the patient's own visits change in a search."""

    busy: tuple[Interval, ...] = ()  # blocking visits in the range: no overlap
    infusions: tuple[datetime, ...] = ()  # starts of infusions: spacing
    previous_provider_id: int | None = None  # the last provider who saw them: continuity of care


def _patient_calendar(
    patient: User, *, service: Service, range_start: datetime, range_end: datetime, now: datetime, exclude: int | None
) -> _PatientCalendar:
    """The patient's booked and past visits, read once (one query)."""
    busy: list[Interval] = []
    infusions: list[datetime] = []
    previous = None
    rows = (
        Visit.objects.filter(patient=patient, status__in=HAPPENED_OR_BOOKED)
        .exclude(hold_lapsed(now))
        .exclude(pk=exclude or 0)
        .order_by("starts_at")
        .values_list("starts_at", "ends_at", "status", "provider_id", "provider__kind", "service__kind")
    )
    for starts_at, ends_at, status, provider_id, provider_kind, service_kind in rows:
        if status in BLOCKING_STATUSES and starts_at < range_end and ends_at > range_start:
            busy.append((starts_at, ends_at))
        if service_kind in INFUSION_KINDS:
            infusions.append(starts_at)
        if provider_id and provider_kind == service.delivered_by and status != VisitStatus.HELD:
            previous = provider_id  # rows are in time order: the last one wins
    return _PatientCalendar(tuple(busy), tuple(infusions), previous)


# --- a patient's visits -----------------------------------------------------------------------


def _patient_visits(patient: User) -> QuerySet[Visit]:
    return Visit.objects.filter(patient=patient).select_related("service", "provider__user")


# What a row of the patient's visit list shows (booking/_visit_row.html), and all a list reads: a
# visit with its service and nurse is ~50 columns, and reading them cost more than running the query.
# A field the row starts to show goes here too, or it costs a query per row.
VISIT_ROW_FIELDS = (
    "status",
    "starts_at",
    "time_zone",
    "address_line1",  # visits_at_another_address
    "zip_code",
    "service__name",
    "service__name_es",
    "service__is_telehealth",
    "provider__user__first_name",
    "provider__user__email",
)


def visit_list_for_patient(
    *, patient: User, upcoming: bool | None = None, now: datetime | None = None
) -> QuerySet[Visit]:
    """The patient's visits (expired holds left out), soonest first, as rows of their list
    (only `VISIT_ROW_FIELDS` are read).

    `upcoming=True`: only those not yet over and not cancelled; `upcoming=False`: the rest,
    latest first.
    """
    now = now or timezone.now()
    visits = _patient_visits(patient).only(*VISIT_ROW_FIELDS).exclude(status=VisitStatus.EXPIRED)
    if upcoming is True:
        return visits.filter(ends_at__gt=now, status__in=BLOCKING_STATUSES).order_by("starts_at")
    if upcoming is False:
        return visits.filter(Q(ends_at__lte=now) | ~Q(status__in=BLOCKING_STATUSES)).order_by("-starts_at")
    return visits.order_by("starts_at")


def visit_get_for_patient(*, patient: User, pk: int) -> Visit | None:
    """One of the patient's own visits (any status), or None: someone else's is None too (404)."""
    return _patient_visits(patient).filter(pk=pk).first()


def visits_at_another_address(*, visits: Iterable[Visit], profile: PatientProfile | None) -> list[Visit]:
    """Of these visits, the home visits booked at an address the patient has since changed: the
    nurse goes where a visit was booked, so the patient is asked to call (their dashboard)."""
    if profile is None or not profile.zip_code:
        return []
    here = _address_key(profile.address_line1, profile.zip_code)
    return [v for v in visits if not v.service.is_telehealth and _address_key(v.address_line1, v.zip_code) != here]


def _address_key(line1: str, zip_code: str) -> tuple[str, str]:
    return " ".join(line1.casefold().split()), (zip_code or "")[:5]


@dataclass(frozen=True)
class HoldNotice:
    """The patient's visits on hold (a warning sign), for their dashboard and visit pages."""

    count: int  # how many of their visits are on hold
    safety: bool  # a danger sign among them: show 988 and 911


def hold_notice_for(*, patient: User, now: datetime | None = None) -> HoldNotice | None:
    """How many of the patient's upcoming visits are on hold and whether a danger sign put one
    there, or None."""
    now = now or timezone.now()
    holds = SafetyHold.objects.filter(visit__patient=patient, outcome=HoldOutcome.OPEN, visit__ends_at__gt=now)
    dangers = list(holds.order_by().values_list("safety", flat=True))  # each hold: after a danger sign?
    if not dangers:
        return None
    return HoldNotice(count=len(dangers), safety=any(dangers))


def evaluation_upcoming_for(patient: User) -> Visit | None:
    """The patient's next booked evaluation visit (not yet over), or None."""
    return (
        Visit.objects.filter(
            patient=patient,
            service__kind=ServiceKind.EVALUATION,
            status__in=(VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE, VisitStatus.IN_PROGRESS),
            ends_at__gte=timezone.now(),
        )
        .order_by("starts_at")
        .first()
    )


def visit_money_for(*, visit: Visit, now: datetime | None = None) -> policy.MoneyWords:
    """The money sentences for one of the patient's visits: what was paid, what is due, what a change costs."""
    paid = visit_paid_allocation(visit_id=visit.pk)
    paid_cents = paid.amount_cents if paid is not None else (0 if visit.status != VisitStatus.HELD else None)
    return policy.money_words(
        price_cents=visit.price_cents,
        due_cents=visit.amount_due_cents,
        paid_cents=paid_cents,
        starts_at=visit.starts_at,
        may_change=policy.patient_may_change(visit, now),
        now=now,
    )


@dataclass(frozen=True)
class Carer:
    """Who comes (or who is on the video): what the patient may know of them."""

    first_name: str
    name: str  # first name and last initial
    initials: str
    credential: str  # "Registered nurse (RN)"
    licence: str  # "NY licence RN-123456"
    photo: str  # a data: URL, or ""


def visit_carer_for(*, visit: Visit) -> Carer | None:
    provider = visit.provider
    if provider is None:
        return None
    user = provider.user
    first, last = user.first_name or user.get_short_name(), user.last_name or ""
    local_day = visit.starts_at.astimezone(availability.zone(visit.time_zone)).date()
    licence = next(
        availability.licences_valid_in(provider.licences.all(), visit_state=visit.state, on_date=local_day), None
    )
    return Carer(
        first_name=first,
        name=f"{first} {last[:1]}.".strip() if last else first,
        initials=(first[:1] + last[:1]).upper(),
        credential=str(licence.get_licence_type_display()) if licence else "",
        licence=_licence_text(licence),
        photo=provider_photo_url(provider),
    )


def _licence_text(licence: Licence | None) -> str:
    if licence is None:
        return ""
    return f"{licence.number} ({licence.state}{', multistate' if licence.multistate else ''})"


def calendar_feed_get(*, token: str) -> CalendarFeed | None:
    if not token or len(token) > 64:
        return None
    return CalendarFeed.objects.filter(token=token, patient__is_active=True).select_related("patient").first()


FEED_PAST_DAYS = 60


def visit_list_for_feed(*, patient: User, now: datetime | None = None) -> tuple[list[Visit], list[Visit]]:
    """The patient's booked visits (from FEED_PAST_DAYS ago on), and those cancelled in that time."""
    since = (now or timezone.now()) - timedelta(days=FEED_PAST_DAYS)
    visits = Visit.objects.filter(patient=patient, starts_at__gte=since).select_related("service")
    booked = [v for v in visits if v.status in (*BLOCKING_STATUSES, VisitStatus.COMPLETED) and v.status != "held"]
    cancelled = [v for v in visits if v.status == VisitStatus.CANCELLED]
    return booked, cancelled


def infusion_starts_for(*, patient: User) -> list[datetime]:
    """When the patient's infusions happened (completed home visits), oldest first: the score charts mark them."""
    return list(
        Visit.objects.filter(patient=patient, status=VisitStatus.COMPLETED, service__kind__in=INFUSION_KINDS)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
    )
