"""A roster change that would orphan booked visits: which of a provider's visits to come their roster
(as saved now) no longer allows, and why (staff/roster.py asks staff before keeping such a change)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import availability, selectors
from booking.availability import LicenceData, zone
from booking.models import BLOCKING_STATUSES, Visit, hold_lapsed
from roster.models import Provider

from .hours import COLUMN_MINUTES, Shifts, TimeRange, minutes_between, working_windows

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Orphan:
    visit: Visit
    reason: StrOrPromise


@dataclass(frozen=True)
class _Roster:
    """A provider's roster over the days of their visits to come, and the route of those days."""

    provider: Provider
    licences: list[LicenceData]
    weekly: dict[int, Shifts]
    overrides: dict[date, Shifts]
    time_off: list[TimeRange]
    route: list[tuple[int, datetime, datetime, str]]  # (id, starts_at, ends_at, ZIP) of every blocking visit


def _visits_to_come(provider: Provider, now: datetime) -> list[Visit]:
    return list(
        Visit.objects.filter(provider_id=provider.pk, status__in=BLOCKING_STATUSES, starts_at__gt=now)
        .exclude(hold_lapsed(now))
        .select_related("service", "patient__patient_profile")
        .order_by("starts_at", "pk")
    )


def _roster_around(provider: Provider, visits: list[Visit], now: datetime) -> _Roster:
    ptz = zone(provider.time_zone)
    first_day = min(v.starts_at.astimezone(ptz).date() for v in visits) - timedelta(days=1)
    last_day = max(v.starts_at.astimezone(ptz).date() for v in visits) + timedelta(days=1)
    range_start = datetime.combine(first_day, time(0), tzinfo=ptz)
    range_end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=ptz)
    licences, weekly, overrides, time_off = selectors._roster([provider.pk], range_start, range_end)
    # Every blocking visit of those days (past ones included) shapes the route.
    route = list(
        Visit.objects.filter(
            provider_id=provider.pk, status__in=BLOCKING_STATUSES, starts_at__lt=range_end, ends_at__gt=range_start
        )
        .exclude(hold_lapsed(now))
        .values_list("pk", "starts_at", "ends_at", "zip_code")
    )
    pk = provider.pk
    return _Roster(provider, licences[pk], weekly[pk], overrides[pk], time_off[pk], route)


def _fits_route(visit: Visit, roster: _Roster, now: datetime) -> bool:
    """Could this provider be booked for the visit at its time, with the rest of the day's route?"""
    provider = roster.provider
    local_visit_day = visit.starts_at.astimezone(zone(visit.time_zone)).date()
    minute = visit.starts_at.astimezone(zone(visit.time_zone)).minute
    data = availability.ProviderData(
        id=provider.pk,
        home_zip=provider.home_zip,
        time_zone=provider.time_zone,
        max_visits_per_day=10_000,
        licences=roster.licences,
        weekly=roster.weekly,
        overrides=roster.overrides,
        time_off=roster.time_off,
        visits=[availability.VisitData.of(s, e, z) for pk, s, e, z in roster.route if pk != visit.pk],
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
    return availability.slot_at(availability.find_slots([data], query), visit.starts_at) is not None


def _orphan_reason(
    visit: Visit, roster: _Roster, *, day: date, visits_that_day: int, now: datetime
) -> StrOrPromise | None:
    """Why the roster no longer allows this visit (`day`: the provider's local date), or None."""
    provider = roster.provider
    local_visit_day = visit.starts_at.astimezone(zone(visit.time_zone)).date()
    if not availability.licences_allow(roster.licences, visit_state=visit.state, on_date=local_visit_day):
        return _("no licence valid in %(state)s on that day") % {"state": visit.state}
    if visits_that_day > provider.max_visits_per_day:
        return _("more visits that day than the nurse's maximum (%(n)s)") % {"n": provider.max_visits_per_day}
    if _fits_route(visit, roster, now):
        return None
    windows = working_windows(
        day=day, tz_name=provider.time_zone, weekly=roster.weekly, overrides=roster.overrides, time_off=roster.time_off
    )
    if any(a < visit.ends_at and visit.starts_at < b for a, b in roster.time_off):
        return _("it falls in time off")
    if not any(a <= visit.starts_at and visit.ends_at <= b for a, b in windows):
        return _("it is outside the working hours")
    return _("the day's route no longer fits (travel between visits)")


def visits_orphaned_by_roster(*, provider_id: int | str, now: datetime | None = None) -> list[Orphan]:
    """The provider's booked visits still to come that their roster (as saved now) no longer allows.

    Each visit is checked with the availability module as if it were booked again at its time by
    this provider (licence that day, working hours and time off, the route with the other visits,
    no notice); a day with more visits than the maximum orphans its latest ones. Inactive: all.
    """
    now = now or timezone.now()
    # An id from a URL may be a string: from here on the provider's own (int) pk keys the roster's maps.
    provider = Provider.objects.get(pk=provider_id)
    visits = _visits_to_come(provider, now)
    if not visits:
        return []
    if not provider.is_active:
        return [Orphan(v, _("the nurse is no longer active")) for v in visits]
    roster = _roster_around(provider, visits, now)
    ptz = zone(provider.time_zone)
    orphans: list[Orphan] = []
    per_day: defaultdict[date, int] = defaultdict(int)
    for visit in visits:
        day = visit.starts_at.astimezone(ptz).date()
        per_day[day] += 1
        reason = _orphan_reason(visit, roster, day=day, visits_that_day=per_day[day], now=now)
        if reason is not None:
            orphans.append(Orphan(visit, reason))
    return orphans
