"""The care team's working hours: the one definition the reply queue counts in.

`settings.MESSAGES_WORKING_HOURS` gives the zone, the weekdays (Monday = 0) and the daily
opening and closing times, e.g. Mon-Fri 8:00-18:00 America/New_York. A patient message that
arrives on Friday at 17:00 has waited 1 working hour at 18:00 Friday, and 4 at 11:00 Monday.
Public holidays (`PublicHoliday`, a table staff edit in admin) are days off: a message sent on
the Friday before a Monday holiday has waited 1 working hour by Tuesday 8:00. Outside working
hours, a patient who writes again in an urgent conversation pages the clinician on call
(portal/messaging.py).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from .models import PublicHoliday

# No search walks further than this (a working week with no working days would loop forever).
MAX_DAYS = 400


@dataclass(frozen=True)
class WorkingHours:
    zone: ZoneInfo
    weekdays: frozenset
    opens: time
    closes: time
    holidays: frozenset[date] = field(default_factory=frozenset)

    def window(self, day):
        """The aware (start, end) of working time on a local date, or None on a day off."""
        if day.weekday() not in self.weekdays or day in self.holidays:
            return None
        return (
            datetime.combine(day, self.opens, tzinfo=self.zone),
            datetime.combine(day, self.closes, tzinfo=self.zone),
        )


def _parse(hhmm):
    hours, minutes = str(hhmm).split(":")
    return time(int(hours), int(minutes))


def working_hours():
    config = settings.MESSAGES_WORKING_HOURS
    opens, closes = _parse(config["opens"]), _parse(config["closes"])
    if closes <= opens:
        raise ValueError("MESSAGES_WORKING_HOURS: closing time must be after opening time")
    return WorkingHours(
        zone=ZoneInfo(config["time_zone"]),
        weekdays=frozenset(int(d) for d in config["weekdays"]),
        opens=opens,
        closes=closes,
        # A short table (a dozen days a year): read whole, once per calculation.
        holidays=frozenset(PublicHoliday.objects.values_list("date", flat=True)),
    )


def is_working_time(at):
    """Whether the care team is at work at this instant (a holiday is not)."""
    hours = working_hours()
    window = hours.window(at.astimezone(hours.zone).date())
    return window is not None and window[0] <= at < window[1]


DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def describe():
    """'Mon-Fri 08:00-18:00 (America/New_York)', for pages that say how the queue counts."""
    hours = working_hours()
    days = sorted(hours.weekdays)
    if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        day_text = f"{DAY_NAMES[days[0]]}-{DAY_NAMES[days[-1]]}"
    else:
        day_text = ", ".join(DAY_NAMES[d] for d in days)
    return f"{day_text} {hours.opens:%H:%M}-{hours.closes:%H:%M} ({hours.zone.key})"


def working_seconds_between(start, end, hours=None):
    """Working time between two instants, in seconds (0 when end is not after start)."""
    if end <= start:
        return 0.0
    hours = hours or working_hours()
    day = start.astimezone(hours.zone).date()
    last = end.astimezone(hours.zone).date()
    total = 0.0
    while day <= last:
        window = hours.window(day)
        if window is not None:
            lo, hi = max(window[0], start), min(window[1], end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def working_hours_between(start, end, hours=None):
    """Working time between two instants, in hours. Pass `hours` (working_hours()) when counting
    many: it reads the holiday table once."""
    return working_seconds_between(start, end, hours) / 3600


def working_time_before(end, working, hours=None):
    """The latest instant from which `working` (a timedelta of working time) had passed by `end`.

    A message that arrived at or before it has waited at least that long in working hours.
    """
    remaining = working.total_seconds()
    if remaining <= 0:
        return end
    hours = hours or working_hours()
    day = end.astimezone(hours.zone).date()
    for _ in range(MAX_DAYS):
        window = hours.window(day)
        if window is not None and window[0] < end:
            available = (min(window[1], end) - window[0]).total_seconds()
            if available >= remaining:
                return min(window[1], end) - timedelta(seconds=remaining)
            remaining -= available
        day -= timedelta(days=1)
    raise ValueError("MESSAGES_WORKING_HOURS has no working days")
