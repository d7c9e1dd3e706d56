"""Booking pages: coverage (public), and for patients: book, series, their visits, changes.

Each view checks who may do it, validates a form, calls one service, then redirects or renders.
Business errors (ApplicationError) become messages on the page; nothing here ends in a 500.
"""

from datetime import timedelta
from functools import wraps

from csp.decorators import csp_replace, csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from concierge.errors import ApplicationError, TryAgainLater
from concierge.models import Role
from concierge.ratelimit import rate_limit
from notifications.calendar import visit_calendar_ics, visit_calendar_title
from notifications.content import when_text
from patients import selectors as patient_selectors
from payments.errors import AlreadyPaid, PaymentUnavailable
from payments.views import STRIPE_CSP_ADD, STRIPE_CSP_FRAMES, pay_page

from . import availability, policy, selectors, services
from .checkout import checkout_start
from .errors import SlotTaken
from .forms import CancelForm, CoverageForm, SeriesStartForm, StartTimeForm, WaitlistForm, parse_start, start_param
from .models import CancelledBy, Series, Service, ServiceKind, Visit, VisitStatus

DAYS_PER_PAGE = 14
SERIES_SESSION_KEY = "booking_series_proposal"


def patient_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.has_role(Role.PATIENT):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _own_visit(request, pk):
    visit = selectors.visit_get_for_patient(patient=request.user, pk=pk)
    if visit is None:
        raise Http404
    return visit


def _service(code):
    return get_object_or_404(Service, code=code, is_active=True)


def _today(time_zone):
    return timezone.now().astimezone(availability.zone(time_zone)).date()


def _horizon(time_zone):
    return _today(time_zone) + timedelta(days=settings.BOOKING_HORIZON_DAYS)


def _parse_day(value):
    """A YYYY-MM-DD date from a link, or None (also for well-formed impossible dates)."""
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def _unavailable(request, error, *, service=None, status=200):
    return render(request, "booking/unavailable.html", {"error": error, "service": service}, status=status)


# --- coverage (public) ------------------------------------------------------------------------


@require_GET
@rate_limit("coverage", per_hour=120, methods=("GET",))
def coverage(request):
    form = CoverageForm(request.GET or None)
    result = None
    waitlist = None
    if form.is_valid():
        result = selectors.coverage_for_zip(zip_code=form.cleaned_data["zip_code"])
        if not result.covered:
            waitlist = WaitlistForm(initial={"zip_code": form.cleaned_data["zip_code"]})
    return render(request, "booking/coverage.html", {"form": form, "result": result, "waitlist": waitlist})


@require_http_methods(["GET", "POST"])
@rate_limit("waitlist", per_hour=20)
def waitlist(request):
    form = WaitlistForm(request.POST or None, initial={"zip_code": request.GET.get("zip_code", "")})
    if request.method == "POST" and form.is_valid():
        services.waitlist_join(
            zip_code=form.cleaned_data["zip_code"],
            email=form.cleaned_data["email"],
            phone=form.cleaned_data["phone"].as_e164 if form.cleaned_data["phone"] else "",
        )
        return redirect("booking:waitlist_done")
    return render(request, "booking/waitlist.html", {"waitlist": form})


@require_GET
def waitlist_done(request):
    return render(request, "booking/waitlist_done.html")


# --- booking one visit ------------------------------------------------------------------------


@patient_required
@require_GET
def book(request):
    """Step 1: which visit. Shows what the patient may book now and, if nothing, why."""
    place = selectors.visit_place_for(patient=request.user)
    eligibility = patient_selectors.booking_eligibility_for(patient=request.user)
    options = []
    for service in selectors.service_list_for_place(place=place):
        is_infusion = service.kind in (ServiceKind.INFUSION, ServiceKind.BOOSTER)
        allowed = eligibility.can_book_infusion if is_infusion else eligibility.can_book_evaluation
        options.append(
            {
                "service": service,
                "allowed": allowed,
                "series": allowed and service.kind == ServiceKind.INFUSION,
                "due": policy.amount_due_cents(service),
            }
        )
    return render(
        request,
        "booking/book.html",
        {"place": place, "options": options, "eligibility": eligibility, "covered": bool(options)},
    )


