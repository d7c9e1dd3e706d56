"""Celery tasks for field work: thin wrappers around services."""

from celery import shared_task

from . import services


@shared_task
def visits_running_late_notify():
    """Every five minutes (CELERY_BEAT_SCHEDULE): tell patients whose nurse runs late. Safe to run twice."""
    return services.visits_running_late_notify()
