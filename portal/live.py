"""The patient's live visit status (Onfleet-style, privacy-safe): who is coming and where the visit
stands (booked, on the way with the arrival window, arrived, done), never where the nurse is.

Read from the nurse's chart (nurses) and the outbox (the "running late" text): portal sits above
both, so booking's visit page includes this through settings.PATIENT_VISIT_SECTIONS.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.availability import zone
from booking.models import Visit, VisitStatus
from notifications.models import Message
from nurses.models import VisitChart

LIVE_STATUSES = (VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE, VisitStatus.IN_PROGRESS, VisitStatus.COMPLETED)
STEPS = ("booked", "on_the_way", "arrived", "done")


@dataclass(frozen=True)
class LiveStatus:
    step: str  # one of STEPS
    headline: str
    detail: str
    steps: list[tuple[str, str]]  # (label, "done" | "now" | "")
    poll: bool  # keep asking (the visit is today and not over)


def _time(moment: datetime, visit: Visit) -> str:
    local = moment.astimezone(zone(visit.time_zone))
    return f"{local:%-I:%M %p} {local.tzname()}"


def live_status_for(*, visit: Visit, now: datetime | None = None) -> LiveStatus | None:
    """What the patient's visit page shows about today's visit, or None (not today, not a home visit)."""
    now = now or timezone.now()
    if visit.service.is_telehealth or visit.status not in LIVE_STATUSES or visit.provider is None:
        return None
    tz = zone(visit.time_zone)
    if visit.starts_at.astimezone(tz).date() != now.astimezone(tz).date():
        return None
    chart = VisitChart.objects.filter(visit=visit).first()
    nurse = visit.provider.user.first_name or visit.provider.user.get_short_name()
    if visit.status == VisitStatus.COMPLETED:
        step, headline, detail = "done", _("Your visit is complete."), _("Rest, and do not drive until tomorrow.")
    elif visit.status == VisitStatus.IN_PROGRESS:
        step = "arrived"
        headline = _("%(nurse)s is with you.") % {"nurse": nurse}
        detail = (
            _("Arrived at %(time)s.") % {"time": _time(chart.arrived_at, visit)} if chart and chart.arrived_at else ""
        )
    elif visit.status == VisitStatus.EN_ROUTE and chart and chart.eta_from and chart.eta_until:
        step = "on_the_way"
        headline = _("%(nurse)s is on the way.") % {"nurse": nurse}
        detail = _("Arriving between %(start)s and %(end)s.") % {
            "start": _time(chart.eta_from, visit),
            "end": _time(chart.eta_until, visit),
        }
    else:
        step = "booked"
        late = Message.objects.filter(visit=visit, template="running_late").exists()
        if late:
            headline = _("%(nurse)s is running late from an earlier visit.") % {"nurse": nurse}
            detail = _("We will text you when %(nurse)s sets off, with a new arrival window.") % {"nurse": nurse}
        else:
            headline = _("%(nurse)s is coming today at %(time)s.") % {
                "nurse": nurse,
                "time": _time(visit.starts_at, visit),
            }
            detail = _("You get a text when %(nurse)s sets off, with an arrival window.") % {"nurse": nurse}
    labels = {
        "booked": _("Booked"),
        "on_the_way": _("On the way"),
        "arrived": _("Arrived"),
        "done": _("Done"),
    }
    here = STEPS.index(step)
    steps = [
        (labels[s], "done" if i < here or step == "done" else ("now" if i == here else "")) for i, s in enumerate(STEPS)
    ]
    return LiveStatus(step, headline, detail, steps, poll=step != "done")


def live_context(visit: Visit) -> dict:
    """The context of portal/_visit_live_body.html: the visit page's first render and each poll."""
    return {"visit": visit, "live": live_status_for(visit=visit), "poll_seconds": settings.PATIENT_LIVE_POLL_SECONDS}
