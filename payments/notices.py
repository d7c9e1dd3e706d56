"""Emails about money: the patient's receipt and refund notice, and staff alerts.

Patient emails are sent by a Celery task started after commit (ids only); their subjects and
bodies say "Home visit" or "Video visit", the time and the amount, never what the visit is for.
Staff alerts go through the notifications outbox (`staff_alert_email`), once per key.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from notifications.content import first_name_for
from notifications.services import staff_alert_email

from .display import money, visit_title, visit_when

logger = logging.getLogger(__name__)


def _visits(payment):
    return [a.visit for a in payment.allocations.select_related("visit__service").order_by("visit__starts_at")]


def _context(payment):
    visits = _visits(payment)
    price = sum(v.price_cents for v in visits)
    return {
        "name": first_name_for(payment.patient) or "there",
        "payment": payment,
        "reference": f"P-{payment.pk}",
        "amount": money(payment.amount_cents),
        "balance": money(max(price - payment.amount_cents, 0)),
        "has_balance": price > payment.amount_cents,
        "visits": [{"title": visit_title(v), "when": visit_when(v)} for v in visits],
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "dashboard_url": settings.SITE_URL + reverse("home-for-user"),
    }


def _send(payment, template, subject, extra=None):
    with translation.override(settings.LANGUAGE_CODE):
        ctx = {**_context(payment), **(extra or {})}
        text = render_to_string(f"payments/email/{template}.txt", ctx)
        html = render_to_string(f"payments/email/{template}.html", ctx)
        send_mail(str(subject), text, None, [payment.patient.email], html_message=html)


def receipt_send(payment):
    """The receipt for a payment that went through (called by the task, after commit)."""
    _send(payment, "receipt", _("Your ConciergeMD receipt"))


def refund_notice_send(payment, amount_cents):
    """Money is on its way back because the booked time could not be kept."""
    _send(payment, "unfulfilled", _("About your ConciergeMD booking"), {"refund_amount": money(amount_cents)})


def after_commit(task, *ids):
    """Start `task` with ids once the current transaction has committed (never for a rollback)."""
    # robust: a broker hiccup after commit is logged, not turned into an error page; the
    # reconciliation picks up what the task would have done.
    transaction.on_commit(lambda: task.delay(*ids), robust=True)


def staff_alert(*, key, subject, body):
    """An email to the clinic's staff inbox (PAYMENTS_STAFF_EMAIL), once per key."""
    return staff_alert_email(to=settings.PAYMENTS_STAFF_EMAIL, subject=subject, body=body, unique_key=f"payments:{key}")


def admin_url(payment):
    return settings.SITE_URL + reverse("admin:payments_payment_change", args=[payment.pk])
