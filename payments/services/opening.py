"""Opening a payment: the one open payment for held visits, and its PaymentIntent at the gateway.

Booking's checkout calls `payment_open` inside its transaction, holding the visits' locks, then
`payment_intent_ensure` outside any transaction, so that no lock is held while the gateway answers.
Both are safe to repeat: the open payment and its idempotency key are found again.
"""

import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from concierge.locking import lock_rows
from concierge.models import User

from ..errors import AlreadyPaid, NothingToPay, PaymentUnavailable
from ..gateways import GatewayError, IntentResult, gateway_for, gateway_name
from ..models import OPEN_STATUSES, PAID_STATUSES, Payment, PaymentAllocation

# One logger name for the whole package, as before the split: log filters keyed on it still match.
logger = logging.getLogger(__package__)


# What the gateway's dashboard and the card statement lines see: never what the visit is for.
DESCRIPTION = "ConciergeMD visit"


def payment_open(
    *, patient: User, lines: Sequence[tuple[int, int]], visit_id: int | None = None, series_id: int | None = None
) -> Payment:
    """The open payment for these visits (made if needed): `lines` is [(visit id, cents due)].

    Booking's checkout calls this inside its transaction, holding the visits' locks, after it has
    checked that they are the patient's and still held. One payment covers one visit or one
    series (`visit_id` or `series_id`); asking again returns the same open payment. Raises
    AlreadyPaid when any of the visits is paid already, NothingToPay when nothing is due.
    """
    if (visit_id is None) == (series_id is None):
        raise ValueError("Pay for one visit or one series")
    visit_ids = [visit for visit, _cents in lines]
    if not visit_ids:
        raise NothingToPay()
    paid = Payment.objects.filter(allocations__visit__in=visit_ids, status__in=PAID_STATUSES).first()
    if paid is not None:
        raise AlreadyPaid(extra={"payment_id": paid.pk})
    covers = Q(series_id=series_id) if series_id else Q(visit_id=visit_id)
    existing = Payment.objects.filter(covers, status__in=OPEN_STATUSES).first()
    if existing is not None:
        return existing
    amount = sum(cents for _visit, cents in lines)
    if amount <= 0:
        raise NothingToPay()
    payment = Payment(
        patient=patient,
        visit_id=visit_id,
        series_id=series_id,
        amount_cents=amount,
        currency=settings.PAYMENT_CURRENCY,
        gateway=gateway_name(),
    )
    payment.full_clean(exclude=["visit", "series"])
    payment.save()
    lock_rows({Payment: [payment.pk]})
    PaymentAllocation.objects.bulk_create(
        [PaymentAllocation(payment=payment, visit_id=visit, amount_cents=cents) for visit, cents in lines]
    )
    return payment


def payment_intent_ensure(*, payment: Payment) -> Payment:
    """The payment with its PaymentIntent, asked of the gateway if it was never recorded.

    Outside any transaction (no lock is held while the network answers). Safe to call again (a
    reload, a second tab, a retry after a crash): the gateway answers the same idempotency key with
    the same intent, so nothing is created twice. Raises PaymentUnavailable.
    """
    if payment.intent_id:
        return payment
    gateway = gateway_for(payment.gateway)
    try:
        intent = gateway.intent_create(
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            idempotency_key=payment.idempotency_key,
            description=DESCRIPTION,
            metadata={"payment_id": payment.pk},
        )
    except GatewayError as exc:  # GatewayUnavailable included
        logger.error("payments: payment %s not started at the gateway (%s)", payment.pk, exc.code or "unavailable")
        raise PaymentUnavailable() from exc
    return _payment_intent_record(payment_id=payment.pk, intent=intent)


@transaction.atomic
def _payment_intent_record(*, payment_id: int, intent: IntentResult) -> Payment:
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    if not payment.intent_id:
        payment.intent_id = intent.id
        payment.client_secret = intent.client_secret
        payment.full_clean()
        payment.save(update_fields=["intent_id", "client_secret", "updated_at"])
    return payment
