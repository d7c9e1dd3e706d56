"""Money use cases: open a payment for visits, follow the gateway, refund, reconcile.

The money rules (docs/design.md): no confirmed visit without a successful payment, no payment kept
without a visit, nothing charged or refunded twice.

Payments know money, not the visit life cycle (booking, a layer above, owns that):

- Booking's checkout locks the held visits, checks them, and asks `payment_open` for the one
  open payment covering them (one per visit or series, with its own idempotency key), then
  `payment_intent_ensure` outside any transaction for its PaymentIntent. A declined card is
  retried on the same intent.
- `payment_sync` is the one place where the gateway's view of an intent reaches our rows; the
  webhook, the return page and reconciliation all call it. It locks (concierge/locking.py: the
  visits' providers and patients, the visits, then the payment) and moves the status forward
  only. The first sync that sees the money in sends `signals.payment_succeeded`; booking's
  receiver confirms the visits, or hands the money back (`payment_refund_unfulfilled`) when the
  time could not be kept. Then the receipt goes out, once, through the outbox.
- A refund is a row first (with its own idempotency key), sent to the gateway after commit by
  a task; its status then follows the gateway's events (`refund_sync`). Booking decides how
  much of a cancelled visit goes back (booking/policy.py) and records it with `refund_for_visit`.

Gateway calls never happen while we hold row locks: a slow network must not block bookings.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import InvalidState, NotAllowed, TryAgainLater
from concierge.locking import lock_rows
from concierge.tasks import enqueue_on_commit

from . import notices
from .display import money
from .errors import AlreadyPaid, NothingToPay, PaymentUnavailable, RefundNotAllowed, RefundTooLarge
from .gateways import GatewayError, GatewayUnavailable, gateway_for, gateway_name
from .gateways.types import intent_from_dict
from .locking import lock_timeout
from .models import (
    OPEN_STATUSES,
    PAID_STATUSES,
    REFUND_COUNTING_STATUSES,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
    WebhookEvent,
)
from .selectors import refund_automatic_for_visit
from .signals import payment_succeeded

logger = logging.getLogger(__name__)

S = PaymentStatus

# What the gateway's dashboard and the card statement lines see: never what the visit is for.
DESCRIPTION = "ConciergeMD visit"

# A refund's status moves forward only; Stripe may still fail a refund that had succeeded.
REFUND_RANK = {
    RefundStatus.PENDING: 0,
    RefundStatus.REQUIRES_ACTION: 0,
    RefundStatus.SUCCEEDED: 1,
    RefundStatus.FAILED: 2,
    RefundStatus.CANCELLED: 2,
}
_GATEWAY_REFUND_STATUS = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.REQUIRES_ACTION,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELLED,
}


# --- locks ------------------------------------------------------------------------------------


def _payment_locked(payment_id):
    """The payment, fresh and locked after its visits' providers, patients and the visits themselves.

    concierge/locking.py's one order: a payment confirming a visit and a cancellation of that
    visit (booking locks the visit, then asks us to refund) queue up, never deadlock.
    """
    rows = list(
        PaymentAllocation.objects.filter(payment_id=payment_id).values_list(
            "visit_id", "visit__provider_id", "visit__patient_id"
        )
    )
    lock_rows(
        {
            "roster.Provider": [provider for _visit, provider, _patient in rows],
            "concierge.User": [patient for _visit, _provider, patient in rows],
            "booking.Visit": [visit for visit, _provider, _patient in rows],
            Payment: [payment_id],
        }
    )
    return Payment.objects.get(pk=payment_id)


# --- opening a payment ------------------------------------------------------------------------


def payment_open(*, patient, lines, visit_id=None, series_id=None):
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
    open_payments = Payment.objects.filter(status__in=OPEN_STATUSES)
    existing = (
        open_payments.filter(series_id=series_id) if series_id else open_payments.filter(visit_id=visit_id)
    ).first()
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


def payment_intent_ensure(*, payment):
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
def _payment_intent_record(*, payment_id, intent):
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    if not payment.intent_id:
        payment.intent_id = intent.id
        payment.client_secret = intent.client_secret
        payment.full_clean()
        payment.save(update_fields=["intent_id", "client_secret", "updated_at"])
    return payment


# --- following the gateway --------------------------------------------------------------------


def _status_of(intent):
    if intent.status == "succeeded":
        return S.SUCCEEDED
    if intent.status in ("processing", "requires_capture"):
        return S.PROCESSING
    if intent.status == "canceled":
        return S.CANCELLED
    if intent.status == "requires_payment_method" and intent.failure_message:
        return S.FAILED
    return S.REQUIRES_PAYMENT


@transaction.atomic
def payment_sync(*, payment, intent, source):
    """Bring a payment in line with the gateway's intent; returns what changed ("" if nothing).

    Moves forward only: a late "payment failed" never undoes "paid", a "processing" read
    before "succeeded" but applied after it changes nothing. The first caller to see the
    intent succeeded confirms the visit(s); if they can no longer be confirmed (the hold ran out
    and the time was taken, or the visit was cancelled meanwhile) the money goes back at once.
    """
    now = timezone.now()
    with lock_timeout():
        payment = _payment_locked(payment.pk)
        if payment.intent_id and intent.id != payment.intent_id:
            logger.error("payments: intent %s does not belong to payment %s", intent.id, payment.pk)
            return ""
        before = payment.status
        target = _status_of(intent)
        notes = []
        fields = set()
        if not payment.intent_id:
            payment.intent_id = intent.id
            fields.add("intent_id")
        if target == S.SUCCEEDED and not payment.is_paid:
            # Also from CANCELLED: money was taken after all (the patient paid as we cancelled).
            payment.status = S.SUCCEEDED
            payment.succeeded_at = now
            payment.failure_message = ""
            fields |= {"status", "succeeded_at", "failure_message"}
        elif target == S.PROCESSING and payment.status in (S.REQUIRES_PAYMENT, S.FAILED):
            payment.status = S.PROCESSING
            fields.add("status")
        elif target == S.FAILED and payment.is_open:
            if payment.status != S.FAILED or payment.failure_message != intent.failure_message:
                payment.status = S.FAILED
                payment.failure_message = intent.failure_message[:255]
                fields |= {"status", "failure_message"}
        elif target == S.CANCELLED and payment.is_open:
            payment.status = S.CANCELLED
            payment.cancelled_at = now
            fields |= {"status", "cancelled_at"}
        if payment.is_paid and intent.charge_id and not payment.charge_id:
            payment.charge_id = intent.charge_id
            fields.add("charge_id")
        if fields:
            payment.full_clean()
            payment.save(update_fields=[*fields, "updated_at"])
        if before not in PAID_STATUSES and payment.is_paid:
            notes += _payment_fulfil(payment)
        if payment.is_paid and intent.disputed and payment.status != S.DISPUTED:
            notes.append(_dispute_mark(payment, dispute_id="", dispute_status="", now=now))
    if payment.status == before and not notes:
        return ""
    line = f"payment {payment.pk}: {before} -> {payment.status} ({source})"
    return "; ".join([line, *notes])


def _payment_fulfil(payment):
    """The money is in: booking confirms the visit(s) or hands the money back; then the receipt.

    Booking's receiver of `payment_succeeded` runs here, inside our transaction and under our
    locks; "busy" (TryAgainLater) rolls everything back and the webhook answers 503.
    """
    notes = []
    for _receiver, response in payment_succeeded.send(sender=Payment, payment=payment):
        notes += response or []
    unfulfilled = set(payment.refunds.filter(reason_code=RefundReason.UNFULFILLED).values_list("visit_id", flat=True))
    kept = [a for a in payment.allocations.all() if a.visit_id not in unfulfilled]
    if kept and payment.receipt_sent_at is None:
        payment.receipt_sent_at = timezone.now()
        payment.save(update_fields=["receipt_sent_at", "updated_at"])
        notices.receipt_enqueue(payment)
        notes.append("confirmed")
    return notes


@transaction.atomic
def payment_refund_unfulfilled(*, payment, visit_ids, reason, code):
    """The money for these visits came in but the visits could not be kept: it all goes back.

    Booking calls this from its `payment_succeeded` receiver (the time was taken meanwhile, or
    the visit was cancelled while the patient paid). Once per visit; the patient gets one notice
    and staff one alert. Returns notes for the caller's report.
    """
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    refunds = []
    for allocation in payment.allocations.filter(visit_id__in=visit_ids).order_by("visit_id"):
        already = Refund.objects.filter(
            visit_id=allocation.visit_id, reason_code__in=[RefundReason.CANCELLATION, RefundReason.UNFULFILLED]
        ).exists()
        amount = min(allocation.amount_cents, payment.refundable_cents)
        if already or amount <= 0:
            continue
        refunds.append(
            _refund_record(
                payment=payment,
                amount_cents=amount,
                reason_code=RefundReason.UNFULFILLED,
                reason=reason,
                visit_id=allocation.visit_id,
            )
        )
    if not refunds:
        return []
    total = sum(r.amount_cents for r in refunds)
    notices.refund_notice_enqueue(payment, total)
    notices.staff_alert(
        key=f"unfulfilled-{payment.pk}",
        subject="Payment refunded: the booked time could not be kept",
        body=(
            f"Payment P-{payment.pk} ({money(payment.amount_cents)}) succeeded, but the visit could not be "
            f"confirmed ({code}). {money(total)} is being refunded automatically and the patient has been "
            f"emailed. Please call them to find another time.\n{notices.admin_url(payment)}"
        ),
    )
    return [f"could not confirm ({code}): refunding {money(total)}"]


# --- refunds ----------------------------------------------------------------------------------


def _payment_refunds_total(payment):
    """Recount what has gone (or is going) back, and the payment's status with it."""
    total = payment.refunds.filter(status__in=REFUND_COUNTING_STATUSES).aggregate(s=Sum("amount_cents"))["s"] or 0
    payment.amount_refunded_cents = min(total, payment.amount_cents)
    if payment.is_paid and payment.status != S.DISPUTED:
        if payment.amount_refunded_cents >= payment.amount_cents:
            payment.status = S.REFUNDED
        elif payment.amount_refunded_cents:
            payment.status = S.PARTIALLY_REFUNDED
        else:
            payment.status = S.SUCCEEDED
    payment.save(update_fields=["amount_refunded_cents", "status", "updated_at"])


