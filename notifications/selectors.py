from .models import Message, SmsOptOut


def message_list_for_outbox(*, channel=None, status=None):
    """Every message, newest first, for the staff outbox page."""
    messages = Message.objects.select_related("recipient", "visit").order_by("-created_at", "-id")
    if channel:
        messages = messages.filter(channel=channel)
    if status:
        messages = messages.filter(status=status)
    return messages


def sms_number_is_opted_out(*, phone_number):
    """True when this E.164 number replied STOP and has not texted START since.

    Texts to it are never sent; a patient who ticks "text me" again must first text START.
    """
    return SmsOptOut.objects.filter(phone_number=str(phone_number), is_opted_out=True).exists()
