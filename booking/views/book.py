"""Booking one visit: which visit, the days with free times, one day's times, review and hold."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from concierge.errors import ApplicationError
from concierge.patient_state import patient_page_kept
from concierge.ratelimit import rate_limit
from patients import selectors as patient_selectors

from .. import availability, policy, selectors, services
from ..errors import SlotTaken
from ..forms import StartTimeForm
from ..models import ServiceKind
from .common import (
    context_or_error,
    day_or_404,
    day_slots,
    days_page,
    last_day_for,
    patient_required,
    service_or_404,
    start_link,
    time_choices,
    unavailable,
)


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
        due = policy.amount_due_cents(service)
        options.append(
            {
                "service": service,
                "allowed": allowed,
                "series": allowed and service.kind == ServiceKind.INFUSION,
                "due": due,
                "money": policy.money_words(price_cents=service.price_cents, due_cents=due),
            }
        )
    return render(
        request,
        "booking/book.html",
        {"place": place, "options": options, "eligibility": eligibility, "covered": bool(options)},
    )


@patient_required
@require_GET
@patient_page_kept
def book_days(request, code):
    """Step 2: the days with free times."""
    service = service_or_404(code)
    ctx, error = context_or_error(request, service)
    if error:
        return unavailable(request, error, service=service)
    review_url = reverse("booking:review", args=[code])
    page = days_page(
        request,
        ctx=ctx,
        first_param=request.GET.get("from"),
        last_allowed=last_day_for(ctx),
        choose_url=lambda day: review_url,
    )
    return render(
        request,
        "booking/days.html",
        {**page, "service": service, "page_url": reverse("booking:days", args=[code])},
    )


@patient_required
@require_GET
@patient_page_kept
def book_times(request, code, day):
    """Step 3: the free times of one day, in the visit's time zone."""
    service = service_or_404(code)
    ctx, error = context_or_error(request, service)
    if error:
        return unavailable(request, error, service=service)
    day = day_or_404(day, ctx.place.time_zone)
    slots = day_slots(ctx, day)
    return render(
        request,
        "booking/times.html",
        {
            "service": service,
            "day": day,
            "times": time_choices(
                slots, time_zone=ctx.place.time_zone, choose_url=reverse("booking:review", args=[code])
            ),
            "note": "" if slots else ctx.day_note(day),
            "back_url": reverse("booking:days", args=[code]) + f"?from={day.isoformat()}",
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
        "money": policy.money_words(
            price_cents=ctx.service.price_cents, due_cents=policy.amount_due_cents(ctx.service), starts_at=starts_at
        ),
        "inside_cutoff": policy.inside_change_cutoff(starts_at),
        "cutoff_hours": settings.BOOKING_CHANGE_CUTOFF_HOURS,
        "policy_text": policy.cancellation_policy(),
        "prep": policy.PREP_INSTRUCTIONS,
        "hold_minutes": settings.BOOKING_HOLD_MINUTES,
    }


def _nearest_links(code, nearest):
    review_url = reverse("booking:review", args=[code])
    return [(moment, start_link(review_url, moment)) for moment in nearest]


@patient_required
@require_http_methods(["GET", "POST"])
@rate_limit("booking", per_hour=60)
def book_review(request, code):
    """Step 4: review (address, support person, price, policy, preparation), then hold the time."""
    service = service_or_404(code)
    ctx, error = context_or_error(request, service)
    if error:
        return unavailable(request, error, service=service)
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
            return unavailable(request, error, service=service)
        return redirect("booking:checkout", pk=visit.pk)

    slots = day_slots(ctx, ctx.local_date(starts_at))
    if availability.slot_at(slots, starts_at) is None:
        page |= {
            "taken": SlotTaken(_("That time is no longer free. Please choose another time.")),
            "nearest": _nearest_links(code, [s.starts_at for s in availability.nearest(slots, starts_at)]),
        }
    return render(request, "booking/review.html", page)
