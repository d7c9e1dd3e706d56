"""How money and visits are written for people (pages, emails, admin)."""

from notifications.calendar import visit_calendar_title
from notifications.content import when_text


def money(cents):
    """12345 -> "$123.45" (USD; negative amounts keep their sign in front)."""
    cents = int(cents or 0)
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def visit_title(visit):
    """ "Home visit" or "Video visit": never what the visit is for."""
    return visit_calendar_title(visit)


def visit_when(visit):
    """ "Tue Mar 3, 9:00 AM EST": the visit's own time zone, with its abbreviation."""
    return when_text(visit.starts_at, visit.time_zone)
