"""Payment use cases: start a payment, follow the gateway, confirm or refund, reconcile.

The money rules (DESIGN.md): no confirmed visit without a successful payment, no payment kept
without a visit, nothing charged or refunded twice.

- One open payment per held visit (or series), one PaymentIntent per payment, created with the
  payment's own idempotency key. A declined card is retried on the same intent.
- `payment_sync` is the one place where the gateway's view of an intent reaches our rows; the
  webhook, the return page and reconciliation all call it. It locks (in booking's order: the
  providers, the patient, the visits, then the payment) and moves the status forward only, so
  when the return page and the webhook race, one confirms and the other finds nothing to do.
- A refund is a row first (with its own idempotency key), sent to the gateway after commit by
  a task; its status then follows the gateway's events (`refund_sync`).

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

from booking.models import Visit, VisitStatus
from concierge.errors import ApplicationError, InvalidState, NotAllowed, TryAgainLater
from concierge.models import User
from roster.models import Provider

from . import notices, policy
from .display import money
from .errors import AlreadyPaid, HoldExpired, NothingToPay, PaymentUnavailable, RefundNotAllowed, RefundTooLarge
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

logger = logging.getLogger(__name__)

S = PaymentStatus
A = VisitStatus

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


def _tasks():
    from . import tasks  # tasks import services: import late

    return tasks


# --- locks ------------------------------------------------------------------------------------


def _lock_for(visit_ids, payment_id=None):
    """Lock the visits' providers and patients, the visits, then the payment: booking's order.

    Booking's services lock Provider rows, then the patient, then the visit, and a cancellation
    then calls `refund_for_cancellation` (which locks the payment). Taking ours in the same
    order means a payment confirming a visit and a cancellation of it queue up, never deadlock.
    """
    rows = list(Visit.objects.filter(pk__in=visit_ids).values_list("provider_id", "patient_id"))
    providers = sorted({p for p, _ in rows if p})
    patients = sorted({u for _, u in rows})
    if providers:
        list(Provider.objects.select_for_update().filter(pk__in=providers).order_by("pk").values_list("pk", flat=True))
    if patients:
        list(User.objects.select_for_update().filter(pk__in=patients).order_by("pk").values_list("pk", flat=True))
    visits = list(Visit.objects.select_for_update().filter(pk__in=visit_ids).order_by("pk"))
    payment = Payment.objects.select_for_update().get(pk=payment_id) if payment_id else None
    return visits, payment


def _visit_ids(payment):
    return list(payment.allocations.values_list("visit_id", flat=True))


# --- starting a payment -----------------------------------------------------------------------


def payment_start(*, patient, visit=None, series=None):
    """The open payment for a held visit (or a whole series) and its PaymentIntent, made if needed.

    Safe to call again (a reload, a second tab, a retry after a crash): it returns the open
    payment; if that payment's intent was never recorded, the gateway is asked again with the
    same idempotency key and answers with the same intent, so nothing is created twice.
    Two short transactions around the gateway call: no lock is held while the network answers.
    Raises HoldExpired, AlreadyPaid, NothingToPay, NotAllowed or PaymentUnavailable.
    """
    payment = _payment_open_get_or_create(patient=patient, visit=visit, series=series)
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
def _payment_open_get_or_create(*, patient, visit, series):
    if (visit is None) == (series is None):
        raise ValueError("Pay for one visit or one series")
    now = timezone.now()
    with lock_timeout():
        if series is not None:
            ids = list(series.visits.exclude(status=A.CANCELLED).values_list("pk", flat=True))
        else:
            ids = [visit.pk]
        visits, _ = _lock_for(ids)
        if not visits:
            raise NothingToPay()
        if any(v.patient_id != patient.pk for v in visits):
            raise NotAllowed()
        paid = Payment.objects.filter(allocations__visit__in=ids, status__in=PAID_STATUSES).first()
        if paid is not None:
            raise AlreadyPaid(extra={"payment_id": paid.pk})
        if any(v.status != A.HELD for v in visits):
            if all(v.status == A.CONFIRMED for v in visits):
                raise NothingToPay(_("This visit is already booked."))
            raise HoldExpired()
        if any(not v.hold_expires_at or v.hold_expires_at <= now for v in visits):
            raise HoldExpired()
        open_payments = Payment.objects.filter(status__in=OPEN_STATUSES)
        existing = (open_payments.filter(series=series) if series else open_payments.filter(visit=visit)).first()
        if existing is not None:
            return existing
        amount = sum(v.amount_due_cents for v in visits)
        if amount <= 0:
            raise NothingToPay()
        payment = Payment(
            patient=patient,
            visit=visit if series is None else None,
            series=series,
            amount_cents=amount,
            currency=settings.PAYMENT_CURRENCY,
            gateway=gateway_name(),
        )
        payment.full_clean()
        payment.save()
        PaymentAllocation.objects.bulk_create(
            [PaymentAllocation(payment=payment, visit=v, amount_cents=v.amount_due_cents) for v in visits]
        )
        return payment


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
        _, payment = _lock_for(_visit_ids(payment), payment.pk)
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
    """The money is in: confirm the visit(s), or give the money back if they cannot be kept."""
    from booking import services as booking  # booking's services call ours (refunds): import late

    now = timezone.now()
    allocations = list(payment.allocations.select_related("visit"))
    try:
        with transaction.atomic():
            if payment.series_id:
                booking.series_confirm(series=payment.series)
            else:
                booking.visit_confirm(visit=payment.visit)
    except TryAgainLater:
        raise  # busy: the webhook answers 503 and Stripe delivers again
    except ApplicationError as exc:
        lost = allocations
        reason = str(exc.message)
        code = exc.code
    else:
        # A series skips its cancelled visits; what was paid for them goes back too.
        lost = [a for a in allocations if Visit.objects.filter(pk=a.visit_id, status=A.CANCELLED).exists()]
        reason, code = str(_("The visit was cancelled before the payment went through.")), "cancelled"
    notes = []
    refunds = []
    for allocation in lost:
        already = Refund.objects.filter(
            visit_id=allocation.visit_id,
            reason_code__in=[RefundReason.CANCELLATION, RefundReason.UNFULFILLED],
        ).exists()
        amount = min(allocation.amount_cents, payment.amount_cents - payment.amount_refunded_cents)
        if already or amount <= 0:
            continue
        refunds.append(
            _refund_record(
                payment=payment,
                amount_cents=amount,
                reason_code=RefundReason.UNFULFILLED,
                reason=reason,
                visit=allocation.visit,
            )
        )
    if refunds:
        total = sum(r.amount_cents for r in refunds)
        notes.append(f"could not confirm ({code}): refunding {money(total)}")
        notices.after_commit(_tasks().payment_refund_notice_send, payment.pk)
        notices.staff_alert(
            key=f"unfulfilled-{payment.pk}",
            subject="Payment refunded: the booked time could not be kept",
            body=(
                f"Payment P-{payment.pk} ({money(payment.amount_cents)}) succeeded, but the visit could not be "
                f"confirmed ({code}). {money(total)} is being refunded automatically and the patient has been "
                f"emailed. Please call them to find another time.\n{notices.admin_url(payment)}"
            ),
        )
    if len(lost) < len(allocations) and payment.receipt_sent_at is None:
        payment.receipt_sent_at = now
        payment.save(update_fields=["receipt_sent_at", "updated_at"])
        notices.after_commit(_tasks().payment_receipt_send, payment.pk)
        notes.append("confirmed")
    return notes


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


def _refund_record(*, payment, amount_cents, reason_code, reason, visit=None, actor=None):
    """Write a refund (the caller holds the payment's lock); the gateway hears of it after commit."""
    refund = Refund(
        payment=payment,
        visit=visit,
        amount_cents=amount_cents,
        reason_code=reason_code,
        reason=str(reason),
        created_by=actor,
    )
    refund.full_clean()
    refund.save()
    _payment_refunds_total(payment)
    notices.after_commit(_tasks().payment_refund_submit, refund.pk)
    return refund


@transaction.atomic
def refund_for_cancellation(*, visit):
    """Apply the cancellation policy (policy.py) to a cancelled or missed visit. Safe to call twice.

    Booking's `visit_cancel` calls this inside its transaction, with the visit locked.
    A paid visit gets its refund row now (sent to the gateway after commit); an unpaid hold's
    open payment is cancelled so it can no longer be paid. Returns the Refund, or None.
    """
    with lock_timeout():
        allocations = list(
            PaymentAllocation.objects.filter(visit=visit).select_related("payment").order_by("payment_id")
        )
        for allocation in allocations:
            if allocation.payment.is_open:
                _payment_cancel_open(allocation.payment, note="visit cancelled")
        paid = next((a for a in allocations if a.payment.status in PAID_STATUSES), None)
        if paid is None:
            return None
        existing = Refund.objects.filter(
            visit=visit, reason_code__in=[RefundReason.CANCELLATION, RefundReason.UNFULFILLED]
        ).first()
        if existing is not None:
            return existing
        payment = Payment.objects.select_for_update().get(pk=paid.payment_id)
        decision = policy.cancellation_refund(visit=visit, paid_cents=paid.amount_cents)
        amount = min(decision.refund_cents, payment.refundable_cents)
        if amount <= 0:
            return None
        reason = _("Cancellation policy (%(rule)s): %(refund)s refunded, %(kept)s kept.") % {
            "rule": decision.rule,
            "refund": money(amount),
            "kept": money(paid.amount_cents - amount),
        }
        return _refund_record(
            payment=payment,
            amount_cents=amount,
            reason_code=RefundReason.CANCELLATION,
            reason=reason,
            visit=visit,
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
        notices.after_commit(_tasks().payment_abandon, payment.pk)
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


def payments_release_abandoned(*, now=None):
    """Cancel open payments whose holds ran out more than PAYMENT_ABANDON_GRACE_MINUTES ago.

    The grace lets a card check that began just before the hold ran out finish (a payment that
    succeeds late is honoured if the time is still free, refunded if not).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.PAYMENT_ABANDON_GRACE_MINUTES)
    lines = []
    # A payment already processing cannot be cancelled at the gateway; reconciliation follows it.
    candidates = Payment.objects.filter(
        status__in=[S.REQUIRES_PAYMENT, S.FAILED], created_at__lt=cutoff
    ).prefetch_related("allocations__visit")
    for payment in candidates:
        visits = [a.visit for a in payment.allocations.all()]
        lapsed = any(
            v.status != A.HELD or (v.hold_expires_at is not None and v.hold_expires_at < cutoff) for v in visits
        )
        if not lapsed:
            continue
        try:
            lines.append(payment_abandon(payment_id=payment.pk))
        except (GatewayError, TryAgainLater) as exc:
            logger.warning("payments: could not release payment %s (%s)", payment.pk, type(exc).__name__)
    return [line for line in lines if line]


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
WEBHOOK_EVENT_TYPES = sorted(EVENT_HANDLERS)


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
    Payments that never reached the gateway, and payments whose hold ran out, are cancelled.
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

    # 4. Holds that ran out with their payment still open.
    for line in payments_release_abandoned(now=now):
        report.add(line)
    return report
