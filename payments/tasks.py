"""Celery tasks: thin wrappers that take ids and call a service. A repeat run is harmless."""

import logging

from celery import shared_task

from concierge.errors import TryAgainLater

from . import notices, services
from .gateways import GatewayUnavailable
from .models import Payment, Refund, RefundReason

logger = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": (GatewayUnavailable, TryAgainLater),
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "max_retries": 10,
}


@shared_task(**RETRY)
def payment_refund_submit(refund_id):
    # After the last retry the row stays pending and unsent: reconciliation sends it.
    return services.refund_submit(refund_id=refund_id)


@shared_task(**RETRY)
def payment_abandon(payment_id):
    return services.payment_abandon(payment_id=payment_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def payment_receipt_send(payment_id):
    notices.receipt_send(Payment.objects.select_related("patient").get(pk=payment_id))


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def payment_refund_notice_send(payment_id):
    payment = Payment.objects.select_related("patient").get(pk=payment_id)
    refunds = Refund.objects.filter(payment=payment, reason_code=RefundReason.UNFULFILLED)
    notices.refund_notice_send(payment, sum(r.amount_cents for r in refunds))


@shared_task
def payments_reconcile(days=3):
    report = services.payments_reconcile(days=days)
    for line in report.changes:
        logger.info("payments reconcile: %s", line)
    for line in report.problems:
        logger.warning("payments reconcile: %s", line)
    return {"checked": report.checked, "changed": len(report.changes), "problems": len(report.problems)}


@shared_task
def payments_release_abandoned():
    return services.payments_release_abandoned()
