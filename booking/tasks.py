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


@shared_task
def waitlist_offers_make():
    """Every minute, and right after time frees up: offer freed times to the waitlist, in order."""
    return services.waitlist_offers_make()


@shared_task
def coverage_waitlist_notify():
    """Every five minutes, and after staff change an area: tell the coverage waitlist, once each."""
    return services.coverage_waitlist_notify()
