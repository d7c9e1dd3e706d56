"""What the booking pages share: who may open them, the patient's own visit, days and times.

Each view checks who may do it, validates a form, calls one service, then redirects or renders.
Business errors (ApplicationError) become messages on the page; nothing here ends in a 500.
"""

from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from concierge.errors import ApplicationError
from concierge.inputs import day_from
from concierge.models import Role

from .. import availability, selectors, services
from ..forms import start_param
from ..models import Service
from ..templatetags.booking_tags import visit_time

DAYS_PER_PAGE = 14


def patient_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.has_role(Role.PATIENT):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def own_visit(request, pk):
    visit = selectors.visit_get_for_patient(patient=request.user, pk=pk)
    if visit is None:
        raise Http404
    return visit


def service_or_404(code):
    return get_object_or_404(Service, code=code, is_active=True)


def local_today(time_zone):
    return timezone.now().astimezone(availability.zone(time_zone)).date()


def horizon(time_zone):
    return local_today(time_zone) + timedelta(days=settings.BOOKING_HORIZON_DAYS)


def parse_day(value):
    """A YYYY-MM-DD date from a link, or None (also impossible dates and years out of range)."""
    return day_from(value)


def unavailable(request, error, *, service=None, status=200):
    return render(request, "booking/unavailable.html", {"error": error, "service": service}, status=status)


def context_or_error(request, service, *, place=None):
    try:
        return services.booking_context(patient=request.user, service=service, place=place), None
    except ApplicationError as error:
        return None, error


def days_page(request, *, ctx, first_param, choose_url, exclude=None, preferred=None, last_allowed=None):
    """Fourteen days from one search, each free day with its times in the page.

    `choose_url(day)` is where a time of that day leads (with `?start=`). The patient opens a
    day in the page itself (an anchor, no script), so looking through two weeks is this one
    request and one search; the one-day times pages stay for links made before.
    """
    tz = ctx.place.time_zone
    today = local_today(tz)
    last_allowed = min(filter(None, [horizon(tz), last_allowed]))
    first = parse_day(first_param) or today
    first = min(max(first, today), last_allowed)
    last = min(first + timedelta(days=DAYS_PER_PAGE - 1), last_allowed)
    slots = ctx.slots(first_day=first, last_day=last, exclude_visit_id=exclude, preferred_provider_id=preferred)
    by_day = availability.slots_by_day(slots)
    days = []
    for i in range((last - first).days + 1):
        day = first + timedelta(days=i)
        times = by_day.get(day, [])
        # A day that offers nothing says why when the plan is the reason (spacing, window).
        days.append(
            {
                "day": day,
                "count": len(times),
                "times": time_choices(times, time_zone=tz, choose_url=choose_url(day)) if times else [],
                "anchor": f"times-{day.isoformat()}",
                "note": "" if times else ctx.day_note(day),
            }
        )
    earlier = first - timedelta(days=DAYS_PER_PAGE) if first > today else None
    later = last + timedelta(days=1) if last < last_allowed else None
    return {
        "spacing_hours": ctx.clearance.min_hours_between if ctx.min_gap else None,
        "days": days,
        "earlier": max(earlier, today) if earlier else None,
        "later": later,
        "any_free": bool(slots),
        "time_zone": tz,
        "zone_name": timezone.now().astimezone(availability.zone(tz)).tzname(),
    }


def last_day_for(ctx):
    """The last day an infusion may be booked on: the clearance's expiry, or the plan's window."""
    window = ctx.plan.window() if ctx.plan is not None else None
    days = [ctx.clearance.expires_on if ctx.clearance is not None else None, window[1] if window else None]
    return min((d for d in days if d is not None), default=None)


def start_link(choose_url, starts_at):
    """Where choosing this start time leads: the next step's address with the time in `?start=`."""
    return f"{choose_url}?start={start_param(starts_at)}"


def time_choices(slots, *, time_zone, choose_url):
    """[(the time as shown, where choosing it leads)] for free starts: what a time grid shows.

    Made here rather than in the template: a days page shows up to fourteen days of them.
    """
    return [(visit_time(s.starts_at, time_zone), start_link(choose_url, s.starts_at)) for s in slots]


def day_slots(ctx, day, *, exclude=None, preferred=None):
    return ctx.slots(first_day=day, last_day=day, exclude_visit_id=exclude, preferred_provider_id=preferred)


def day_or_404(value, time_zone):
    day = parse_day(value)
    if day is None or day > horizon(time_zone):
        raise Http404
    return day
