"""Working time and time labels for the board and the reports: plain functions, no database.

Times are aware datetimes; a provider's working time is computed in their own time zone with the
same rules as booking's availability (weekly pattern, date overrides, time off).
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from django.utils.translation import gettext_lazy as _

from booking.availability import Hours, zone
from concierge.models import User

COLUMN_MINUTES = 5  # the board's grid: one CSS grid column per 5 minutes

TimeRange = tuple[datetime, datetime]  # aware instants, start before end
Shifts = Hours  # wall-clock working blocks of one day (booking's availability type)


def working_windows(
    *,
    day: date,
    tz_name: str,
    weekly: Mapping[int, Shifts],
    overrides: Mapping[date, Shifts],
    time_off: Sequence[TimeRange],
) -> list[TimeRange]:
    """A provider's working time on one local date: [(start, end)] aware datetimes, time off cut out.

    `weekly`: weekday -> [(start time, end time)]; `overrides`: date -> [(start, end)] (an empty
    list is a day off); `time_off`: [(starts_at, ends_at)]. The same rules as availability.
    """
    tz = zone(tz_name)
    shifts = overrides[day] if day in overrides else weekly.get(day.weekday(), [])
    windows: list[TimeRange] = []
    for start, end in shifts:
        a = datetime.combine(day, start, tzinfo=tz)
        b = datetime.combine(day, end, tzinfo=tz)
        cuts = sorted((s, e) for s, e in time_off if e > a and s < b)
        windows.extend(subtract(a, b, cuts))
    return windows


def subtract(start: datetime, end: datetime, cuts: Iterable[TimeRange]) -> list[TimeRange]:
    pieces: list[TimeRange] = []
    cursor = start
    for cut_start, cut_end in cuts:
        if cut_end <= cursor or cut_start >= end:
            continue
        if cut_start > cursor:
            pieces.append((cursor, cut_start))
        cursor = max(cursor, cut_end)
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def minutes_between(a: datetime, b: datetime) -> int:
    return max(0, int((b - a).total_seconds() // 60))


def _clock(moment: datetime) -> tuple[str, str]:
    # "9:05" and "AM"/"PM" (US English, as every page shows times), without Django's slower date formatter:
    # the board writes hundreds of these.
    return f"{moment.hour % 12 or 12}:{moment.minute:02d}", "AM" if moment.hour < 12 else "PM"


def time_range_label(start: datetime, end: datetime, tz_name: str) -> str:
    """'9:00-11:00 AM EST' or '11:30 AM-1:30 PM EST' (local, with the zone's abbreviation)."""
    tz = zone(tz_name)
    a, b = start.astimezone(tz), end.astimezone(tz)
    (a_time, a_half), (b_time, b_half) = _clock(a), _clock(b)
    if a_half == b_half:
        return f"{a_time}-{b_time} {b_half} {b.tzname()}"
    return f"{a_time} {a_half}-{b_time} {b_half} {b.tzname()}"


def duration_label(minutes: int) -> str:
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)s h") % {"h": hours}
    return _("%(m)s min") % {"m": rest}


def patient_display_name(user: User) -> str:
    profile = getattr(user, "patient_profile", None)
    name = ""
    if profile is not None:
        name = profile.preferred_name or profile.legal_first_name
        last = profile.legal_last_name or user.last_name
        name = f"{name} {last}".strip() if name else ""
    return name or user.get_full_name()
