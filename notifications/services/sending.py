"""Sending one claimed row: the checks before, the provider call, and the result.

`message_deliver` (the Celery task of the same name wraps it) refuses a row that is not claimed
or whose attempt has already started, so a task that runs twice sends once. A text passes the
gate first (number, consent, STOP, quiet hours, the daily limit); a text that cannot go is
replaced by its email twin. Transient errors are retried with backoff (`retry_delay`); staff
may resend a failed message (`message_resend`).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from concierge.errors import InvalidState

from .. import content, rules
from ..gateways import SendError, get_sms_gateway, send_email
from ..gateways.sms import TWILIO_OPTED_OUT
from ..models import Channel, Message, MessageStatus, SmsOptOut
from .clock import _send_soon
from .optouts import sms_opt_out_record
from .outbox import _deadline, _email_twin_key, _profile, _sms_number, message_enqueue
from .sensitive import _forget_credentials

logger = logging.getLogger(__name__)


def _time_zone_for(message: Message) -> str:
    if message.visit is not None:
        return message.visit.time_zone
    profile = _profile(message.recipient)
    return (
        (profile.time_zone if profile is not None else "")
        or (message.context or {}).get("time_zone")  # someone with no login (the coverage waitlist)
        or settings.NOTIFICATIONS_DEFAULT_TIME_ZONE
    )


def _not_relevant(message: Message, now: datetime) -> str | None:
    """Why a message about a visit should no longer go, or None."""
    visit = message.visit
    if visit is None:
        return None
    spec = content.template_get(message.template)
    if spec.visit_statuses is not None and visit.status not in spec.visit_statuses:
        return f"The visit is now {visit.status}."
    planned_for = (message.context or {}).get("starts_at")
    if spec.bound_to_visit_time and planned_for and datetime.fromisoformat(planned_for) != visit.starts_at:
        return "The visit moved."
    deadline = _deadline(spec, visit)
    if deadline is not None and now >= deadline:
        if spec.deadline == "starts_at":
            return "Too late: the visit has started."
        return (
            "Too late: the hold has run out." if spec.deadline == "hold_expires_at" else "Too late: the visit is over."
        )
    return None


def _close(message: Message, status: str, reason: str) -> Message:
    message.status = status
    message.last_error = reason
    message.attempt_started_at = None
    message.save(update_fields=["status", "last_error", "attempt_started_at", "updated_at"])
    if content.is_sensitive(message.template):
        _forget_credentials(Message.objects.filter(pk=message.pk))
        message.context, message.body = {}, ""
    return message


def _fallback_email(message: Message) -> Message | None:
    """An email in place of a text that cannot go (none if the text's email twin already exists)."""
    if message.channel != Channel.SMS or message.recipient_id is None:
        return None
    if Channel.EMAIL not in content.template_get(message.template).channels:
        return None
    context = dict(message.context or {})
    return message_enqueue(
        channel=Channel.EMAIL,
        to_user=message.recipient,
        template=message.template,
        context_ids={"visit": message.visit_id} if message.visit_id else None,
        context=context,
        unique_key=_email_twin_key(message.unique_key),
        fallback_for=message,
    )


def _suppress(message: Message, reason: str) -> Message:
    _close(message, MessageStatus.SUPPRESSED, reason)
    _fallback_email(message)
    return message


def _lock_recipient(user_id: int) -> None:
    # Two texts to one patient at once must not both slip under the daily limit. An advisory
    # lock, not a row lock on the user, so it cannot deadlock with booking's own locks.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7001, user_id % 2_147_483_647])


def _sms_gate(message: Message, now: datetime) -> Message | None:
    """Whether a claimed text may go now. Returns None to go, else the message (deferred or suppressed)."""
    user = message.recipient
    number = _sms_number(user) if user is not None else message.to_address
    if not number:
        return _suppress(message, "No mobile number on file.")
    if user is not None and not getattr(_profile(user), "sms_opt_in", False):
        return _suppress(message, "The patient has not agreed to text messages.")
    if SmsOptOut.objects.filter(phone_number=number, is_opted_out=True).exists():
        return _suppress(message, "This number replied STOP.")
    if content.template_get(message.template).staff_page:
        message.to_address = number
        return None  # a clinician on call is paged at any hour
    time_zone = _time_zone_for(message)
    if not rules.sms_allowed(now, time_zone):
        spec = content.template_get(message.template)
        when = rules.sms_time(now, time_zone=time_zone, deadline=_deadline(spec, message.visit), now=now)
        if when is None:
            return _suppress(message, "Quiet hours: no time left to text before the visit.")
        message.status, message.due_at, message.claimed_at = MessageStatus.PENDING, when, None
        message.save(update_fields=["status", "due_at", "claimed_at", "updated_at"])
        return message
    if user is not None:
        _lock_recipient(user.pk)
        day_start, day_end = rules.local_day_bounds(now, time_zone)
        sent_today = (
            Message.objects.filter(recipient=user, channel=Channel.SMS)
            .filter(
                Q(status__in=(MessageStatus.SENT, MessageStatus.DELIVERED), sent_at__gte=day_start, sent_at__lt=day_end)
                | Q(status=MessageStatus.SENDING, attempt_started_at__isnull=False)
            )
            .exclude(pk=message.pk)
            .count()
        )
        if sent_today >= settings.NOTIFICATIONS_SMS_DAILY_CAP:
            return _suppress(message, "Daily text limit for this patient reached.")
    message.to_address = number
    return None


def _status_callback_url(message: Message) -> str:
    return f"{settings.SITE_URL}{reverse('notifications:twilio-status')}?m={message.pk}"


def message_deliver(*, message_id: int) -> Message | None:
    """Send one claimed message and record the result. Returns the message, or None if refused.

    Refuses a row that is not claimed or whose attempt has already started, so a task that runs
    twice sends once. Transient errors put the row back for a later attempt (exponential
    backoff, up to NOTIFICATIONS_MAX_ATTEMPTS); permanent ones fail it at once, and a text that
    cannot go is replaced by an email.
    """
    now = timezone.now()
    with transaction.atomic():
        message = _claimed_row_locked(message_id)
        if message is None:
            return None
        held = _held_back(message, now)
        if held is not None:
            return held
        rendered = _rendered_or_failed(message)
        if rendered is None:
            return message
        _attempt_start(message, rendered, now)
    # Outside the transaction: a slow provider must not hold the row lock.
    return _provider_send(message, rendered)


def _claimed_row_locked(message_id: int) -> Message | None:
    """The row, locked, if it is claimed and no attempt has started on it; else None."""
    message = (
        Message.objects.select_for_update(of=("self",))
        # The patient's profile too: the text gate and the greeting both read it.
        .select_related("recipient__patient_profile", "visit__service")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.status != MessageStatus.SENDING or message.attempt_started_at is not None:
        return None
    return message


def _held_back(message: Message, now: datetime) -> Message | None:
    """None when the message may go now (its address set); else the message, closed or deferred."""
    reason = _not_relevant(message, now)
    if reason:
        return _close(message, MessageStatus.CANCELLED, reason)
    if message.channel == Channel.SMS:
        return _sms_gate(message, now)
    recipient = message.recipient  # loaded with the row (select_related)
    message.to_address = message.to_address if recipient is None else recipient.email
    if recipient is not None and not recipient.is_active:
        return _close(message, MessageStatus.SUPPRESSED, "The account is closed.")
    return None


def _rendered_or_failed(message: Message) -> content.Rendered | None:
    """The message's subject and text; None when its template cannot be rendered (the row failed)."""
    try:
        return content.render(message)
    except Exception:
        logger.exception("notifications: message %s could not be written", message.pk)
        _close(message, MessageStatus.FAILED, "The message could not be written (template error).")
        _fallback_email(message)
        return None


def _attempt_start(message: Message, rendered: content.Rendered, now: datetime) -> None:
    """Record the attempt before calling the provider: a second task now refuses the row."""
    message.subject, message.body = rendered.subject, rendered.text
    message.attempts += 1
    message.attempt_started_at = now
    message.save(update_fields=["subject", "body", "attempts", "attempt_started_at", "to_address", "updated_at"])


def _provider_send(message: Message, rendered: content.Rendered) -> Message:
    """Hand the message to the gateway and record what it said."""
    started = message.attempt_started_at
    try:
        if message.channel == Channel.SMS:
            provider_id = get_sms_gateway().send(
                to=message.to_address,
                body=rendered.text,
                message_id=message.pk,
                status_callback=_status_callback_url(message),
            )
        else:
            provider_id = send_email(
                to=message.to_address,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                attachments=rendered.attachments,
                message_id=message.pk,
            )
    except SendError as exc:
        return _attempt_failed(message.pk, exc, started)
    return _attempt_succeeded(message, provider_id, started, forget_credentials=content.is_sensitive(message.template))


def _attempt_succeeded(
    message: Message, provider_id: str, started: datetime | None, *, forget_credentials: bool = False
) -> Message:
    now = timezone.now()
    fields = {
        "status": MessageStatus.SENT,
        "sent_at": now,
        "provider_message_id": provider_id,
        "attempt_started_at": None,
        "last_error": "",
        "updated_at": now,
    }
    recorded = Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING, attempt_started_at=started).update(
        **fields
    )
    if not recorded:
        # A delivery receipt was faster than us: keep its status, add what we know.
        Message.objects.filter(pk=message.pk, provider_message_id="").update(provider_message_id=provider_id)
        Message.objects.filter(pk=message.pk, sent_at__isnull=True).update(sent_at=now)
    if forget_credentials:
        _forget_credentials(Message.objects.filter(pk=message.pk))
    logger.info("notifications: message %s sent", message.pk)
    if recorded and not forget_credentials:
        for name, value in fields.items():  # what the row now holds: no need to read it back
            setattr(message, name, value)
        return message
    return Message.objects.get(pk=message.pk)


def retry_delay(attempts: int) -> timedelta:
    """Wait before attempt `attempts + 1`: 1, 2, 4, 8... minutes (settings), capped."""
    base = settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), settings.NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS))


