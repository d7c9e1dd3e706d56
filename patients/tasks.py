"""Thin Celery wrappers around patients' services. Tasks take ids only: never answers or scores."""

from celery import shared_task

from . import services


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=600, max_retries=10)
def safety_alert_notify(alert_id):
    """Write the on-call clinician's email about a safety alert to the outbox (once).

    Nothing queues this any more (the alert writes its email in its own transaction); it stays
    so that tasks queued by an earlier release still run.
    """
    services.safety_alert_notify(alert_id=alert_id)


@shared_task(name="patients.tasks.signup_requests_purge", ignore_result=True)
def signup_requests_purge():
    """Hourly (CELERY_BEAT_SCHEDULE): delete sign-ups whose confirmation link ran out."""
    return services.signup_requests_purge()
