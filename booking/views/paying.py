"""Paying for a hold: the checkout opens the one payment for a held visit (or series) and hands
over to the payment page (payments). Only a successful payment confirms it: payments announce the
money and booking.checkout.on_payment_succeeded confirms the visit.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from concierge.errors import ApplicationError, TryAgainLater
from notifications.calendar import visit_calendar_title
from notifications.content import when_text
from payments.errors import AlreadyPaid, PaymentUnavailable
from payments.views import pay_page, stripe_csp

from ..checkout import checkout_start
from ..models import Series, Visit, VisitStatus
from .common import own_visit, patient_required


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
@stripe_csp
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
@stripe_csp
def pay_series(request, series_id):
    held = get_object_or_404(Series, pk=series_id, patient=request.user)
    return _checkout(request, series=held)


@patient_required
@require_GET
def checkout(request, pk):
    """Step 5: pay for the held time (the payment page shows the hold counting down)."""
    visit = own_visit(request, pk)
    if visit.status in (VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE, VisitStatus.IN_PROGRESS):
        return redirect("booking:visit", pk=visit.pk)
    if visit.status not in (VisitStatus.HELD, VisitStatus.EXPIRED):
        raise Http404
    return redirect("booking:pay", visit_id=visit.pk)