def _context_or_error(request, service, *, place=None):
    try:
        return services.booking_context(patient=request.user, service=service, place=place), None
    except ApplicationError as error:
        return None, error


def _days_page(request, *, ctx, first_param, day_url, exclude=None, preferred=None, last_allowed=None):
    tz = ctx.place.time_zone
    today = _today(tz)
    last_allowed = min(filter(None, [_horizon(tz), last_allowed]))
    first = _parse_day(first_param) or today
    first = min(max(first, today), last_allowed)
    last = min(first + timedelta(days=DAYS_PER_PAGE - 1), last_allowed)
    slots = ctx.slots(first_day=first, last_day=last, exclude_visit_id=exclude, preferred_provider_id=preferred)
    by_day = availability.slots_by_day(slots)
    days = []
    for i in range((last - first).days + 1):
        day = first + timedelta(days=i)
        days.append({"day": day, "count": len(by_day.get(day, [])), "url": day_url(day)})
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


def _last_day_for(ctx):
    return ctx.clearance.expires_on if ctx.clearance is not None else None


@patient_required
@require_GET
def book_days(request, code):
    """Step 2: the days with free times."""
    service = _service(code)
    ctx, error = _context_or_error(request, service)
    if error:
        return _unavailable(request, error, service=service)
    page = _days_page(
        request,
        ctx=ctx,
        first_param=request.GET.get("from"),
        last_allowed=_last_day_for(ctx),
        day_url=lambda day: reverse("booking:times", args=[code, day.isoformat()]),
    )
    return render(
        request,
        "booking/days.html",
        {**page, "service": service, "page_url": reverse("booking:days", args=[code])},
    )


def _times(ctx, day, *, exclude=None, preferred=None):
    return ctx.slots(first_day=day, last_day=day, exclude_visit_id=exclude, preferred_provider_id=preferred)


def _day_or_404(value, time_zone):
    day = _parse_day(value)
    if day is None or day > _horizon(time_zone):
        raise Http404
    return day


@patient_required
@require_GET
def book_times(request, code, day):
    """Step 3: the free times of one day, in the visit's time zone."""
    service = _service(code)
    ctx, error = _context_or_error(request, service)
    if error:
        return _unavailable(request, error, service=service)
    day = _day_or_404(day, ctx.place.time_zone)
    slots = _times(ctx, day)
    return render(
        request,
        "booking/times.html",
        {
            "service": service,
            "day": day,
            "slots": slots,
            "time_zone": ctx.place.time_zone,
            "choose_url": reverse("booking:review", args=[code]),
            "back_url": reverse("booking:days", args=[code]) + f"?from={day.isoformat()}",
            "start_param": start_param,
        },
    )


def _review_context(request, ctx, starts_at):
    profile = getattr(request.user, "patient_profile", None)
    return {
        "service": ctx.service,
        "ctx": ctx,
        "place": ctx.place,
        "profile": profile,
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=ctx.visit_minutes),
        "time_zone": ctx.place.time_zone,
        "due": policy.amount_due_cents(ctx.service),
        "policy_text": policy.cancellation_policy(),
        "prep": policy.PREP_INSTRUCTIONS,
        "hold_minutes": settings.BOOKING_HOLD_MINUTES,
    }


def _nearest_links(code, nearest):
    return [(moment, reverse("booking:review", args=[code]) + "?start=" + start_param(moment)) for moment in nearest]


