"""Calendar files (.ics) for visits: attached to confirmation emails, and downloaded from the visit
page (booking). The title never says what the visit is for."""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event


def visit_calendar_title(visit):
    if visit.service.is_telehealth:
        return _("Video visit with ConciergeMD")
    return _("Home visit")


def visit_calendar_ics(visit):
    """An iCalendar file for one visit: neutral title, the visit address, the clinic's phone."""
    calendar = Calendar()
    calendar.add("prodid", "-//ConciergeMD//Visits//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"visit-{visit.pk}@conciergemd")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", visit.starts_at)
    event.add("dtend", visit.ends_at)
    event.add("summary", visit_calendar_title(visit))
    if not visit.service.is_telehealth:
        parts = [visit.address_line1, visit.address_line2, visit.city, visit.state]
        event.add("location", ", ".join(p for p in parts if p) + f" {visit.zip_code}")
    event.add(
        "description",
        _("Questions or changes: call %(phone)s. Details: %(url)s")
        % {"phone": settings.CLINIC_PHONE, "url": settings.SITE_URL + "/dashboard/"},
    )
    calendar.add_component(event)
    return calendar.to_ical()
