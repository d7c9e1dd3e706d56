"""The patient's own visits: the list, one visit, its calendar file, cancelling and rescheduling."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from concierge.errors import ApplicationError
from concierge.ratelimit import rate_limit
from notifications.calendar import visit_calendar_ics

from .. import policy, selectors, services
from ..errors import SlotTaken
from ..forms import CancelForm, StartTimeForm, start_param
from ..models import CancelledBy, VisitStatus
from .common import day_or_404, day_slots, days_page, last_day_for, own_visit, patient_required, unavailable


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
    visit = own_visit(request, pk)
    if visit.status == VisitStatus.HELD:
        return redirect("booking:checkout", pk=visit.pk)
    hold = services.hold_open_for(visit) if visit.status == VisitStatus.ON_HOLD else None
    return render(
        request,
        "booking/visit_detail.html",
        {
            "visit": visit,
            "hold": selectors.HoldNotice(visits=[visit], safety=hold.safety) if hold is not None else None,
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
    visit = own_visit(request, pk)
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
    visit = own_visit(request, pk)
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
    visit = own_visit(request, pk)
    if not policy.patient_may_change(visit):
        return _closed(request, visit)
    try:
        ctx = _reschedule_ctx(request, visit)
    except ApplicationError as error:
        return unavailable(request, error, service=visit.service)
    page = days_page(
        request,
        ctx=ctx,
        first_param=request.GET.get("from"),
        exclude=visit.pk,
        preferred=visit.provider_id,
        last_allowed=last_day_for(ctx),
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
    visit = own_visit(request, pk)
    if not policy.patient_may_change(visit):
        return _closed(request, visit)
    try:
        ctx = _reschedule_ctx(request, visit)
    except ApplicationError as error:
        return unavailable(request, error, service=visit.service)
    day = day_or_404(day, visit.time_zone)
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
    page["slots"] = day_slots(ctx, day, exclude=visit.pk, preferred=visit.provider_id)
    return render(request, "booking/times.html", page, status=409 if page.get("error") else 200)