@patient_required
@require_http_methods(["GET", "POST"])
@rate_limit("booking", per_hour=60)
def book_review(request, code):
    """Step 4: review (address, support person, price, policy, preparation), then hold the time."""
    service = _service(code)
    ctx, error = _context_or_error(request, service)
    if error:
        return _unavailable(request, error, service=service)
    form = StartTimeForm(request.POST or {"starts_at": request.GET.get("start", "")})
    if not form.is_valid():
        messages.error(request, _("Please choose a time."))
        return redirect("booking:days", code=code)
    starts_at = form.cleaned_data["starts_at"]
    page = _review_context(request, ctx, starts_at) | {"form": form}

    if request.method == "POST":
        try:
            visit = services.visit_hold(patient=request.user, service=service, starts_at=starts_at)
        except SlotTaken as taken:
            page |= {"taken": taken, "nearest": _nearest_links(code, taken.nearest)}
            return render(request, "booking/review.html", page, status=409)
        except ApplicationError as error:
            return _unavailable(request, error, service=service)
        return redirect("booking:checkout", pk=visit.pk)

    slots = _times(ctx, ctx.local_date(starts_at))
    if availability.slot_at(slots, starts_at) is None:
        page |= {
            "taken": SlotTaken(_("That time is no longer free. Please choose another time.")),
            "nearest": _nearest_links(code, [s.starts_at for s in availability.nearest(slots, starts_at)]),
        }
    return render(request, "booking/review.html", page)


# --- paying -----------------------------------------------------------------------------------
# The checkout opens the one payment for a held visit (or series) and hands over to the payment
# page (payments). Only a successful payment confirms it: payments announce the money and
# booking.checkout.on_payment_succeeded confirms the visit.


def _when(visit):
    return when_text(visit.starts_at, visit.time_zone)


def _checkout(request, *, visit=None, series=None):
    """Open the payment for this hold and send the patient to pay it; or say why not."""
    visits = list(series.visits.exclude(status=VisitStatus.CANCELLED)) if series is not None else [visit]
    try:
        payment = checkout_start(patient=request.user, visit=visit, series=series)
    except AlreadyPaid as error:
        return redirect("payments:status", payment_id=error.extra["payment_id"])
    except (PaymentUnavailable, TryAgainLater) as error:
        return render(request, "payments/unavailable.html", {"message": error.message}, status=503)
    except ApplicationError as error:  # the hold ran out, nothing to pay
        when = [{"title": visit_calendar_title(v), "when": _when(v)} for v in visits]
        return render(request, "payments/unavailable.html", {"message": error.message, "visits": when})
    return pay_page(request, payment)


@never_cache
@login_required
@require_GET
@csp_update(STRIPE_CSP_ADD)
@csp_replace(STRIPE_CSP_FRAMES)
def pay_visit(request, visit_id):
    """`booking:pay`: pay for a held visit right after holding it (the payment page). Looked up
    through request.user: another person's visit, or anyone who is not its patient, gets 404."""
    visit = get_object_or_404(Visit.objects.select_related("service"), pk=visit_id, patient=request.user)
    if visit.series_id:
        return redirect("booking:pay_series", series_id=visit.series_id)  # a series is paid together
    return _checkout(request, visit=visit)


@never_cache
@login_required
@require_GET
@csp_update(STRIPE_CSP_ADD)
@csp_replace(STRIPE_CSP_FRAMES)
def pay_series(request, series_id):
    held = get_object_or_404(Series, pk=series_id, patient=request.user)
    return _checkout(request, series=held)


@patient_required
@require_GET
def checkout(request, pk):
    """Step 5: pay for the held time (the payment page shows the hold counting down)."""
    visit = _own_visit(request, pk)
    if visit.status in (VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE, VisitStatus.IN_PROGRESS):
        return redirect("booking:visit", pk=visit.pk)
    if visit.status not in (VisitStatus.HELD, VisitStatus.EXPIRED):
        raise Http404
    return redirect("booking:pay", visit_id=visit.pk)


# --- the patient's visits ---------------------------------------------------------------------


