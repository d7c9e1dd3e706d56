"""Thin Celery wrappers around patients' services. Tasks take ids only: never answers or scores."""

from celery import shared_task

from . import services


@shared_task(autoretry_for=(Exception,), retry_backoff=30, retry_backoff_max=600, max_retries=10)
def safety_alert_notify(alert_id):
    """Email the on-call clinician about a safety alert (once; retried while the mail server is down)."""
    services.safety_alert_notify(alert_id=alert_id)
