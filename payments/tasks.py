"""Celery tasks: thin wrappers that take ids and call a service. A repeat run is harmless."""

import logging

from celery import shared_task

from concierge.errors import TryAgainLater

from . import services
from .gateways import GatewayUnavailable

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


@shared_task
def payments_reconcile(days=3):
    report = services.payments_reconcile(days=days)
    for line in report.changes:
        logger.info("payments reconcile: %s", line)
    for line in report.problems:
        logger.warning("payments reconcile: %s", line)
    return {"checked": report.checked, "changed": len(report.changes), "problems": len(report.problems)}
