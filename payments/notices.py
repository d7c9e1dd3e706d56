"""Emails about money: the patient's receipt and refund notice, and staff alerts.

Every one is an outbox row (notifications), written in the same transaction as the change it
reports and keyed by the payment: a task that runs twice, or a worker killed and restarted,
sends one receipt. Subjects and bodies say "Home visit" or "Video visit", the time and the
amount, never what the visit is for.
"""

from django.conf import settings
from django.urls import reverse

from notifications.content import MessageTemplate
from notifications.models import Channel, Message
from notifications.services import message_enqueue, staff_alert_email

from .display import ShownVisit, money, visit_title, visit_when
from .models import Payment

# Registered with the outbox when the app starts (payments/apps.py). Not about one visit's
# life cycle: a receipt stays true whatever happens to the visit later.
TEMPLATES = (
    MessageTemplate(
        "payment_receipt",
        (Channel.EMAIL,),
        visit_statuses=None,
        bound_to_visit_time=False,
        deadline=None,
        email_base="payments/email/receipt",
        stored_context=True,
        # Money: an interrupted receipt is checked, never sent twice on a guess.
        if_interrupted="check",
    ),
    MessageTemplate(
        "payment_unfulfilled",
        (Channel.EMAIL,),
        visit_statuses=None,
        bound_to_visit_time=False,
        deadline=None,
        email_base="payments/email/unfulfilled",
        stored_context=True,
        if_interrupted="check",
    ),
)


def _visits(payment: Payment) -> list[ShownVisit]:
    return [a.visit for a in payment.allocations.select_related("visit__service").order_by("visit__starts_at")]


def _context(payment: Payment) -> dict[str, object]:
    visits = _visits(payment)
    price = sum(v.price_cents for v in visits)
    return {
        "reference": payment.reference,
        "amount": money(payment.amount_cents),
        "balance": money(max(price - payment.amount_cents, 0)),
        "has_balance": price > payment.amount_cents,
        "visits": [{"title": str(visit_title(v)), "when": visit_when(v)} for v in visits],
        "dashboard_url": settings.SITE_URL + reverse("home-for-user"),
    }


def receipt_enqueue(payment: Payment) -> Message:
    """The receipt for a payment that went through: an outbox row, once per payment."""
    return message_enqueue(
        channel=Channel.EMAIL,
        to_user=payment.patient,
        template="payment_receipt",
        context=_context(payment),
        unique_key=f"payment:{payment.pk}:receipt",
    )


def refund_notice_enqueue(payment: Payment, amount_cents: int) -> Message:
    """Money is on its way back because the booked time could not be kept: once per payment."""
    return message_enqueue(
        channel=Channel.EMAIL,
        to_user=payment.patient,
        template="payment_unfulfilled",
        context={**_context(payment), "refund_amount": money(amount_cents)},
        unique_key=f"payment:{payment.pk}:unfulfilled",
    )


def staff_alert(*, key: str, subject: str, body: str) -> Message:
    """An email to the clinic's staff inbox (PAYMENTS_STAFF_EMAIL), once per key."""
    return staff_alert_email(to=settings.PAYMENTS_STAFF_EMAIL, subject=subject, body=body, unique_key=f"payments:{key}")


def admin_url(payment: Payment) -> str:
    return settings.SITE_URL + reverse("admin:payments_payment_change", args=[payment.pk])
