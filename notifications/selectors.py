from django.db.models import QuerySet

from .models import Message


def message_list_for_outbox(*, channel: str | None = None, status: str | None = None) -> QuerySet[Message]:
    """Every message, newest first, for the staff outbox page."""
    messages = Message.objects.select_related("recipient", "visit").order_by("-created_at", "-id")
    if channel:
        messages = messages.filter(channel=channel)
    if status:
        messages = messages.filter(status=status)
    return messages
