"""Messages to patients and staff: the outbox, the reminder rules, and sending.

Every email and text is first a `Message` row (the outbox). The booking app calls the three
visit hooks inside its own transaction; they only write rows. A once-a-minute Celery task
(`tasks.messages_dispatch_due`) claims the rows that are due and queues one delivery task per
row; messages due at once are claimed right after the transaction commits. The delivery task
re-reads the row, refuses unless it is claimed and not already being sent, calls the gateway and
records the result. So a row is sent once however often the clock or a task runs.

One module per use case (this package re-exports the public functions, so callers keep writing
`from notifications import services as notify; notify.message_enqueue(...)`):

    outbox        writing rows: message_enqueue, staff_alert_email, password_reset_email,
                  messages_cancel_pending_for
    visits        visit messages and reminders: visit_confirmed, visit_rescheduled,
                  visit_cancelled, sms_on_my_way
    clock         the claim and the clock: messages_claim_due, messages_dispatch_due
    interrupted   an attempt a dead worker left unrecorded: the rule that settles it
    sending       one claimed row out: message_deliver, message_resend, retry_delay;
                  message_unknown_resolve (staff settle a message that may have gone)
    twilio_hooks  Twilio's delivery receipts and incoming texts: sms_status_record,
                  sms_inbound_handle
    optouts       a number's STOP and START: sms_opt_out_record, sms_opt_in_record
    sensitive     blanking the rows of sensitive templates (the password reset)

A name with a leading underscore is for these modules only (a few are shared between them).

For other apps:
    message_enqueue(*, channel, to_user=None, to_address="", template, context_ids=None,
                    context=None, due_at=None, unique_key)
    sms_on_my_way(*, visit, eta_from, eta_until)
    staff_alert_email(*, to, subject, body, unique_key)
    visit_confirmed / visit_rescheduled / visit_cancelled (booking)
    messages_cancel_pending_for(*, user, reason) (a patient closed their account)
    password_reset_email(*, user, reset_url) (listens to concierge.signals.password_reset_requested)

A template marked sensitive (content.TEMPLATES: the password reset) carries a credential: its
context and text are blanked once it has gone (or can never go), and staff never resend it.
"""

from .clock import ATTEMPT_LOST_AFTER, CLAIM_LOST_AFTER, messages_claim_due, messages_dispatch_due
from .optouts import normalize_number, sms_opt_in_record, sms_opt_out_record
from .outbox import (
    NEUTRAL_STAFF_SUBJECT,
    message_enqueue,
    messages_cancel_pending_for,
    password_reset_email,
    staff_alert_email,
)
from .sending import message_deliver, message_resend, message_unknown_resolve, retry_delay
from .twilio_hooks import (
    HELP_WORDS,
    START_WORDS,
    STOP_WORDS,
    inbound_action,
    inbound_reply,
    sms_inbound_handle,
    sms_status_record,
)
from .visits import sms_on_my_way, visit_cancelled, visit_confirmed, visit_rescheduled

__all__ = [
    "ATTEMPT_LOST_AFTER",
    "CLAIM_LOST_AFTER",
    "HELP_WORDS",
    "NEUTRAL_STAFF_SUBJECT",
    "START_WORDS",
    "STOP_WORDS",
    "inbound_action",
    "inbound_reply",
    "message_deliver",
    "message_enqueue",
    "message_resend",
    "message_unknown_resolve",
    "messages_cancel_pending_for",
    "messages_claim_due",
    "messages_dispatch_due",
    "normalize_number",
    "password_reset_email",
    "retry_delay",
    "sms_inbound_handle",
    "sms_on_my_way",
    "sms_opt_in_record",
    "sms_opt_out_record",
    "sms_status_record",
    "staff_alert_email",
    "visit_cancelled",
    "visit_confirmed",
    "visit_rescheduled",
]
