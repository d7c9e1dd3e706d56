"""What staff do to a visit from admin beyond booking's own services: a reminder now, a no-show,
a full refund with a reason. Each is keyword-only, transactional, and safe to repeat."""

from datetime import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking import services as booking_services
from booking.models import Visit, VisitStatus
from concierge.errors import ApplicationError, InvalidState, NotAllowed
from concierge.locking import bounded_lock_waits
from concierge.models import User
from notifications import services as notify
from notifications.models import Channel, Message
from payments.models import PAID_STATUSES, Payment, PaymentAllocation, Refund
from payments.models import REFUND_COUNTING_STATUSES as COUNTING
from payments.services import refund_create

S = VisitStatus
REMINDER_TEMPLATE = "reminder_24h"  # "a reminder of your ConciergeMD home visit on Tue Mar 3, 9:00 AM EST"


class NothingToRefund(ApplicationError):
    default_message = _("Nothing is left to refund for this visit.")
    code = "nothing_to_refund"


@transaction.atomic
def visit_reminder_send(*, visit: Visit, actor: User | None, now: datetime | None = None) -> list[Message]:
    """Send the patient a reminder of their visit now: an email, and a text when they take texts.

    The text goes through the usual gates (consent, STOP, quiet hours, the daily limit; an email
    in its place when it cannot go). Asking again within the same hour sends nothing more.
    Returns the outbox rows.
    """
    now = now or timezone.now()
    if actor is None or not actor.has_perm("booking.change_visit"):
        raise NotAllowed()
    visit = Visit.objects.select_related("service", "patient").get(pk=visit.pk)
    if visit.status not in (S.CONFIRMED, S.EN_ROUTE) or visit.starts_at <= now:
        raise InvalidState(_("A reminder is sent only for a confirmed visit that has not started."))
    stamp = f"{int(visit.starts_at.timestamp())}:staff:{now:%Y%m%d%H}"
    return [
        notify.message_enqueue(
            channel=channel,
            to_user=visit.patient,
            template=REMINDER_TEMPLATE,
            context_ids={"visit": visit.pk},
            context={"starts_at": visit.starts_at.isoformat()},
            unique_key=f"appt:{visit.pk}:{REMINDER_TEMPLATE}:{channel}:{stamp}",
        )
        for channel in (Channel.EMAIL, Channel.SMS)
    ]


@transaction.atomic
def visit_no_show_mark(*, visit: Visit, actor: User | None, now: datetime | None = None) -> Visit:
    """The patient was not there: NO_SHOW (booking's life cycle; the policy refunds nothing).

    Only once the visit's start has passed; marking it twice changes nothing.
    """
    now = now or timezone.now()
    if actor is None or not actor.has_perm("booking.change_visit"):
        raise NotAllowed()
    visit = Visit.objects.get(pk=visit.pk)
    if visit.status == S.NO_SHOW:
        return visit
    if visit.starts_at > now:
        raise InvalidState(_("A visit can be marked a no-show only once its start time has passed."))
    return booking_services.visit_transition(visit=visit, to=S.NO_SHOW, actor=actor, now=now)


def refund_prefix(visit: Visit) -> str:
    # Staff refunds are per payment; this prefix ties one to the visit so that it counts only once.
    return f"Visit {visit.pk}: "


def visit_refund_due(*, visit: Visit) -> tuple[Payment | None, int]:
    """(payment, cents) still to refund so that this visit is refunded in full, or (None, 0)."""
    allocation = (
        PaymentAllocation.objects.filter(visit=visit, payment__status__in=PAID_STATUSES)
        .select_related("payment")
        .order_by("payment_id")
        .first()
    )
    if allocation is None:
        return None, 0
    payment = allocation.payment
    refunds = Refund.objects.filter(payment=payment, status__in=COUNTING)
    for_visit = (refunds.filter(visit=visit).aggregate(s=Sum("amount_cents"))["s"] or 0) + (
        refunds.filter(visit__isnull=True, reason__startswith=refund_prefix(visit)).aggregate(s=Sum("amount_cents"))[
            "s"
        ]
        or 0
    )
    if payment.visit_id == visit.pk:
        # The payment is for this visit alone: whatever is left of it.
        return payment, payment.refundable_cents
    return payment, max(0, min(allocation.amount_cents - for_visit, payment.refundable_cents))


@transaction.atomic
def visit_refund_in_full(*, visit: Visit, reason: str, actor: User) -> Refund:
    """Refund everything paid for a visit that has not gone back yet, with the reason (payments'
    `refund_create`: the gateway hears of it after commit). A second call finds nothing due."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("Say why you are refunding."))
    payment, _due = visit_refund_due(visit=visit)
    if payment is None:
        raise NothingToRefund(_("No payment for this visit has been received."))
    with bounded_lock_waits():
        Payment.objects.select_for_update().filter(pk=payment.pk).first()
        payment, due = visit_refund_due(visit=visit)  # again, under the payment's lock
        if payment is None or not due:
            raise NothingToRefund()
        return refund_create(payment=payment, amount_cents=due, reason=refund_prefix(visit) + reason, actor=actor)
