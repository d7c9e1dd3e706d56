"""Celery tasks: thin wrappers around the services. Arguments are ids only, never content."""

from celery import shared_task

from . import services


@shared_task(name="notifications.tasks.messages_dispatch_due", ignore_result=True)
def messages_dispatch_due() -> int:
    """Beat, every minute: claim the messages that are due and queue their send tasks."""
    return len(services.messages_dispatch_due())


@shared_task(name="notifications.tasks.message_deliver", ignore_result=True)
def message_deliver(message_id: int) -> str | None:
    """Deliver one claimed message. Running it twice for one message sends it once."""
    message = services.message_deliver(message_id=message_id)
    return message.status if message is not None else None


@shared_task(name="notifications.tasks.messages_deliver", ignore_result=True)
def messages_deliver(*message_ids: int) -> int:
    """Deliver claimed messages one after another (the clock queues them in batches). Each is
    delivered as `message_deliver` would: running this twice sends each message once. The ids
    are separate arguments, as every task takes ids."""
    return sum(services.message_deliver(message_id=pk) is not None for pk in message_ids)


# The task's name before it was message_deliver. Tasks queued by a worker of the previous release
# may still sit in the broker under this name: they must still run. Remove after one release.
@shared_task(name="notifications.tasks.message_send", ignore_result=True)
def message_send(message_id: int) -> str | None:
    """Old name of `message_deliver` (tasks already in the broker)."""
    return message_deliver(message_id)
