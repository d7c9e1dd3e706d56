"""US ZIP codes offline: state, position and IANA time zone, and travel time between two ZIPs.

The data comes from the `zipcodes` package (no network), loaded into a table (`concierge.ZipCode`)
by a migration, so no process holds the whole list (about 150 MB when it did). A lookup is one
query by primary key; each process keeps the ZIPs it looked up last (`CACHED_ZIPS`, a few hundred
KB), and `zips_load` fetches many at once, in one query, for a search about to ask for them.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from .models import ZipCode
from .recent import RecentlyUsed

EARTH_RADIUS_MILES = 3958.8


@dataclass(frozen=True)
class ZipInfo:
    zip_code: str
    city: str
    state: str
    lat: float
    lng: float
    time_zone: str


# How many ZIPs each process remembers (the most recently used). A clinic's searches touch the
# ZIPs of its nurses' homes and its patients' addresses: a few hundred.
CACHED_ZIPS = 4096


_recent = RecentlyUsed(CACHED_ZIPS)  # ZIP -> ZipInfo, or None for a ZIP not in the table
_UNSEEN = object()


def zip_cache_clear() -> None:
    """Forget the ZIPs looked up so far (tests that count queries start from nothing)."""
    _recent.clear()


def _fetch(zip_codes: Iterable[str]) -> dict[str, ZipInfo]:
    rows = ZipCode.objects.filter(zip_code__in=list(zip_codes)).values_list(
        "zip_code", "city", "state", "lat", "lng", "time_zone"
    )
    return {row[0]: ZipInfo(*row) for row in rows}


def zips_load(values: Iterable[str | None]) -> dict[str, ZipInfo]:
    """The ZipInfo of every known ZIP among `values`, by normalized ZIP: one query for those this
    process has not looked up yet, none when it has them all."""
    found: dict[str, ZipInfo] = {}
    missing = set()
    for value in set(values):  # a search's thousands of visits share a few hundred ZIPs
        zip_code = normalize_zip(value)
        if not zip_code or zip_code in found:
            continue
        info = _recent.get(zip_code, _UNSEEN)
        if info is _UNSEEN:
            missing.add(zip_code)
        elif info is not None:
            found[zip_code] = info
    if missing:
        fetched = _fetch(missing)
        for zip_code in missing:
            _recent.put(zip_code, fetched.get(zip_code))
        found.update(fetched)
    return found


def normalize_zip(value: str | None) -> str:
    """'02134-1234' and ' 2134' both give '02134'; anything else gives ''."""
    digits = (value or "").strip().split("-")[0]
    if not digits.isdigit() or len(digits) > 5:
        return ""
    return digits.zfill(5)


def zip_lookup(value: str | None) -> ZipInfo | None:
    """The ZipInfo for a US ZIP code, or None when it is not a known, active ZIP."""
    zip_code = normalize_zip(value)
    if not zip_code:
        return None
    info = _recent.get(zip_code, _UNSEEN)
    if info is _UNSEEN:
        info = _fetch([zip_code]).get(zip_code)
        _recent.put(zip_code, info)
    return info


def distance_miles(a: ZipInfo, b: ZipInfo) -> float:
    """Great-circle distance between two ZipInfo (haversine)."""
    lat1, lng1, lat2, lng2 = map(math.radians, (a.lat, a.lng, b.lat, b.lng))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(h))


def travel_minutes(zip_a: str | None, zip_b: str | None) -> int | None:
    """Estimated driving time between two ZIPs, rounded up to 5 minutes.

    Straight-line distance times a road factor, at an average speed (both in settings). Unknown
    ZIPs give None: the caller must treat the trip as impossible, not as free.
    """
    a, b = zip_lookup(zip_a), zip_lookup(zip_b)
    if a is None or b is None:
        return None
    if a.zip_code == b.zip_code:
        return settings.TRAVEL_MIN_MINUTES
    road_miles = distance_miles(a, b) * settings.TRAVEL_ROAD_FACTOR
    minutes = road_miles / settings.TRAVEL_AVERAGE_MPH * 60
    return max(settings.TRAVEL_MIN_MINUTES, math.ceil(minutes / 5.0) * 5)
