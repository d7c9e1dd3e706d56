"""Celery tasks: thin wrappers around the services. Arguments are ids only, never content."""

from celery import shared_task

from . import services


@shared_task(name="notifications.tasks.messages_dispatch_due", ignore_result=True)
def messages_dispatch_due():
    """Beat, every minute: claim the messages that are due and queue their send tasks."""
    return len(services.messages_dispatch_due())


@shared_task(name="notifications.tasks.message_send", ignore_result=True)
def message_send(message_id):
    """Send one claimed message. Running it twice for one message sends it once."""
    message = services.message_send(message_id=message_id)
    return message.status if message is not None else None