def _refund_record(*, payment, amount_cents, reason_code, reason, visit_id=None, actor=None):
    """Write a refund (the caller holds the payment's lock); the gateway hears of it after commit."""
    refund = Refund(
        payment=payment,
        visit_id=visit_id,
        amount_cents=amount_cents,
        reason_code=reason_code,
        reason=str(reason),
        created_by=actor,
    )
    refund.full_clean(exclude=["visit"])
    refund.save()
    _payment_refunds_total(payment)
    enqueue_on_commit("payments.tasks.payment_refund_submit", refund.pk)
    return refund


def visit_paid_allocation(*, visit_id):
    """What was paid for this visit (its allocation on the paid payment), or None."""
    return (
        PaymentAllocation.objects.filter(visit_id=visit_id, payment__status__in=PAID_STATUSES)
        .select_related("payment")
        .order_by("payment_id")
        .first()
    )


@transaction.atomic
def visit_payments_cancel_open(*, visit_id, note):
    """The visit will not be kept: its open payments can no longer be paid (intents cancelled after commit)."""
    with lock_timeout():
        for allocation in PaymentAllocation.objects.filter(visit_id=visit_id).select_related("payment"):
            if allocation.payment.is_open:
                _payment_cancel_open(allocation.payment, note=note)


@transaction.atomic
def refund_for_visit(*, payment, visit_id, amount_cents, reason_code, reason):
    """An automatic refund for one visit (cancellation policy, or a time that could not be kept).

    At most one per visit: asking again returns the first. At most what is still refundable.
    The caller (booking) holds the visit's lock; the payment is locked here, after it.
    Returns the Refund, or None when nothing goes back.
    """
    with lock_timeout():
        existing = refund_automatic_for_visit(visit_id=visit_id)
        if existing is not None:
            return existing
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        amount = min(amount_cents, payment.refundable_cents)
        if amount <= 0:
            return None
        return _refund_record(
            payment=payment, amount_cents=amount, reason_code=reason_code, reason=reason, visit_id=visit_id
        )


