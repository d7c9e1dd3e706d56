"""Reads for booking: coverage, free times, and a patient's visits.

`availability_for` is the one way free times are loaded: a fixed number of queries (eight with
a patient, whatever the number of providers and days), then the pure `booking.availability`
module does the rest in memory.
"""

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from concierge.geo import ZipInfo, zip_lookup
from concierge.models import User
from roster.models import DateOverride, Licence, Provider, TimeOff, WeeklyShift

from . import availability
from .availability import Hours, Interval, LicenceData, ProviderData, Slot, VisitData
from .models import BLOCKING_STATUSES, HoldOutcome, SafetyHold, Service, ServiceArea, ServiceKind, Visit, VisitStatus

INFUSION_KINDS = (ServiceKind.INFUSION, ServiceKind.BOOSTER)
# Statuses in which a visit counts towards "the patient's previous provider" and infusion spacing.
HAPPENED_OR_BOOKED = (*BLOCKING_STATUSES, VisitStatus.COMPLETED)


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


def visit_place_for(*, patient: User) -> VisitPlace | None:
    """The patient's home as a VisitPlace, or None when they have no known ZIP yet."""
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


def coverage_for_zip(*, zip_code: str) -> Coverage:
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
) -> list[Slot]:
    """Free start times for `service` at `place` between two local dates (inclusive).

    Returns `booking.availability.Slot`s, each with its candidate providers best first (the
    dispatch rule). `patient` adds their own calendar (no overlap, infusion spacing `min_gap`)
    and their previous provider; `exclude_visit_id` leaves out a visit being moved;
    `provider_ids` restricts the search (the booking guard, staff reassigning).
    """
    now = now or timezone.now()
    range_start, range_end = _utc_range(place, first_day, last_day)
    providers = _providers_serving(service=service, place=place, provider_ids=provider_ids)
    roster = _providers_data(providers, range_start=range_start, range_end=range_end, now=now, exclude=exclude_visit_id)
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
    return availability.find_slots(roster, query)


def _providers_serving(
    *, service: Service, place: VisitPlace, provider_ids: Collection[int] | None
) -> list[tuple[int, str, str, int]]:
    """Active providers of the service's kind in an area covering the place (two queries):
    (id, home ZIP, time zone, most visits a day), by id."""
    areas = areas_covering(zip_info=zip_lookup(place.zip_code), service=service, with_services=False)
    providers = Provider.objects.filter(
        is_active=True, user__is_active=True, kind=service.delivered_by, areas__in=[a.pk for a in areas]
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
) -> list[ProviderData]:
    """Each provider's blocking visits and roster in the range (five queries; none without providers)."""
    if not providers:
        return []
    ids = [p[0] for p in providers]
    visits: defaultdict[int, list[VisitData]] = defaultdict(list)
    rows = (
        Visit.objects.filter(
            provider_id__in=ids,
            status__in=BLOCKING_STATUSES,
            starts_at__lt=range_end,
            ends_at__gt=range_start,
        )
        # A hold past its expiry is dead even before the minute task marks it expired.
        .exclude(status=VisitStatus.HELD, hold_expires_at__lte=now)
        .exclude(pk=exclude or 0)
        .values_list("provider_id", "starts_at", "ends_at", "zip_code")
    )
    for provider_id, starts_at, ends_at, zip_code in rows:
        if provider_id is not None:  # always: the filter is on these providers
            visits[provider_id].append(VisitData(starts_at, ends_at, zip_code))
    licences, weekly, overrides, time_off = _roster(ids, range_start, range_end)
    return [
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
        .exclude(status=VisitStatus.HELD, hold_expires_at__lte=now)
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


def visit_list_for_patient(
    *, patient: User, upcoming: bool | None = None, now: datetime | None = None
) -> QuerySet[Visit]:
    """The patient's visits (expired holds left out), soonest first.

    `upcoming=True`: only those not yet over and not cancelled; `upcoming=False`: the rest,
    latest first.
    """
    now = now or timezone.now()
    visits = _patient_visits(patient).exclude(status=VisitStatus.EXPIRED)
    if upcoming is True:
        return visits.filter(ends_at__gt=now, status__in=BLOCKING_STATUSES).order_by("starts_at")
    if upcoming is False:
        return visits.filter(Q(ends_at__lte=now) | ~Q(status__in=BLOCKING_STATUSES)).order_by("-starts_at")
    return visits.order_by("starts_at")


def visit_get_for_patient(*, patient: User, pk: int) -> Visit | None:
    """One of the patient's own visits (any status), or None: someone else's is None too (404)."""
    return _patient_visits(patient).filter(pk=pk).first()


@dataclass(frozen=True)
class HoldNotice:
    """The patient's visits on hold (a warning sign), for their dashboard and visit pages."""

    visits: list[Visit]
    safety: bool  # a danger sign among them: show 988 and 911


def hold_notice_for(*, patient: User, now: datetime | None = None) -> HoldNotice | None:
    """The patient's upcoming visits on hold and whether a danger sign put one there, or None."""
    now = now or timezone.now()
    holds = list(
        SafetyHold.objects.filter(visit__patient=patient, outcome=HoldOutcome.OPEN, visit__ends_at__gt=now)
        .select_related("visit__service")
        .order_by("visit__starts_at")
    )
    if not holds:
        return None
    return HoldNotice(visits=[h.visit for h in holds], safety=any(h.safety for h in holds))


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
