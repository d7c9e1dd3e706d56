"""Showing visits: times in the visit's own zone with its abbreviation, money in dollars."""

from datetime import time
from functools import lru_cache

from django import template
from django.utils import formats, translation

from booking import selectors
from booking.availability import zone
from booking.forms import start_param as format_start
from concierge.context_processors import clinic

register = template.Library()


def _local(value, tz):
    return value.astimezone(zone(tz)) if value is not None and tz else value


@register.filter
def visit_time(value, tz):
    """'9:30 AM EST' in the time zone `tz` (the visit's)."""
    if value is None:
        return ""
    local = _local(value, tz)
    return _clock_time(local.hour, local.minute, local.tzname(), translation.get_language())


@lru_cache(maxsize=1024)
def _clock_time(hour, minute, zone_abbreviation, language):
    # Worded once per language: a days page shows the same clock times day after day. The
    # language is the active one; it is in the key because "AM"/"PM" are translated.
    return f"{formats.time_format(time(hour, minute), 'g:i A')} {zone_abbreviation}"


@register.filter
def visit_day(value, tz):
    """'Tuesday, March 3' in the visit's time zone."""
    return formats.date_format(_local(value, tz), "DAY_FORMAT") if value is not None else ""


@register.filter
def visit_day_short(value, tz):
    """'Tue, Mar 3' in the visit's time zone."""
    return formats.date_format(_local(value, tz), "SHORT_DAY_FORMAT") if value is not None else ""


@register.filter
def dollars(cents):
    """45000 -> '$450.00'."""
    dollars_part, rest = divmod(int(cents or 0), 100)
    return f"${dollars_part:,}.{rest:02d}"


@register.inclusion_tag("booking/_upcoming_visits_list.html", takes_context=True)
def upcoming_visits_for(context, user):
    """The patient's next visits, for the dashboard (booking/_upcoming_visits.html)."""
    visits = list(selectors.visit_list_for_patient(patient=user, upcoming=True)[:5]) if user else []
    hold = selectors.hold_notice_for(patient=user) if user else None
    profile = getattr(context.get("request"), "patient_profile", None)  # read once by patient_required
    return {
        "visits": visits,
        "moved": selectors.visits_at_another_address(visits=visits, profile=profile),
        "hold": hold,
        "request": context.get("request"),
        **clinic(context.get("request")),  # the hold notice's number: no context processors here
    }


@register.filter
def start_param(value):
    """A start time as it travels in links and forms (UTC, ISO 8601)."""
    return format_start(value) if value is not None else ""


@register.filter
def webcal(url):
    """https://host/calendar/... -> webcal://host/calendar/... (calendar apps subscribe to it)."""
    for scheme in ("https://", "http://"):
        if url.startswith(scheme):
            return "webcal://" + url[len(scheme) :]
    return url
