"""The patient's own visits: the list, one visit, its calendar file, cancelling and rescheduling."""

import logging

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from concierge.errors import ApplicationError
from concierge.ratelimit import rate_limit
from notifications.calendar import calendar_links, visit_calendar_ics, visits_calendar_feed
from patients.selectors import cancellation_alert_open
from payments.display import money, refund_days_words
from payments.selectors import refund_automatic_for_visit

from .. import policy, selectors, services
from ..errors import SlotTaken
from ..forms import CancelForm, StartTimeForm
from ..models import CancelledBy, VisitStatus
from ..templatetags.booking_tags import visit_day_short, visit_time
from .common import (
    day_or_404,
    day_slots,
    days_page,
    last_day_for,
    own_visit,
    patient_required,
    time_choices,
    unavailable,
)

logger = logging.getLogger(__name__)


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
    """The confirmation and the visit page: when, where, who, how to prepare, money, changes."""
    visit = own_visit(request, pk)
    if visit.status == VisitStatus.HELD:
        return redirect("booking:checkout", pk=visit.pk)
    booked = visit.status in (VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE, VisitStatus.IN_PROGRESS)
    feed = services.calendar_feed_for(patient=request.user) if booked else None
    hold = services.hold_open_for(visit) if visit.status == VisitStatus.ON_HOLD else None
    return render(
        request,
        "booking/visit_detail.html",
        {
            "visit": visit,
            "booked": booked,
            "hold": selectors.HoldNotice(count=1, safety=hold.safety) if hold is not None else None,
            "can_change": policy.patient_may_change(visit),
            "changeable": visit.status in policy.CHANGEABLE_STATUSES and visit.ends_at > timezone.now(),
            "policy_text": policy.cancellation_policy(),
            "prep": policy.PREP_INSTRUCTIONS,
            "cutoff_hours": settings.BOOKING_CHANGE_CUTOFF_HOURS,
            "just_booked": request.GET.get("booked") == "1" and visit.status == VisitStatus.CONFIRMED,
            "money": selectors.visit_money_for(visit=visit),
            "carer": selectors.visit_carer_for(visit=visit),
            "calendar": calendar_links(visit) if booked else None,
            "feed_url": _feed_url(request, feed) if feed else "",
            "sections": visit_sections(),
            "refund": refund_automatic_for_visit(visit_id=visit.pk) if visit.status == VisitStatus.CANCELLED else None,
        },
    )


def _feed_url(request, feed):
    return request.build_absolute_uri(reverse("booking:calendar_feed", args=[feed.token]))


def visit_sections():
    """Other apps' parts of the visit page (settings.PATIENT_VISIT_SECTIONS: the live status)."""
    found = []
    for name in settings.PATIENT_VISIT_SECTIONS:
        try:
            found.append(get_template(name))
        except TemplateDoesNotExist:
            logger.error("visit page: section template %s is missing", name)
    return found


