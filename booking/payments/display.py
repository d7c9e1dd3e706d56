"""How money and visits are written for people (pages, emails, admin)."""

from booking.calendar import appointment_title
from notifications.content import when_text


def money(cents):
    """12345 -> "$123.45" (USD; negative amounts keep their sign in front)."""
    cents = int(cents or 0)
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def visit_title(appointment):
    """ "Home visit" or "Video visit": never what the visit is for."""
    return appointment_title(appointment)


def visit_when(appointment):
    """ "Tue Mar 3, 9:00 AM EST": the visit's own time zone, with its abbreviation."""
    return when_text(appointment.starts_at, appointment.time_zone)