@patient_required
@require_GET
def visit_list(request):
    return render(
        request,
        "booking/visit_list.html",
        {
            "upcoming": selectors.visit_list_for_patient(patient=request.user, upcoming=True),
            "past": selectors.visit_list_for_patient(patient=request.user, upcoming=False)[:20],
        },
    )


@patient_required
@require_GET
def visit_detail(request, pk):
    visit = _own_visit(request, pk)
    if visit.status == VisitStatus.HELD:
        return redirect("booking:checkout", pk=visit.pk)
    return render(
        request,
        "booking/visit_detail.html",
        {
            "visit": visit,
            "can_change": policy.patient_may_change(visit),
            "changeable": visit.status in policy.CHANGEABLE_STATUSES and visit.ends_at > timezone.now(),
            "policy_text": policy.cancellation_policy(),
            "prep": policy.PREP_INSTRUCTIONS,
            "cutoff_hours": settings.BOOKING_CHANGE_CUTOFF_HOURS,
            "just_booked": request.GET.get("booked") == "1" and visit.status == VisitStatus.CONFIRMED,
        },
    )


@patient_required
@require_GET
def visit_ics(request, pk):
    visit = _own_visit(request, pk)
    if visit.status not in (VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE, VisitStatus.IN_PROGRESS):
        raise Http404
    response = HttpResponse(visit_calendar_ics(visit), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="visit-{visit.pk}.ics"'
    return response


def _closed(request, visit):
    return render(
        request,
        "booking/change_closed.html",
        {"visit": visit, "policy_text": policy.cancellation_policy()},
        status=200,
    )


@patient_required
@require_http_methods(["GET", "POST"])
@rate_limit("booking", per_hour=60)
def visit_cancel(request, pk):
    visit = _own_visit(request, pk)
    if visit.status not in policy.CHANGEABLE_STATUSES:
        return redirect("booking:visit", pk=visit.pk)
    if visit.status != VisitStatus.HELD and not policy.patient_may_change(visit):
        return _closed(request, visit)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_cancel(
                visit=visit, by=CancelledBy.PATIENT, reason=form.cleaned_data["reason"], actor=request.user
            )
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("booking:visit", pk=visit.pk)
        messages.success(request, _("Your visit is cancelled. The time is free for someone else."))
        return redirect("booking:visits")
    return render(
        request, "booking/cancel.html", {"visit": visit, "form": form, "policy_text": policy.cancellation_policy()}
    )


def _reschedule_ctx(request, visit):
    return services.booking_context_for_visit(visit=visit, patient=request.user)


@patient_required
@require_GET
def visit_reschedule(request, pk):
    visit = _own_visit(request, pk)
    if not policy.patient_may_change(visit):
        return _closed(request, visit)
    try:
        ctx = _reschedule_ctx(request, visit)
    except ApplicationError as error:
        return _unavailable(request, error, service=visit.service)
    page = _days_page(
        request,
        ctx=ctx,
        first_param=request.GET.get("from"),
        exclude=visit.pk,
        preferred=visit.provider_id,
        last_allowed=_last_day_for(ctx),
        day_url=lambda day: reverse("booking:reschedule_times", args=[visit.pk, day.isoformat()]),
    )
    return render(
        request,
        "booking/days.html",
        {**page, "service": visit.service, "visit": visit, "page_url": reverse("booking:reschedule", args=[visit.pk])},
    )


@patient_required
@require_http_methods(["GET", "POST"])
@rate_limit("booking", per_hour=60)
def visit_reschedule_times(request, pk, day):
    visit = _own_visit(request, pk)
    if not policy.patient_may_change(visit):
        return _closed(request, visit)
    try:
        ctx = _reschedule_ctx(request, visit)
    except ApplicationError as error:
        return _unavailable(request, error, service=visit.service)
    day = _day_or_404(day, visit.time_zone)
    page = {
        "service": visit.service,
        "visit": visit,
        "day": day,
        "time_zone": visit.time_zone,
        "move": True,
        "back_url": reverse("booking:reschedule", args=[visit.pk]) + f"?from={day.isoformat()}",
        "start_param": start_param,
    }
    if request.method == "POST":
        form = StartTimeForm(request.POST)
        if form.is_valid():
            try:
                services.visit_reschedule(
                    visit=visit,
                    starts_at=form.cleaned_data["starts_at"],
                    by=CancelledBy.PATIENT,
                    actor=request.user,
                )
            except SlotTaken:
                page["error"] = _("That time was just taken. Please choose another time.")
            except ApplicationError as error:
                page["error"] = error.message
            else:
                messages.success(request, _("Your visit has moved. We have sent you the new time."))
                return redirect("booking:visit", pk=visit.pk)
    page["slots"] = _times(ctx, day, exclude=visit.pk, preferred=visit.provider_id)
    return render(request, "booking/times.html", page, status=409 if page.get("error") else 200)


# --- a series ---------------------------------------------------------------------------------


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
    ctx, error = _context_or_error(request, service)
    if error:
        return _unavailable(request, error, service=service)
    tz = ctx.place.time_zone
    first, last = _today(tz), min(_horizon(tz), ctx.clearance.expires_on)
    remaining = services.series_remaining(patient=request.user, clearance=ctx.clearance)
    page = {"service": service, "ctx": ctx, "time_zone": tz, "remaining": remaining, "plan": ctx.clearance}

    if request.method == "POST":
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
        page["proposal"] = _proposal_from_session(request)
        page["short"] = len(visits) < found.wanted
    if page.get("proposal"):
        page["proposal_rows"] = [
            (i, starts_at, starts_at + timedelta(minutes=ctx.visit_minutes))
            for i, (starts_at, _provider) in enumerate(page["proposal"]["visits"])
        ]
        page["total_due"] = policy.amount_due_cents(service) * len(page["proposal"]["visits"])
    return render(request, "booking/series.html", page)


@patient_required
@require_http_methods(["GET", "POST"])
@rate_limit("booking", per_hour=60)
def series_change(request, index):
    """Pick another time for one infusion of the proposal, keeping the plan's spacing."""
    service = _infusion_service()
    proposal = _proposal_from_session(request)
    if service is None or proposal is None or not 0 <= index < len(proposal["visits"]):
        return redirect("booking:series")
    ctx, error = _context_or_error(request, service)
    if error:
        return _unavailable(request, error, service=service)
    visits = proposal["visits"]
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
        low.astimezone(availability.zone(tz)).date(), (max(local_days) - window) if local_days else _today(tz)
    )
    last_day = min(
        filter(
            None,
            [
                high.astimezone(availability.zone(tz)).date() if high else None,
                (min(local_days) + window) if local_days else None,
                _horizon(tz),
                ctx.clearance.expires_on,
            ],
        )
    )

    def fits(starts_at):
        day = starts_at.astimezone(availability.zone(tz)).date()
        return starts_at >= low and (high is None or starts_at <= high) and first_day <= day <= last_day

    if request.method == "POST":
        form = StartTimeForm(request.POST)
        if form.is_valid() and fits(form.cleaned_data["starts_at"]):
            visits[index] = (form.cleaned_data["starts_at"], None)
            visits.sort(key=lambda v: v[0])
            _proposal_to_session(
                request,
                first_day=_parse_day(proposal["first_day"]),
                part_of_day=proposal["part_of_day"],
                visits=visits,
            )
            return redirect(reverse("booking:series") + "?keep=1")
        messages.error(request, _("Please choose one of the times shown."))
    slots = []
    if first_day <= last_day:
        slots = [s for s in ctx.slots(first_day=first_day, last_day=last_day) if fits(s.starts_at)]
    return render(
        request,
        "booking/series_change.html",
        {
            "service": service,
            "index": index,
            "current": current,
            "days": availability.slots_by_day(slots),
            "time_zone": tz,
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
