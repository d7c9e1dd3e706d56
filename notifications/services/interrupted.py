"""A send whose attempt started but never recorded its result: the worker died mid-call.

`message_deliver` writes `attempt_started_at` before calling the provider, and the result after.
A row still in SENDING with an attempt that started more than ATTEMPT_LOST_AFTER ago was
interrupted (a killed worker, a machine gone): the provider may or may not have it. Guessing
either way is wrong somewhere: a "failed" that went is sent twice when staff press "send again";
a "sent" that did not go is a patient without their receipt. So the clock resolves each one by a
stated rule, in this order:

1. Ask the provider's record (the gateway's `sent_record`; the memory and file gateways keep one,
   Twilio answers through its delivery receipts, SMTP keeps none):
   - it has the message: SENT (it went; nothing is sent again);
   - it certainly has not: PENDING again, due now (it never went; sending it is not a second copy).
2. The provider cannot tell. Then the template's rule decides (content.MessageTemplate.if_interrupted):
   - RETRY (reminders, visit messages, staff alerts): PENDING again, due now. A second reminder
     is better than none, and a crisis alert must reach the clinician.
   - CHECK (receipts and refund notices: anything about money): UNKNOWN, "may have gone: check
     before resending", in its own queue for staff, who look at the mail provider's log and then
     mark it sent or send it again (sending.message_unknown_resolve).
   - A sensitive message (a sign-in link) is never sent again: UNKNOWN, its link blanked; the
     person asks for a new one.

A row that has already used NOTIFICATIONS_MAX_ATTEMPTS attempts is not retried: UNKNOWN too.
"""

import logging
from datetime import datetime

from django.conf import settings

from .. import content
from ..gateways import email_sent_record, get_sms_gateway
from ..models import Channel, Message, MessageStatus
from .sensitive import _forget_credentials

logger = logging.getLogger(__name__)

INTERRUPTED_NOTE = "Interrupted while sending"


def _provider_record(message: Message) -> str | None:
    """The provider's id for this row if it has it, "" if it certainly has not, None if it cannot tell."""
    try:
        if message.channel == Channel.SMS:
            return get_sms_gateway().sent_record(message_id=message.pk)
        return email_sent_record(message_id=message.pk)
    except Exception:  # a provider that cannot be asked cannot tell
        logger.exception("notifications: could not ask the provider about message %s", message.pk)
        return None


def _may_go_again(record: str | None, rule: str, sensitive: bool, attempts: int) -> bool:
    if sensitive or attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        return False
    return record == "" or rule == content.RETRY


def _interrupted_resolve(message: Message, now: datetime) -> str:
    """Resolve one interrupted row (locked by the caller) by the rule above. Returns its new status."""
    record = _provider_record(message)
    rule = content.if_interrupted(message.template)
    sensitive = content.is_sensitive(message.template)
    message.attempt_started_at = None
    if record:
        message.status, message.provider_message_id = MessageStatus.SENT, message.provider_message_id or record
        message.sent_at = message.sent_at or now
        message.last_error = f"{INTERRUPTED_NOTE}; the provider has it, so it went."
    elif _may_go_again(record, rule, sensitive, message.attempts):
        message.status, message.due_at, message.claimed_at = MessageStatus.PENDING, now, None
        message.last_error = (
            f"{INTERRUPTED_NOTE}; the provider does not have it: sending it again."
            if record == ""
            else f"{INTERRUPTED_NOTE}; the provider cannot tell: sent again (a reminder may be retried)."
        )
    else:
        message.status = MessageStatus.UNKNOWN
        message.last_error = f"{INTERRUPTED_NOTE}: it may have gone. Check the provider's log before resending."
    message.save()
    if message.status != MessageStatus.PENDING:
        _forget_credentials(Message.objects.filter(pk=message.pk))
    logger.warning("notifications: message %s was interrupted while sending: now %s", message.pk, message.status)
    return message.status
