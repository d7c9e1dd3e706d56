"""Queueing background work by name, once the transaction that asked for it has committed.

Services never import their app's tasks module (the tasks import the services: a task is a thin
wrapper that takes ids and calls one). They name the task instead; a test checks that every name
used here is a registered Celery task.
"""

import logging

from django.db import transaction

from .celery import app

logger = logging.getLogger(__name__)


def enqueue_on_commit(task_name: str, *args: int | str) -> None:
    """Queue the Celery task registered as `task_name` with these ids once the current transaction
    commits (never for a rollback). A broker that cannot be reached is logged, not raised: the
    periodic clock or reconciliation picks the work up."""

    def queue():
        app.tasks[task_name].apply_async(args=args)

    transaction.on_commit(queue, robust=True)
