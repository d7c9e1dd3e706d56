"""How money and visits are written for people (pages, emails, admin)."""

from typing import TYPE_CHECKING

from notifications.calendar import visit_calendar_title
from notifications.content import when_text

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

    from booking.models import Visit


def money(cents: int | None) -> str:
    """12345 -> "$123.45" (USD; negative amounts keep their sign in front)."""
    cents = int(cents or 0)
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def visit_title(visit: "Visit") -> "StrPromise":
    """ "Home visit" or "Video visit": never what the visit is for."""
    return visit_calendar_title(visit)


def visit_when(visit: "Visit") -> str:
    """ "Tue Mar 3, 9:00 AM EST": the visit's own time zone, with its abbreviation."""
    return when_text(visit.starts_at, visit.time_zone)