@transaction.atomic
def refund_create(*, payment, amount_cents, reason, actor):
    """A staff refund of any amount up to what is still refundable, with a reason."""
    if actor is None or not actor.has_perm("payments.refund_payment"):
        raise NotAllowed()
    reason = (reason or "").strip()
    if not reason:
        raise RefundNotAllowed(_("Say why you are refunding."))
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise RefundNotAllowed(_("The amount must be more than $0.00."))
    with lock_timeout():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if not payment.is_paid:
            raise InvalidState(_("Only a paid payment can be refunded."))
        if amount_cents > payment.refundable_cents:
            raise RefundTooLarge(
                _("At most %(amount)s can still be refunded.") % {"amount": money(payment.refundable_cents)}
            )
        return _refund_record(
            payment=payment, amount_cents=amount_cents, reason_code=RefundReason.STAFF, reason=reason, actor=actor
        )


def refund_submit(*, refund_id):
    """Send a recorded refund to the gateway. Repeats are harmless: same idempotency key, same refund."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.refund_id or refund.status != RefundStatus.PENDING:
        return ""
    payment = refund.payment
    gateway = gateway_for(payment.gateway)
    try:
        result = gateway.refund_create(
            intent_id=payment.intent_id,
            amount_cents=refund.amount_cents,
            idempotency_key=refund.idempotency_key,
            metadata={"refund_row": refund.pk, "payment_id": payment.pk},
        )
    except GatewayUnavailable as exc:
        Refund.objects.filter(pk=refund.pk).update(last_error=exc.message[:255], updated_at=timezone.now())
        raise
    except GatewayError as exc:
        return refund_reject(refund_id=refund.pk, message=exc.message)
    refund_sync(refund=result, source="submit")
    # Reported from before/after: the gateway's own event may have applied the change already.
    refund.refresh_from_db()
    if refund.status == RefundStatus.PENDING and not refund.refund_id:
        return ""
    return f"refund {refund.pk}: pending -> {refund.status} (sent to the gateway)"


@transaction.atomic
def refund_reject(*, refund_id, message):
    """The gateway refused a refund outright (not a temporary failure): it failed; staff are told."""
    refund = Refund.objects.get(pk=refund_id)
    with lock_timeout():
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.refund_id or refund.status != RefundStatus.PENDING:
            return ""
        refund.status = RefundStatus.FAILED
        refund.failure_reason = message[:255]
        refund.save(update_fields=["status", "failure_reason", "updated_at"])
        _payment_refunds_total(payment)
        _refund_failed_alert(refund, payment)
    return f"refund {refund.pk}: pending -> failed (refused: {message})"


def _refund_failed_alert(refund, payment):
    notices.staff_alert(
        key=f"refund-failed-{refund.pk}",
        subject="A refund failed",
        body=(
            f"Refund {refund.pk} of {money(refund.amount_cents)} on payment P-{payment.pk} failed "
            f"({refund.failure_reason or 'no reason given'}). The money has not gone back: please refund "
            f"another way or contact the patient.\n{notices.admin_url(payment)}"
        ),
    )


def _refund_row_for(result):
    row = Refund.objects.filter(refund_id=result.id).first()
    if row is None:
        row_id = str(result.metadata.get("refund_row", ""))
        if row_id.isdigit():
            row = Refund.objects.filter(pk=int(row_id), refund_id="").first()
    return row


@transaction.atomic
def refund_sync(*, refund, source):
    """Apply the gateway's view of a refund; returns what changed ("" if nothing).

    Finds our row by the gateway id, or by the row id we put in its metadata (the event can beat
    our own write of the id). A refund made outside the app (in Stripe's dashboard) is recorded
    as a staff refund so that our totals agree with Stripe's.
    """
    now = timezone.now()
    with lock_timeout():
        row = _refund_row_for(refund)
        payment = row.payment if row is not None else Payment.objects.filter(intent_id=refund.intent_id).first()
        if payment is None or (row is None and not refund.intent_id):
            return ""
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        status = _GATEWAY_REFUND_STATUS.get(refund.status, RefundStatus.PENDING)
        if row is None:
            row = Refund(
                payment=payment,
                amount_cents=refund.amount_cents,
                reason_code=RefundReason.STAFF,
                reason=str(_("Refunded at the payment gateway, outside ConciergeMD.")),
                status=status,
                refund_id=refund.id,
                failure_reason=refund.failure_reason[:255],
                submitted_at=now,
            )
            row.full_clean()
            row.save()
            _payment_refunds_total(payment)
            return f"refund {row.pk}: recorded from the gateway ({money(row.amount_cents)}, {status}) ({source})"
        row = Refund.objects.select_for_update().get(pk=row.pk)
        before = row.status
        fields = set()
        if not row.refund_id:
            row.refund_id, row.submitted_at, row.last_error = refund.id, now, ""
            fields |= {"refund_id", "submitted_at", "last_error"}
        moves_on = REFUND_RANK[status] > REFUND_RANK[row.status]
        sideways = REFUND_RANK[status] == REFUND_RANK[row.status] == 0 and status != row.status
        if moves_on or sideways:
            row.status = status
            row.failure_reason = refund.failure_reason[:255]
            fields |= {"status", "failure_reason"}
        if not fields:
            return ""
        row.save(update_fields=[*fields, "updated_at"])
        _payment_refunds_total(payment)
        if row.status == RefundStatus.FAILED and before != RefundStatus.FAILED:
            _refund_failed_alert(row, payment)
    if row.status == before:
        return ""
    return f"refund {row.pk}: {before} -> {row.status} ({source})"


# --- disputes ---------------------------------------------------------------------------------


def _dispute_mark(payment, *, dispute_id, dispute_status, now):
    first = payment.status != S.DISPUTED
    payment.status = S.DISPUTED
    payment.dispute_id = dispute_id or payment.dispute_id
    payment.dispute_status = dispute_status or payment.dispute_status
    payment.disputed_at = payment.disputed_at or now
    payment.save(update_fields=["status", "dispute_id", "dispute_status", "disputed_at", "updated_at"])
    if first:
        notices.staff_alert(
            key=f"dispute-{payment.pk}",
            subject="A payment is disputed",
            body=(
                f"The cardholder disputed payment P-{payment.pk} ({money(payment.amount_cents)}). "
                f"Answer the dispute in Stripe before its deadline.\n{notices.admin_url(payment)}"
            ),
        )
    return "disputed"


@transaction.atomic
def payment_dispute_record(*, payment, dispute_id, dispute_status):
    """The cardholder disputed the charge (or the dispute moved on): mark it, tell staff once."""
    with lock_timeout():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if (
            payment.status == S.DISPUTED
            and payment.dispute_id == dispute_id
            and payment.dispute_status == dispute_status
        ):
            return ""
        before = payment.status
        _dispute_mark(payment, dispute_id=dispute_id, dispute_status=dispute_status, now=timezone.now())
    return f"payment {payment.pk}: {before} -> disputed ({dispute_status or 'open'})"


# --- payments nobody will finish --------------------------------------------------------------


def _payment_cancel_open(payment, *, note):
    """Inside a transaction: an open payment will not be paid here; its intent is cancelled after commit."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if not payment.is_open:
        return ""
    payment.status = S.CANCELLED
    payment.cancelled_at = timezone.now()
    payment.save(update_fields=["status", "cancelled_at", "updated_at"])
    if payment.intent_id:
        enqueue_on_commit("payments.tasks.payment_abandon", payment.pk)
    return f"payment {payment.pk}: cancelled ({note})"


def payment_abandon(*, payment_id):
    """Cancel a payment's intent at the gateway, and follow whatever the gateway then says.

    If the patient paid in the meantime, the cancel fails and the sync sees "succeeded": the
    visit is confirmed if its time can still be had, otherwise refunded.
    """
    payment = Payment.objects.get(pk=payment_id)
    if not payment.intent_id:
        with transaction.atomic():
            return _payment_cancel_open(payment, note="never reached the gateway")
    before = payment.status
    gateway = gateway_for(payment.gateway)
    try:
        intent = gateway.intent_cancel(intent_id=payment.intent_id, idempotency_key=f"{payment.idempotency_key}-cancel")
    except GatewayUnavailable:
        raise
    except GatewayError:
        intent = gateway.intent_retrieve(intent_id=payment.intent_id)
    line = payment_sync(payment=payment, intent=intent, source="cancel")
    # The gateway's own event may have applied the change already: report it from before/after.
    payment.refresh_from_db()
    if line or payment.status == before:
        return line
    return f"payment {payment.pk}: {before} -> {payment.status} (cancel)"


# --- webhooks ---------------------------------------------------------------------------------


def _payment_for_intent_object(obj):
    payment = Payment.objects.filter(intent_id=obj.get("id", "")).first()
    if payment is None:
        payment_id = str((obj.get("metadata") or {}).get("payment_id", ""))
        if payment_id.isdigit():
            payment = Payment.objects.filter(pk=int(payment_id), intent_id="").first()
    return payment


def _fetch_intent(payment, intent_id, fallback):
    """The intent as the gateway has it now; the event's copy if the gateway does not know it."""
    try:
        return gateway_for(payment.gateway).intent_retrieve(intent_id=intent_id)
    except GatewayUnavailable:
        raise
    except GatewayError:
        logger.warning("payments: intent of payment %s not found at the gateway; using the event's copy", payment.pk)
        return intent_from_dict(fallback) if fallback else None


def _prepare_intent_event(obj):
    payment = _payment_for_intent_object(obj)
    if payment is None:
        return None
    intent = _fetch_intent(payment, obj["id"], obj)
    return lambda: payment_sync(payment=payment, intent=intent, source="webhook")


def _prepare_refund_event(obj):
    from .gateways.types import refund_from_dict

    intent_id = obj.get("payment_intent") or ""
    payment = Payment.objects.filter(intent_id=intent_id).first() if intent_id else None
    row = Refund.objects.select_related("payment").filter(refund_id=obj.get("id", "")).first()
    payment = payment or (row.payment if row else None)
    if payment is None:
        return None
    try:
        current = gateway_for(payment.gateway).refund_retrieve(refund_id=obj["id"])
    except GatewayUnavailable:
        raise
    except GatewayError:
        current = refund_from_dict(obj)
    return lambda: refund_sync(refund=current, source="webhook")


def _prepare_dispute_event(obj):
    intent_id = obj.get("payment_intent") or ""
    query = Q(intent_id=intent_id) if intent_id else Q(charge_id=obj.get("charge") or "-")
    payment = Payment.objects.filter(query).exclude(intent_id="").first()
    if payment is None:
        return None
    # A dispute can overtake the "succeeded" event: bring the payment up to date first.
    intent = _fetch_intent(payment, payment.intent_id, None)

    def apply():
        lines = [payment_sync(payment=payment, intent=intent, source="webhook")] if intent else []
        lines.append(
            payment_dispute_record(payment=payment, dispute_id=obj.get("id", ""), dispute_status=obj.get("status", ""))
        )
        return "; ".join(line for line in lines if line)

    return apply


# Checkout Sessions are not used (README: PaymentIntents); their events are recorded and ignored.
EVENT_HANDLERS = {
    "payment_intent.succeeded": _prepare_intent_event,
    "payment_intent.payment_failed": _prepare_intent_event,
    "payment_intent.processing": _prepare_intent_event,
    "payment_intent.canceled": _prepare_intent_event,
    "payment_intent.requires_action": _prepare_intent_event,
    "refund.created": _prepare_refund_event,
    "refund.updated": _prepare_refund_event,
    "refund.failed": _prepare_refund_event,
    "charge.refund.updated": _prepare_refund_event,
    "charge.dispute.created": _prepare_dispute_event,
    "charge.dispute.updated": _prepare_dispute_event,
    "charge.dispute.closed": _prepare_dispute_event,
}


def webhook_event_handle(*, event):
    """Handle one verified gateway event, once per event id; returns what it did.

    The object's current state is read from the gateway first (outside any transaction), so
    events may arrive in any order. Then, in one transaction, the event id is recorded (the
    unique constraint lets exactly one of many concurrent copies through; the others wait for
    it and find it done) and the change applied. If anything fails (a lock not granted in time:
    TryAgainLater), nothing is kept, not even the event id, and Stripe's retry does it all again.
    """
    event_id, event_type = event["id"], event["type"]
    obj = event["data"]["object"]
    if WebhookEvent.objects.filter(event_id=event_id).exists():
        return "duplicate"
    prepare = EVENT_HANDLERS.get(event_type)
    apply = prepare(obj) if prepare else None
    with transaction.atomic(), lock_timeout():
        try:
            with transaction.atomic():
                record = WebhookEvent.objects.create(
                    event_id=event_id,
                    type=event_type[:100],
                    object_id=str(obj.get("id", ""))[:255],
                    livemode=bool(event.get("livemode")),
                )
        except IntegrityError:
            return "duplicate"
        if apply is None:
            outcome = "ignored: not a payment of ours" if prepare else "ignored: event type not used"
        else:
            outcome = apply() or "no change"
        record.outcome = outcome[:255]
        record.processed_at = timezone.now()
        record.save(update_fields=["outcome", "processed_at"])
    return outcome


# --- reconciliation ---------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    checked: int = 0
    changes: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    def add(self, line):
        if line:
            self.changes.append(line)


def payments_reconcile(*, days=3, now=None):
    """Compare recent payments and refunds with the gateway's objects and fix what a lost webhook left.

    Every payment created or changed in the last `days` days is synced with its intent (paid,
    failed, cancelled, disputed), and its refunds with the gateway's list (status changes, refunds
    made in Stripe's dashboard). Refunds recorded but never sent are sent (after checking the
    gateway does not have them already: an idempotency key lives only 24 hours at Stripe).
    Payments that never reached the gateway are cancelled (booking releases those whose hold ran out).
    """
    now = now or timezone.now()
    since = now - timedelta(days=days)
    report = ReconcileReport()

    # 1. Crashed between our row and the gateway's answer an hour ago: nobody could have paid.
    for payment in Payment.objects.filter(
        status__in=OPEN_STATUSES, intent_id="", created_at__lt=now - timedelta(hours=1)
    ):
        with transaction.atomic():
            report.add(_payment_cancel_open(payment, note="never reached the gateway (reconcile)"))

    # 2. Every recent payment against its intent, and its refunds against the gateway's.
    recent = Payment.objects.exclude(intent_id="").filter(Q(created_at__gte=since) | Q(updated_at__gte=since))
    for payment in recent.order_by("pk"):
        report.checked += 1
        gateway = gateway_for(payment.gateway)
        try:
            intent = gateway.intent_retrieve(intent_id=payment.intent_id)
            report.add(payment_sync(payment=payment, intent=intent, source="reconcile"))
            payment.refresh_from_db()
            if payment.is_paid:
                for result in gateway.refund_list(intent_id=payment.intent_id):
                    report.add(refund_sync(refund=result, source="reconcile"))
        except (GatewayError, TryAgainLater) as exc:
            report.problems.append(f"payment {payment.pk}: {getattr(exc, 'message', exc)}")

    # 3. Refunds written but never sent (their task was lost); give the task a few minutes first.
    unsent = Refund.objects.filter(status=RefundStatus.PENDING, refund_id="", created_at__lt=now - timedelta(minutes=5))
    for refund in unsent.select_related("payment"):
        gateway = gateway_for(refund.payment.gateway)
        try:
            known = [
                r
                for r in gateway.refund_list(intent_id=refund.payment.intent_id)
                if str(r.metadata.get("refund_row")) == str(refund.pk)
            ]
            if known:
                report.add(refund_sync(refund=known[0], source="reconcile"))
            else:
                report.add(refund_submit(refund_id=refund.pk))
        except (GatewayError, TryAgainLater) as exc:
            report.problems.append(f"refund {refund.pk}: {getattr(exc, 'message', exc)}")

    return report