@transaction.atomic
def _attempt_failed(message_id: int, error: SendError, started: datetime | None) -> Message:
    now = timezone.now()
    message = Message.objects.select_for_update().get(pk=message_id)
    if message.status != MessageStatus.SENDING or message.attempt_started_at != started:
        return message
    message.last_error = error.message[:500]
    message.attempt_started_at = None
    if error.permanent or message.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        logger.warning(
            "notifications: message %s failed after %s attempt(s) (code %s)", message.pk, message.attempts, error.code
        )
        message.status = MessageStatus.FAILED
        message.save(update_fields=["status", "last_error", "attempt_started_at", "updated_at"])
        if content.is_sensitive(message.template):
            _forget_credentials(Message.objects.filter(pk=message.pk))
        if error.code == TWILIO_OPTED_OUT and message.to_address:
            sms_opt_out_record(phone_number=message.to_address, keyword="twilio-21610")
        _fallback_email(message)
        return message
    logger.info("notifications: message %s attempt %s failed, will retry", message.pk, message.attempts)
    message.status = MessageStatus.PENDING
    message.claimed_at = None
    message.due_at = now + retry_delay(message.attempts)
    message.save(update_fields=["status", "last_error", "attempt_started_at", "claimed_at", "due_at", "updated_at"])
    return message


