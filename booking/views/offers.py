"""The waitlist for freed times (patients): join it with the times one would take, leave it, and
answer an offer (take the time and pay, or let it go to the next person)."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from concierge.errors import ApplicationError
from concierge.ratelimit import rate_limit

from .. import policy, services
from ..errors import SlotTaken
from ..forms import OfferAnswerForm, TimeWaitlistForm
from ..models import PartOfDay, TimeOffer, TimeOfferStatus, VisitStatus
from .common import context_or_error, local_today, patient_required, service_or_404, unavailable

WISH_DAYS = 28  # the dates offered by default: the next four weeks


@patient_required
@require_http_methods(["GET", "POST"])
@rate_limit("booking", per_hour=60)
def time_waitlist(request, code):
    """Join the waitlist for this visit (or change one's wishes), or leave it."""
    service = service_or_404(code)
    ctx, error = context_or_error(request, service)
    if error:
        return unavailable(request, error, service=service)
    entry = services.time_waitlist_for(patient=request.user, service=service)
    if request.method == "POST" and request.POST.get("leave") and entry is not None:
        services.time_waitlist_leave(entry=entry, patient=request.user)
        messages.success(request, _("You have left the waitlist."))
        return redirect("booking:days", code=code)
    today = local_today(ctx.place.time_zone)
    initial = (
        {
            "weekdays": sorted(entry.weekday_numbers),
            "parts_of_day": sorted(entry.parts),
            "first_day": entry.first_day,
            "last_day": entry.last_day,
        }
        if entry is not None
        else {
            "weekdays": [0, 1, 2, 3, 4],
            "parts_of_day": [p for p, _label in PartOfDay.choices],
            "first_day": today,
            "last_day": today + timedelta(days=WISH_DAYS),
        }
    )
    form = TimeWaitlistForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.time_waitlist_join(patient=request.user, service=service, **form.cleaned_data)
        except ApplicationError as problem:
            form.add_error(None, problem.message)
        else:
            messages.success(
                request,
                _("You are on the waitlist. When a time that fits frees up, we text and email you a link."),
            )
            return redirect("booking:time_waitlist", code=code)
    return render(
        request,
        "booking/time_waitlist.html",
        {"service": service, "form": form, "entry": entry, "offer_minutes": settings.WAITLIST_OFFER_MINUTES},
    )


def _own_offer(request, pk):
    offer = (
        TimeOffer.objects.select_related("visit__service", "entry").filter(pk=pk, entry__patient=request.user).first()
    )
    if offer is None:
        raise Http404
    return offer


@patient_required
@require_http_methods(["GET", "POST"])
@rate_limit("booking", per_hour=60)
def offer(request, pk):
    """An offered time: take it (then pay), or say it does not suit (the next person gets it)."""
    offered = _own_offer(request, pk)
    visit = offered.visit
    page = {
        "offer": offered,
        "visit": visit,
        "service": visit.service,
        "time_zone": visit.time_zone,
        "due": visit.amount_due_cents,
        "policy_text": policy.cancellation_policy(),
        "prep": policy.PREP_INSTRUCTIONS,
        "open": offered.status == TimeOfferStatus.OPEN and offered.expires_at > timezone.now(),
    }
    if request.method == "POST":
        form = OfferAnswerForm(request.POST)
        if not form.is_valid():
            return redirect("booking:offer", pk=pk)
        try:
            if form.cleaned_data["answer"] == "decline":
                services.waitlist_offer_decline(offer=offered, patient=request.user)
                messages.info(request, _("Thank you. You stay on the waitlist for other times."))
                return redirect("booking:time_waitlist", code=visit.service.code)
            held = services.waitlist_offer_accept(offer=offered, patient=request.user)
        except SlotTaken:
            page["gone"] = True
            return render(request, "booking/offer.html", page, status=409)
        except ApplicationError as problem:
            page["problem"] = problem.message
            return render(request, "booking/offer.html", page)
        return redirect("booking:checkout", pk=held.pk)
    if offered.status == TimeOfferStatus.ACCEPTED and visit.status in (VisitStatus.HELD, VisitStatus.CONFIRMED):
        return redirect("booking:checkout", pk=visit.pk)
    return render(request, "booking/offer.html", page)
