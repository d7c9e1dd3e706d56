"""Refunds: money going back, recorded first, sent to the gateway after commit, then followed.

A refund is a row first (with its own idempotency key); a task sends it to the gateway after
commit (`refund_submit`), and its status then follows the gateway's events (`refund_sync`).
Booking decides how much of a cancelled visit goes back (booking/policy.py) and records it with
`refund_for_visit`; money for visits that could not be kept goes back whole
(`payment_refund_unfulfilled`); staff refund any amount with a reason (`refund_create`).
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import InvalidState, NotAllowed
from concierge.locking import bounded_lock_waits
from concierge.models import User
from concierge.tasks import enqueue_on_commit

from .. import notices
from ..display import money
from ..errors import RefundNotAllowed, RefundTooLarge
from ..gateways import GatewayError, GatewayUnavailable, RefundResult, gateway_for
from ..models import (
    PAID_STATUSES,
    REFUND_COUNTING_STATUSES,
    Payment,
    PaymentAllocation,
    PaymentStatus,
    Refund,
    RefundReason,
    RefundStatus,
)
from ..selectors import refund_automatic_for_visit

S = PaymentStatus


# A refund's status moves forward only; Stripe may still fail a refund that had succeeded.
REFUND_RANK: dict[str, int] = {
    RefundStatus.PENDING: 0,
    RefundStatus.REQUIRES_ACTION: 0,
    RefundStatus.SUCCEEDED: 1,
    RefundStatus.FAILED: 2,
    RefundStatus.CANCELLED: 2,
}
_GATEWAY_REFUND_STATUS: dict[str, RefundStatus] = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.REQUIRES_ACTION,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELLED,
}


def _payment_refunds_total(payment: Payment) -> None:
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


@transaction.atomic
def payment_refunds_recount(*, payment: Payment, source: str) -> str:
    """Repair drift: the payment's refunded amount and status as its refund rows say they are.

    Reconciliation runs it after syncing a payment and its refunds; returns what changed ("")."""
    with bounded_lock_waits():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        before = (payment.status, payment.amount_refunded_cents)
        _payment_refunds_total(payment)
    after = (payment.status, payment.amount_refunded_cents)
    if after == before:
        return ""
    return f"payment {payment.pk}: {before[0]} ({before[1]}) -> {after[0]} ({after[1]}) ({source})"


def _refund_record(
    *,
    payment: Payment,
    amount_cents: int,
    reason_code: RefundReason,
    reason: str,
    visit_id: int | None = None,
    actor: User | None = None,
) -> Refund:
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


@transaction.atomic
def payment_refund_unfulfilled(*, payment: Payment, visit_ids: Iterable[int], reason: str, code: str) -> list[str]:
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
            f"Payment {payment.reference} ({money(payment.amount_cents)}) succeeded, but the visit could not be "
            f"confirmed ({code}). {money(total)} is being refunded automatically and the patient has been "
            f"emailed. Please call them to find another time.\n{notices.admin_url(payment)}"
        ),
    )
    return [f"could not confirm ({code}): refunding {money(total)}"]


def visit_paid_allocation(*, visit_id: int) -> PaymentAllocation | None:
    """What was paid for this visit (its allocation on the paid payment), or None."""
    return (
        PaymentAllocation.objects.filter(visit_id=visit_id, payment__status__in=PAID_STATUSES)
        .select_related("payment")
        .order_by("payment_id")
        .first()
    )


@transaction.atomic
def refund_for_visit(
    *, payment: Payment, visit_id: int, amount_cents: int, reason_code: RefundReason, reason: str
) -> Refund | None:
    """An automatic refund for one visit (cancellation policy, or a time that could not be kept).

    At most one per visit: asking again returns the first. At most what is still refundable.
    The caller (booking) holds the visit's lock; the payment is locked here, after it.
    Returns the Refund, or None when nothing goes back.
    """
    with bounded_lock_waits():
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
def refund_create(*, payment: Payment, amount_cents: int, reason: str, actor: User | None) -> Refund:
    """A staff refund of any amount up to what is still refundable, with a reason."""
    if actor is None or not actor.has_perm("payments.refund_payment"):
        raise NotAllowed()
    reason = (reason or "").strip()
    if not reason:
        raise RefundNotAllowed(_("Say why you are refunding."))
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise RefundNotAllowed(_("The amount must be more than $0.00."))
    with bounded_lock_waits():
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


def refund_submit(*, refund_id: int) -> str:
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
def refund_reject(*, refund_id: int, message: str) -> str:
    """The gateway refused a refund outright (not a temporary failure): it failed; staff are told."""
    refund = Refund.objects.get(pk=refund_id)
    with bounded_lock_waits():
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


def _refund_failed_alert(refund: Refund, payment: Payment) -> None:
    notices.staff_alert(
        key=f"refund-failed-{refund.pk}",
        subject="A refund failed",
        body=(
            f"Refund {refund.pk} of {money(refund.amount_cents)} on payment {payment.reference} failed "
            f"({refund.failure_reason or 'no reason given'}). The money has not gone back: please refund "
            f"another way or contact the patient.\n{notices.admin_url(payment)}"
        ),
    )


def _refund_row_for(result: RefundResult) -> Refund | None:
    row = Refund.objects.filter(refund_id=result.id).first()
    if row is None:
        row_id = str(result.metadata.get("refund_row", ""))
        if row_id.isdigit():
            row = Refund.objects.filter(pk=int(row_id), refund_id="").first()
    return row


@transaction.atomic
def refund_sync(*, refund: RefundResult, source: str) -> str:
    """Apply the gateway's view of a refund; returns what changed ("" if nothing).

    Finds our row by the gateway id, or by the row id we put in its metadata (the event can beat
    our own write of the id). A refund made outside the app (in Stripe's dashboard) is recorded
    as a staff refund so that our totals agree with Stripe's.
    """
    now = timezone.now()
    with bounded_lock_waits():
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
