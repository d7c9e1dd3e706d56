"""Celery tasks: thin wrappers around the services. Arguments are ids only, never content."""

from celery import shared_task

from . import oncall


@shared_task(name="roster.tasks.oncall_pages_escalate", ignore_result=True)
def oncall_pages_escalate() -> int:
    """Beat, every minute: page the backup for alerts the clinician on call has not acknowledged."""
    return len(oncall.oncall_pages_escalate())
