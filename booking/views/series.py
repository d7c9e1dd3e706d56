"""A series: book the plan's remaining infusions together (choose a start, adjust one time, hold all).

The proposal lives in the session between the pages, as start times the patient may adjust one
by one before holding them all at once.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from concierge.errors import ApplicationError
from concierge.ratelimit import rate_limit

from .. import availability, policy, services
from ..errors import SlotTaken
from ..forms import SeriesStartForm, StartTimeForm, parse_start, start_param
from ..models import Series, Service, ServiceKind
from .common import context_or_error, horizon, local_today, parse_day, patient_required, unavailable

SERIES_SESSION_KEY = "booking_series_proposal"


def _infusion_service():
    return Service.objects.filter(kind=ServiceKind.INFUSION, is_active=True).order_by("pk").first()


def _proposal_from_session(request):
    data = request.session.get(SERIES_SESSION_KEY) or {}
    visits = []
    for item in data.get("visits", []):
        try:
            visits.append((parse_start(item[0]), item[1]))
        except Exception:  # a session from an older version of this page: start again
            return None
    return {**data, "visits": visits} if visits else None


def _proposal_to_session(request, *, first_day, part_of_day, visits):
    request.session[SERIES_SESSION_KEY] = {
        "first_day": first_day.isoformat(),
        "part_of_day": part_of_day or "",
        "visits": [[start_param(starts_at), provider_id] for starts_at, provider_id in visits],
    }


@patient_required
@require_http_methods(["GET", "POST"])
@rate_limit("booking", per_hour=60)
def series(request):
    """Book the plan's remaining infusions together: choose a start, adjust, hold all."""
    service = _infusion_service()
    if service is None:
        raise Http404
    ctx, error = context_or_error(request, service)
    if error:
        return unavailable(request, error, service=service)
    if request.method == "POST":
        return _series_hold(request, service)
    return _series_page(request, service, ctx)