@transaction.atomic
def message_resend(*, message: Message) -> Message:
    """Staff: send a failed message again (at once, with a fresh count of attempts).

    Never a sensitive one (a password reset): its link is gone; the person asks for a new one.
    """
    if content.is_sensitive(message.template):
        raise InvalidState("A message with a sign-in link is never sent again: the person can ask for a new one.")
    now = timezone.now()
    requeued = Message.objects.filter(pk=message.pk, status=MessageStatus.FAILED).update(
        status=MessageStatus.PENDING,
        due_at=now,
        attempts=0,
        claimed_at=None,
        attempt_started_at=None,
        updated_at=now,
    )
    if not requeued:
        raise InvalidState("Only a failed message can be sent again.")
    _send_soon([message.pk])
    message.refresh_from_db()
    return message


@transaction.atomic
def message_unknown_resolve(*, message: Message, went: bool) -> Message:
    """Staff looked at the provider's log for a message that may have gone: it went (SENT), or it
    did not (sent again, at once). Only for UNKNOWN rows; a sign-in link is never sent again."""
    row = Message.objects.select_for_update().get(pk=message.pk)
    if row.status != MessageStatus.UNKNOWN:
        raise InvalidState("Only a message that may have gone can be settled this way.")
    now = timezone.now()
    if went:
        row.status, row.sent_at = MessageStatus.SENT, row.sent_at or now
        row.last_error = "Staff checked the provider's log: it went."
        row.save(update_fields=["status", "sent_at", "last_error", "updated_at"])
        return row
    if content.is_sensitive(row.template):
        raise InvalidState("A message with a sign-in link is never sent again: the person can ask for a new one.")
    row.status, row.due_at, row.claimed_at, row.attempts = MessageStatus.PENDING, now, None, 0
    row.last_error = "Staff checked the provider's log: it did not go. Sending it again."
    row.save(update_fields=["status", "due_at", "claimed_at", "attempts", "last_error", "updated_at"])
    _send_soon([row.pk])
    return row
