"""Celery tasks for booking: thin wrappers around services (ids in, nothing clinical in arguments)."""

from celery import shared_task

from . import checkout, services


@shared_task
def visit_holds_expire():
    """Every minute (CELERY_BEAT_SCHEDULE): release holds that ran out. Safe to run twice at once."""
    return services.visit_holds_expire()


@shared_task
def checkouts_release_abandoned():
    """Every five minutes: cancel the open payments of holds that ran out (after a grace)."""
    return checkout.checkouts_release_abandoned()