def _series_hold(request, service):
    """Hold every time of the proposal kept in the session, then go and pay for them together."""
    proposal = _proposal_from_session(request)
    if proposal is None:
        messages.error(request, _("Please choose your times again."))
        return redirect("booking:series")
    try:
        held = services.series_hold(patient=request.user, service=service, visits=proposal["visits"])
    except SlotTaken:
        messages.error(request, _("One of those times was just taken. Here are new suggestions."))
        return redirect(
            reverse("booking:series") + f"?first_day={proposal['first_day']}&part_of_day={proposal['part_of_day']}"
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("booking:series")
    request.session.pop(SERIES_SESSION_KEY, None)
    return redirect("booking:series_checkout", pk=held.pk)


def _series_page(request, service, ctx):
    """The proposal: kept from the session (after one time was changed), or made from the form's start."""
    tz = ctx.place.time_zone
    first, last = local_today(tz), min(horizon(tz), ctx.clearance.expires_on)
    remaining = services.series_remaining(patient=request.user, clearance=ctx.clearance)
    page = {"service": service, "ctx": ctx, "time_zone": tz, "remaining": remaining, "plan": ctx.clearance}
    kept = _proposal_from_session(request) if request.GET.get("keep") else None
    if kept:
        initial = {"first_day": kept["first_day"], "part_of_day": kept["part_of_day"]}
        form = SeriesStartForm(initial=initial, first=first, last=last)
    else:
        form = SeriesStartForm(request.GET or None, initial={"first_day": first}, first=first, last=last)
    page["form"] = form
    if kept:
        page["proposal"] = kept
    elif form.is_valid() and remaining:
        page |= _proposal_new(request, service, form)
    if page.get("proposal"):
        page["proposal_rows"] = [
            (i, starts_at, starts_at + timedelta(minutes=ctx.visit_minutes))
            for i, (starts_at, _provider) in enumerate(page["proposal"]["visits"])
        ]
        page["total_due"] = policy.amount_due_cents(service) * len(page["proposal"]["visits"])
    return render(request, "booking/series.html", page)


def _proposal_new(request, service, form):
    """Propose times from the form's first day and keep them in the session; say if the plan is short."""
    found = services.series_propose(
        patient=request.user,
        service=service,
        first_day=form.cleaned_data["first_day"],
        part_of_day=form.cleaned_data["part_of_day"],
    )
    visits = [(v.starts_at, v.provider_id) for v in found.visits]
    _proposal_to_session(
        request,
        first_day=form.cleaned_data["first_day"],
        part_of_day=form.cleaned_data["part_of_day"],
        visits=visits,
    )
    return {"proposal": _proposal_from_session(request), "short": len(visits) < found.wanted}


@dataclass(frozen=True)
class _ChangeWindow:
    """Where one infusion of the proposal may move: at least the plan's spacing after the one
    before (`low`) and before the one after (`high`), within the plan's window around the others."""

    time_zone: str
    low: datetime
    high: datetime | None
    first_day: date  # local days
    last_day: date

    def fits(self, starts_at):
        day = starts_at.astimezone(availability.zone(self.time_zone)).date()
        return (
            starts_at >= self.low
            and (self.high is None or starts_at <= self.high)
            and self.first_day <= day <= self.last_day
        )


def _change_window(request, ctx, visits, index):
    tz = ctx.place.time_zone
    current = visits[index][0]
    others = sorted(starts_at for i, (starts_at, _provider) in enumerate(visits) if i != index)
    before = [s for s in others if s < current]
    after = [s for s in others if s > current]
    # Spacing from its neighbours (times), and the plan's window around the others (local days).
    low = before[-1] + ctx.min_gap if before else timezone.now()
    high = after[0] - ctx.min_gap if after else None
    window = timedelta(days=ctx.clearance.series_window_days - 1)
    booked = services.series_plan_starts(patient=request.user, clearance=ctx.clearance)
    local_days = [s.astimezone(availability.zone(tz)).date() for s in [*others, *booked]]
    first_day = max(
        low.astimezone(availability.zone(tz)).date(), (max(local_days) - window) if local_days else local_today(tz)
    )
    last_day = min(
        filter(
            None,
            [
                high.astimezone(availability.zone(tz)).date() if high else None,
                (min(local_days) + window) if local_days else None,
                horizon(tz),
                ctx.clearance.expires_on,
            ],
        )
    )
    return _ChangeWindow(tz, low, high, first_day, last_day)


@patient_required
@require_http_methods(["GET", "POST"])
@rate_limit("booking", per_hour=60)
def series_change(request, index):
    """Pick another time for one infusion of the proposal, keeping the plan's spacing."""
    service = _infusion_service()
    proposal = _proposal_from_session(request)
    if service is None or proposal is None or not 0 <= index < len(proposal["visits"]):
        return redirect("booking:series")
    ctx, error = context_or_error(request, service)
    if error:
        return unavailable(request, error, service=service)
    visits = proposal["visits"]
    current = visits[index][0]
    window = _change_window(request, ctx, visits, index)
    if request.method == "POST":
        form = StartTimeForm(request.POST)
        if form.is_valid() and window.fits(form.cleaned_data["starts_at"]):
            visits[index] = (form.cleaned_data["starts_at"], None)
            visits.sort(key=lambda v: v[0])
            _proposal_to_session(
                request,
                first_day=parse_day(proposal["first_day"]),
                part_of_day=proposal["part_of_day"],
                visits=visits,
            )
            return redirect(reverse("booking:series") + "?keep=1")
        messages.error(request, _("Please choose one of the times shown."))
    slots = []
    if window.first_day <= window.last_day:
        slots = [s for s in ctx.slots(first_day=window.first_day, last_day=window.last_day) if window.fits(s.starts_at)]
    return render(
        request,
        "booking/series_change.html",
        {
            "service": service,
            "index": index,
            "current": current,
            "days": availability.slots_by_day(slots),
            "time_zone": window.time_zone,
            "start_param": start_param,
        },
    )


@patient_required
@require_GET
def series_checkout(request, pk):
    held = get_object_or_404(Series, pk=pk, patient=request.user)
    if not held.visits.exists():
        raise Http404
    return redirect("booking:pay_series", series_id=held.pk)
