"""Calendar files (.ics) for visits: attached to confirmation emails, and downloaded from the visit
page (booking). The title never says what the visit is for."""

from datetime import UTC
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event


def visit_calendar_title(visit):
    if visit.service.is_telehealth:
        return _("Video visit with ConciergeMD")
    return _("Home visit")


def _visit_event(visit):
    event = Event()
    # One UID per visit, whatever its time: a calendar that follows the feed moves the event
    # when the visit is rescheduled instead of adding a second one.
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
    return event


def visit_calendar_ics(visit):
    """An iCalendar file for one visit: neutral title, the visit address, the clinic's phone."""
    calendar = Calendar()
    calendar.add("prodid", "-//ConciergeMD//Visits//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(_visit_event(visit))
    return calendar.to_ical()


def visits_calendar_feed(visits, *, cancelled=()):
    """A subscription feed: the patient's booked visits, and recently cancelled ones as CANCELLED
    (so a calendar that already has them removes them)."""
    calendar = Calendar()
    calendar.add("prodid", "-//ConciergeMD//Visits//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("ConciergeMD visits"))
    calendar.add("refresh-interval;value=duration", "PT1H")
    calendar.add("x-published-ttl", "PT1H")
    for visit in visits:
        calendar.add_component(_visit_event(visit))
    for visit in cancelled:
        event = _visit_event(visit)
        event.add("status", "CANCELLED")
        calendar.add_component(event)
    return calendar.to_ical()


def calendar_links(visit):
    """Add-to-calendar links for Google and Outlook (the patient's own choice to send it there)."""
    title = str(visit_calendar_title(visit))
    where = ""
    if not visit.service.is_telehealth:
        parts = [visit.address_line1, visit.address_line2, visit.city, visit.state]
        where = ", ".join(p for p in parts if p) + f" {visit.zip_code}"
    details = _("Questions or changes: call %(phone)s.") % {"phone": settings.CLINIC_PHONE}
    utc = "%Y%m%dT%H%M%SZ"
    google = "https://calendar.google.com/calendar/render?" + urlencode(
        {
            "action": "TEMPLATE",
            "text": title,
            "dates": f"{visit.starts_at.astimezone(UTC):{utc}}/{visit.ends_at.astimezone(UTC):{utc}}",
            "location": where,
            "details": details,
        }
    )
    outlook = "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": title,
            "startdt": visit.starts_at.astimezone(UTC).isoformat(),
            "enddt": visit.ends_at.astimezone(UTC).isoformat(),
            "location": where,
            "body": details,
        }
    )
    return {"google": google, "outlook": outlook}
