"""Showing the nurse's day: times in the visit's own zone with its abbreviation, names, warnings."""

from zoneinfo import ZoneInfo

from django import template
from django.utils import formats

from booking.policy import visit_is_late
from nurses import protocol
from roster.selectors import oncall_phone_now

register = template.Library()


@register.filter
def local_time(value, tz):
    """'9:30 AM EST' in the visit's zone."""
    if value is None or not tz:
        return ""
    local = value.astimezone(ZoneInfo(tz))
    return f"{formats.time_format(local, 'g:i A')} {local.tzname()}"


@register.filter
def patient_name(visit):
    """The preferred name of a visit's patient (profile loaded with the visit)."""
    profile = getattr(visit.patient, "patient_profile", None)
    return (profile.display_name if profile else "") or visit.patient.first_name or visit.patient.email


@register.filter
def alert_texts(codes):
    return protocol.alert_messages(codes or [])


@register.filter
def date_in(value, tz):
    """'Tue, Mar 3' in the visit's zone."""
    if value is None or not tz:
        return ""
    return formats.date_format(value.astimezone(ZoneInfo(tz)), "SHORT_DAY_FORMAT")


@register.filter
def local_date(value, tz):
    """'2026-03-03': the visit's local date, for ?date= links."""
    if value is None or not tz:
        return ""
    return value.astimezone(ZoneInfo(tz)).date().isoformat()


@register.inclusion_tag("nurses/_oncall.html")
def oncall_button(style="btn-outline-danger"):
    """The on-call clinician's number as a call button (roster.selectors.oncall_phone_now)."""
    return {"oncall": oncall_phone_now(), "style": style}


@register.filter
def is_late(visit):
    """Not started well after its start time (booking.policy.visit_is_late)."""
    return visit_is_late(visit)
