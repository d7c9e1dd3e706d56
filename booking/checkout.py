"""Paying for held visits: open the payment, react when the money is in, release what lapsed.

Booking owns the visits; payments (a layer below) owns the money. The checkout asks payments
for the one open payment covering a hold (a visit, or a whole series), under the visits' locks
so that a hold running out, a cancellation and a payment never cross. When payments sees the
money in it sends `payments.signals.payment_succeeded`, and `on_payment_succeeded` here confirms
the visits, or, when their time was lost meanwhile, hands the money back in full.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from concierge.errors import ApplicationError, NotAllowed, TryAgainLater
from concierge.models import User
from payments import services as payments
from payments.errors import AlreadyPaid, NothingToPay
from payments.gateways import GatewayError
from payments.models import Payment, PaymentStatus
from payments.selectors import payment_paid_for

from . import services
from .errors import HoldExpired
from .models import Series, Visit, VisitStatus

logger = logging.getLogger(__name__)

S = VisitStatus


def checkout_start(*, patient: User, visit: Visit | None = None, series: Series | None = None) -> Payment:
    """The open payment for a held visit (or a whole series), with its PaymentIntent.

    Safe to call again (a reload, a second tab): it returns the same payment. Two steps: the
    payment row under the visits' locks, then the gateway outside any transaction. Raises
    HoldExpired, AlreadyPaid (its `extra["payment_id"]` is the paid one), NothingToPay,
    NotAllowed or PaymentUnavailable.
    """
    payment = _checkout_open(patient=patient, visit=visit, series=series)
    return payments.payment_intent_ensure(payment=payment)


@transaction.atomic
def _checkout_open(*, patient: User, visit: Visit | None, series: Series | None) -> Payment:
    if series is not None and visit is None:
        ids = list(series.visits.exclude(status=S.CANCELLED).values_list("pk", flat=True))
    elif visit is not None and series is None:
        ids = [visit.pk]
    else:
        raise ValueError("Pay for one visit or one series")
    now = timezone.now()
    services.visits_lock(Visit.objects.filter(pk__in=ids).only("pk", "provider_id", "patient_id"))
    visits = list(Visit.objects.filter(pk__in=ids).order_by("pk"))
    if not visits:
        raise NothingToPay()
    if any(v.patient_id != patient.pk for v in visits):
        raise NotAllowed()
    paid = payment_paid_for(visit_ids=ids)
    if paid is not None:
        raise AlreadyPaid(extra={"payment_id": paid.pk})
    if any(v.status != S.HELD for v in visits):
        if all(v.status == S.CONFIRMED for v in visits):
            raise NothingToPay(_("This visit is already booked."))
        raise HoldExpired()
    if any(not v.hold_expires_at or v.hold_expires_at <= now for v in visits):
        raise HoldExpired()
    return payments.payment_open(
        patient=patient,
        lines=[(v.pk, v.amount_due_cents) for v in visits],
        visit_id=visit.pk if visit is not None else None,
        series_id=series.pk if series is not None else None,
    )


def on_payment_succeeded(sender: type[Payment], *, payment: Payment, **kwargs: object) -> list[str]:
    """The money for a payment is in (payments' signal): confirm what it covers, or give it back.

    Runs inside the payment's transaction, with the visits and the payment locked. A series skips
    its cancelled visits; what was paid for them goes back too. Returns notes for the report.
    """
    visit_ids = list(payment.allocations.values_list("visit_id", flat=True))
    try:
        with transaction.atomic():
            # A payment is for one visit or one series (a check constraint); neither reads a row when empty.
            if payment.series is not None:
                services.series_confirm(series=payment.series)
            elif payment.visit is not None:
                services.visit_confirm(visit=payment.visit)
    except TryAgainLater:
        raise  # busy: the webhook answers 503 and the gateway delivers it again
    except ApplicationError as exc:
        return payments.payment_refund_unfulfilled(
            payment=payment, visit_ids=visit_ids, reason=str(exc.message), code=exc.code
        )
    cancelled = list(Visit.objects.filter(pk__in=visit_ids, status=S.CANCELLED).values_list("pk", flat=True))
    if not cancelled:
        return []
    return payments.payment_refund_unfulfilled(
        payment=payment,
        visit_ids=cancelled,
        reason=str(_("The visit was cancelled before the payment went through.")),
        code="cancelled",
    )


def checkouts_release_abandoned(*, now: datetime | None = None) -> list[str]:
    """Cancel open payments whose holds ran out more than PAYMENT_ABANDON_GRACE_MINUTES ago.

    The grace lets a card check that began just before the hold ran out finish (a payment that
    succeeds late is honoured if the time is still free, refunded if not). A payment already
    processing cannot be cancelled at the gateway; reconciliation follows it.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.PAYMENT_ABANDON_GRACE_MINUTES)
    lapsed = (
        Payment.objects.filter(status__in=[PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.FAILED], created_at__lt=cutoff)
        .filter(~Q(allocations__visit__status=S.HELD) | Q(allocations__visit__hold_expires_at__lt=cutoff))
        .distinct()
        .order_by("pk")
    )
    lines = []
    for payment_id in lapsed.values_list("pk", flat=True):
        try:
            lines.append(payments.payment_abandon(payment_id=payment_id))
        except (GatewayError, TryAgainLater) as exc:
            logger.warning("booking: could not release payment %s (%s)", payment_id, type(exc).__name__)
    return [line for line in lines if line]