@require_GET
def calendar_feed(request, token):
    """The patient's calendar subscription: no login (calendar apps cannot log in); the token is the key."""
    feed = selectors.calendar_feed_get(token=token)
    if feed is None:
        raise Http404
    visits, cancelled = selectors.visit_list_for_feed(patient=feed.patient)
    response = HttpResponse(
        visits_calendar_feed(visits, cancelled=cancelled), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, max-age=900"
    return response


@patient_required
@require_POST
def calendar_feed_reset(request):
    services.calendar_feed_reset(patient=request.user)
    messages.success(
        request,
        _("Your calendar address is new. Calendars that used the old one stop updating: subscribe again below."),
    )
    next_pk = request.POST.get("visit", "")
    if next_pk.isdigit() and selectors.visit_get_for_patient(patient=request.user, pk=int(next_pk)):
        return redirect(reverse("booking:visit", args=[int(next_pk)]) + "#calendar")
    return redirect("booking:visits")


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


def _change_refused(request, visit, *, cancelling=False):
    """The page for a visit the patient may not change online now, or None when they may.

    One no longer held or booked (cancelled in another tab, say) goes to its own page; one inside
    the cut-off, to "call us". A hold nobody has paid for may always be cancelled."""
    if visit.status not in policy.CHANGEABLE_STATUSES:
        return redirect("booking:visit", pk=visit.pk)
    if not (cancelling and visit.status == VisitStatus.HELD) and not policy.patient_may_change(visit):
        return _closed(request, visit)
    return None


@patient_required
@require_http_methods(["GET", "POST"])
@rate_limit("booking", per_hour=60)
def visit_cancel(request, pk):
    visit = own_visit(request, pk)
    if refused := _change_refused(request, visit, cancelling=True):
        return refused
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_cancel(
                visit=visit, by=CancelledBy.PATIENT, reason=form.cleaned_data["reason"], actor=request.user
            )
        except ApplicationError as error:
            messages.error(request, error.message)
            return redirect("booking:visit", pk=visit.pk)
        refund = refund_automatic_for_visit(visit_id=visit.pk)
        if refund is not None:
            messages.success(
                request,
                _("Your visit is cancelled. We are refunding %(amount)s to your card (%(days)s).")
                % {"amount": money(refund.amount_cents), "days": refund_days_words()},
            )
        else:
            messages.success(request, _("Your visit is cancelled. Nothing was charged for it."))
        if cancellation_alert_open(visit_id=visit.pk):
            # Their reason suggests danger (services.visit_cancel raised the alert): 988 and 911 first.
            return redirect("booking:cancel_support", pk=visit.pk)
        return redirect("booking:visits")
    return render(
        request,
        "booking/cancel.html",
        {
            "visit": visit,
            "form": form,
            "policy_text": policy.cancellation_policy(),
            "money": selectors.visit_money_for(visit=visit),
        },
    )


@patient_required
@require_GET
def cancel_support(request, pk):
    """After a cancellation whose reason suggests danger: the crisis panel, while the alert is open."""
    visit = own_visit(request, pk)
    if not cancellation_alert_open(visit_id=visit.pk):
        return redirect("booking:visits")
    return render(request, "booking/cancel_support.html", {"visit": visit})


def _reschedule_ctx(request, visit):
    return services.booking_context_for_visit(visit=visit, patient=request.user)


@patient_required
@require_GET
def visit_reschedule(request, pk):
    visit = own_visit(request, pk)
    if refused := _change_refused(request, visit):
        return refused
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
        choose_url=lambda day: reverse("booking:reschedule_times", args=[visit.pk, day.isoformat()]),
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
    """A day's free times; choosing one shows old -> new and the money before anything moves."""
    visit = own_visit(request, pk)
    if refused := _change_refused(request, visit):
        return refused
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
        "choose_url": reverse("booking:reschedule_times", args=[visit.pk, day.isoformat()]),
        "back_url": reverse("booking:reschedule", args=[visit.pk]) + f"?from={day.isoformat()}",
    }
    form = StartTimeForm(request.POST if request.method == "POST" else {"starts_at": request.GET.get("start", "")})
    if form.is_valid():
        starts_at = form.cleaned_data["starts_at"]
        old_starts_at, old_ends_at = visit.starts_at, visit.ends_at
        if request.method == "POST":
            try:
                services.visit_reschedule(visit=visit, starts_at=starts_at, by=CancelledBy.PATIENT, actor=request.user)
            except SlotTaken:
                page["error"] = _("That time was just taken. Please choose another time.")
            except ApplicationError as error:
                page["error"] = error.message
            else:
                visit.refresh_from_db()
                messages.success(
                    request,
                    _("Your visit has moved from %(old)s to %(new)s. We have sent you the new time.")
                    % {"old": _when(old_starts_at, visit.time_zone), "new": _when(visit.starts_at, visit.time_zone)},
                )
                return redirect("booking:visit", pk=visit.pk)
        else:
            duration = old_ends_at - old_starts_at
            return render(
                request,
                "booking/reschedule_confirm.html",
                page
                | {
                    "form": form,
                    "new_starts_at": starts_at,
                    "new_ends_at": starts_at + duration,
                    "money": selectors.visit_money_for(visit=visit),
                },
            )
    slots = day_slots(ctx, day, exclude=visit.pk, preferred=visit.provider_id)
    page["times"] = time_choices(slots, time_zone=visit.time_zone, choose_url=page["choose_url"])
    return render(request, "booking/times.html", page, status=409 if page.get("error") else 200)


def _when(moment, tz):
    return f"{visit_day_short(moment, tz)}, {visit_time(moment, tz)}"
