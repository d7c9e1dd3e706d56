"""US ZIP codes offline: state, position and IANA time zone, and travel time between two ZIPs.

The data ships inside the `zipcodes` package (no network). It is loaded once per process, on
first use (about 0.3 s), into a dict keyed by ZIP.
"""

import math
from dataclasses import dataclass
from functools import lru_cache

import zipcodes
from django.conf import settings

EARTH_RADIUS_MILES = 3958.8


@dataclass(frozen=True)
class ZipInfo:
    zip_code: str
    city: str
    state: str
    lat: float
    lng: float
    time_zone: str


@lru_cache(maxsize=1)
def _table() -> dict[str, ZipInfo]:
    table = {}
    for row in zipcodes.list_all():
        if not row.get("active", True) or not row.get("timezone") or not row.get("lat"):
            continue
        table[row["zip_code"]] = ZipInfo(
            zip_code=row["zip_code"],
            city=row["city"],
            state=row["state"],
            lat=float(row["lat"]),  # the dataset stores these as strings
            lng=float(row["long"]),
            time_zone=row["timezone"],
        )
    return table


def normalize_zip(value: str | None) -> str:
    """'02134-1234' and ' 2134' both give '02134'; anything else gives ''."""
    digits = (value or "").strip().split("-")[0]
    if not digits.isdigit() or len(digits) > 5:
        return ""
    return digits.zfill(5)


def zip_lookup(value: str | None) -> ZipInfo | None:
    """The ZipInfo for a US ZIP code, or None when it is not a known, active ZIP."""
    return _table().get(normalize_zip(value))


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
