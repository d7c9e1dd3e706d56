"""Queueing Celery tasks by name, once the transaction commits.

Services never import tasks: the tasks modules import their services (tasks are thin wrappers),
so a service names the task it wants run, e.g.

    enqueue_on_commit("notifications.tasks.message_deliver", message.pk)

Names are Celery's default, "<app>.tasks.<function>"; a test scans the code for these calls and
fails on a name no task is registered under. Arguments are ids (or short strings), never content.
"""

import logging

from celery import Task
from celery.exceptions import NotRegistered
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerOperationalError

from .celery import app

logger = logging.getLogger(__name__)

# What queueing raises when the broker cannot be reached.
BROKER_ERRORS = (BrokerOperationalError, OSError)


def task_get(task_name: str) -> Task:
    """The Celery task registered as `task_name`; raises celery.exceptions.NotRegistered if none is."""
    try:
        return app.tasks[task_name]
    except NotRegistered:
        # Only a worker imports the apps' tasks modules when it starts; a web process (where no
        # one imports a tasks module any more) does it here, the first time a task is queued.
        app.loader.import_default_modules()
        return app.tasks[task_name]


def task_queue(task_name: str, *args: int | str) -> None:
    """Queue the task now. Raises one of BROKER_ERRORS when the broker cannot be reached.

    For callers that must know (the outbox puts a row it could not queue back to pending);
    everything else uses `enqueue_on_commit`.
    """
    task_get(task_name).apply_async(args=args)


def enqueue_on_commit(task_name: str, *args: int | str, once: bool = False) -> None:
    """Queue the Celery task registered as `task_name` with these ids once the current transaction commits.

    Never for a rollback; outside a transaction, at once. A broker that cannot be reached is
    logged, not raised: the periodic clock picks the work up. With `once`, asking again for the
    same task and ids in the same transaction queues it only once (a sweep that looks at
    everything, asked for by each visit a transaction frees).
    """
    wanted = (task_name, args)
    if once:
        connection = transaction.get_connection()
        alive = set(connection.savepoint_ids)
        # Only a callback registered within the savepoints still open around us counts: whatever
        # rolls it back rolls this transaction back too (a conservative test, never a lost task).
        if any(getattr(func, "queued", None) == wanted and sids <= alive for sids, func, _ in connection.run_on_commit):
            return

    def queue() -> None:
        try:
            task_queue(task_name, *args)
        except BROKER_ERRORS:
            logger.exception("could not queue %s %s; the periodic clock will pick the work up", task_name, args)

    queue.queued = wanted  # type: ignore[attr-defined]  # what `once` looks for among the waiting callbacks
    # robust: whatever else goes wrong while queueing is logged too, never turned into an error
    # for a request whose transaction has already committed.
    transaction.on_commit(queue, robust=True)


@app.task(name="concierge.tasks.patient_state_log_fold", ignore_result=True)
def patient_state_log_fold() -> int:
    """Fold the patients' change log into a count each (concierge/patient_state.py), so that a
    version is read from a few rows however long a patient's history."""
    from .patient_state import patient_state_log_fold as fold

    return fold()
