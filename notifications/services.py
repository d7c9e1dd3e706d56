"""Messages to patients and staff: the outbox, the reminder rules, and sending.

Every email and text is first a `Message` row (the outbox). The booking app calls the three
visit hooks inside its own transaction; they only write rows. A once-a-minute Celery task
(`tasks.messages_dispatch_due`) claims the rows that are due and queues one send task per row;
messages due at once are claimed right after the transaction commits. The send task re-reads
the row, refuses unless it is claimed and not already being sent, calls the gateway and records
the result. So a row is sent once however often the clock or a task runs.

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

import logging
import re
import uuid
from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from concierge.errors import InvalidState
from concierge.tasks import BROKER_ERRORS, task_queue

from . import content, rules
from .gateways import SendError, get_sms_gateway, send_email
from .gateways.sms import TWILIO_OPTED_OUT
from .models import Channel, InboundAction, InboundSms, Message, MessageStatus, SmsOptOut
from .signals import sms_consent_changed

logger = logging.getLogger(__name__)

# A claimed row whose send task never started (the broker lost it) is queued again after this.
CLAIM_LOST_AFTER = timedelta(minutes=10)
# A row whose send attempt started but never finished (the worker died mid-call) is stopped.
ATTEMPT_LOST_AFTER = timedelta(minutes=15)
NEUTRAL_STAFF_SUBJECT = "ConciergeMD: a patient needs your attention"


# --- writing rows -------------------------------------------------------------------------------


def _profile(user):
    if user is None:
        return None
    try:
        return user.patient_profile
    except ObjectDoesNotExist:
        return None


def _sms_number(user):
    profile = _profile(user)
    if profile is None or not profile.mobile_phone:
        return ""
    return profile.mobile_phone.as_e164


def _address_for(user, channel):
    if user is None:
        return ""
    return _sms_number(user) if channel == Channel.SMS else user.email


def _build(
    *,
    channel,
    to_user=None,
    to_address="",
    template,
    context_ids=None,
    context=None,
    due_at=None,
    unique_key,
    fallback_for=None,
):
    """An unsaved, validated outbox row."""
    spec = content.template_get(template)
    if channel not in spec.channels:
        raise ValueError(f"Template {template!r} has no {channel} version")
    if to_user is None and not to_address:
        raise ValueError("A message needs a recipient user or an address")
    ids = dict(context_ids or {})
    message = Message(
        channel=channel,
        recipient=to_user,
        to_address=to_address or _address_for(to_user, channel),
        template=template,
        visit_id=ids.pop("visit", None),
        context={**(context or {}), **{f"{name}_id": value for name, value in ids.items()}},
        unique_key=unique_key,
        due_at=due_at or timezone.now(),
        fallback_for=fallback_for,
    )
    # The unique key is checked by the database (the only check that holds in a race), and so
    # are the foreign keys (saving a query each).
    message.full_clean(
        exclude=["recipient", "visit", "fallback_for"], validate_unique=False, validate_constraints=False
    )
    return message


def _write(messages):
    """Insert the rows whose unique key is not taken yet; return the live row for each, in order.

    One INSERT ... ON CONFLICT DO NOTHING and one SELECT, however many rows: a booking's
    transaction stays short. Rows already due are claimed and queued right after commit.
    """
    wanted = {}
    for message in messages:
        wanted.setdefault(message.unique_key, message)
    live = {}
    for _ in range(2):  # a second pass only if a conflicting row was cancelled in between
        missing = [m for key, m in wanted.items() if key not in live]
        Message.objects.bulk_create(missing, ignore_conflicts=True)
        live.update(
            (m.unique_key, m)
            for m in Message.objects.exclude(status=MessageStatus.CANCELLED).filter(
                unique_key__in=[m.unique_key for m in missing]
            )
        )
        if len(live) == len(wanted):
            break
    else:
        raise IntegrityError("notifications: could not write outbox rows")
    now = timezone.now()
    due = [m.pk for m in live.values() if m.status == MessageStatus.PENDING and m.due_at <= now]
    if due:
        _send_soon(due)
    return [live[m.unique_key] for m in messages]


@transaction.atomic
def message_enqueue(
    *,
    channel,
    to_user=None,
    to_address="",
    template,
    context_ids=None,
    context=None,
    due_at=None,
    unique_key,
    fallback_for=None,
):
    """Write one message to the outbox; it goes when due (at once by default).

    `context_ids` names what it is about, e.g. {"visit": 12}; `context` holds other plain
    values the template needs. Asking again with the same `unique_key` returns the row already
    there, so callers may retry freely. A key containing ":sms" pairs a text with its email
    twin (the same key with ":email"): if the text cannot go, that email is its stand-in.
    """
    message = _build(
        channel=channel,
        to_user=to_user,
        to_address=to_address,
        template=template,
        context_ids=context_ids,
        context=context,
        due_at=due_at,
        unique_key=unique_key,
        fallback_for=fallback_for,
    )
    return _write([message])[0]


def _send_soon(message_ids):
    """After commit, claim these messages and queue their send tasks (instead of waiting for the clock)."""

    def claim_and_queue():
        _queue_sends(messages_claim_due(ids=message_ids))

    # robust: a broker hiccup after the booking committed must not turn into an error page; the
    # clock picks the rows up within a minute.
    transaction.on_commit(claim_and_queue, robust=True)


def _queue_sends(message_ids):
    """Queue one send task per claimed row; a row whose task the broker refused goes back to pending."""
    for pk in message_ids:
        try:
            task_queue("notifications.tasks.message_deliver", pk)  # by name: tasks import services
        except BROKER_ERRORS:
            logger.exception("notifications: could not queue message %s; back to pending", pk)
            Message.objects.filter(pk=pk, status=MessageStatus.SENDING, attempt_started_at__isnull=True).update(
                status=MessageStatus.PENDING, claimed_at=None, updated_at=timezone.now()
            )


# --- visits -------------------------------------------------------------------------------------


def _visit_key(visit, template, channel, starts_at=None):
    key = f"appt:{visit.pk}:{template}:{channel}"
    if starts_at is not None:
        key += f":{int(starts_at.timestamp())}"
    return key


def _email_twin_key(unique_key):
    return unique_key.replace(":sms", ":email", 1) if ":sms" in unique_key else f"{unique_key}:email"


def _deadline(spec, visit):
    if visit is None or spec.deadline is None:
        return None
    return getattr(visit, spec.deadline)


def _plan_visit_message(*, visit, template, channel, due_at, now, time_bound, context=None):
    """One (unsaved) message about a visit, after quiet hours: a text that cannot go in time becomes an email."""
    spec = content.template_get(template)
    key = _visit_key(visit, template, channel, visit.starts_at if time_bound else None)
    if channel == Channel.SMS:
        when = rules.sms_time(due_at, time_zone=visit.time_zone, deadline=_deadline(spec, visit), now=now)
        if when is None:
            channel, key = Channel.EMAIL, _email_twin_key(key)
        else:
            due_at = when
    return _build(
        channel=channel,
        to_user=visit.patient,
        template=template,
        context_ids={"visit": visit.pk},
        context={"starts_at": visit.starts_at.isoformat(), **(context or {})},
        due_at=due_at,
        unique_key=key,
    )


def _plan_reminders(visit, now):
    planned = []
    for rule in rules.REMINDER_RULES:
        if not rule.applies_to(visit):
            continue
        due_at = rule.due_at(visit)
        if due_at < now:
            continue  # booked inside this reminder's window: it is already past
        for channel in rule.channels:
            planned.append(
                _plan_visit_message(
                    visit=visit,
                    template=rule.template,
                    channel=channel,
                    due_at=due_at,
                    now=now,
                    time_bound=True,
                )
            )
    return planned


def _cancel_unsent(visit, *, templates=None, exclude=(), reason):
    """Cancel a visit's messages that have not started going out.

    Claimed rows whose send task has not started yet are cancelled too: the task refuses any
    row that is no longer claimed.
    """
    unsent = Message.objects.filter(visit=visit).filter(
        Q(status=MessageStatus.PENDING) | Q(status=MessageStatus.SENDING, attempt_started_at__isnull=True)
    )
    if templates is not None:
        unsent = unsent.filter(template__in=templates)
    if exclude:
        unsent = unsent.exclude(template__in=exclude)
    return unsent.update(status=MessageStatus.CANCELLED, last_error=reason, updated_at=timezone.now())


@transaction.atomic
def messages_cancel_pending_for(*, user, reason):
    """Cancel every message to this person that has not started going out (a closed account).

    As `_cancel_unsent`: claimed rows whose send task has not started are cancelled too. Returns
    how many rows were cancelled; a second call finds none.
    """
    unsent = Message.objects.filter(recipient=user).filter(
        Q(status=MessageStatus.PENDING) | Q(status=MessageStatus.SENDING, attempt_started_at__isnull=True)
    )
    return unsent.update(status=MessageStatus.CANCELLED, last_error=reason, updated_at=timezone.now())


@transaction.atomic
def visit_confirmed(*, visit):
    """A visit was confirmed: confirmation email (.ics) and text, and its reminders.

    Calling it again for the same visit adds nothing (unique keys).
    """
    now = timezone.now()
    if visit.starts_at <= now:
        return []
    template, channels = rules.CONFIRMED_NOTICE
    planned = [
        _plan_visit_message(visit=visit, template=template, channel=channel, due_at=now, now=now, time_bound=False)
        for channel in channels
    ]
    return _write(planned + _plan_reminders(visit, now))


@transaction.atomic
def visit_rescheduled(*, visit, previous_starts_at):
    """A confirmed visit moved: replace its pending reminders and tell the patient (email with .ics, text)."""
    now = timezone.now()
    _cancel_unsent(visit, templates=rules.TIME_BOUND_TEMPLATES, reason="The visit moved.")
    if visit.starts_at <= now:
        return []
    template, channels = rules.RESCHEDULED_NOTICE
    planned = [
        _plan_visit_message(visit=visit, template=template, channel=channel, due_at=now, now=now, time_bound=True)
        for channel in channels
    ]
    return _write(planned + _plan_reminders(visit, now))


@transaction.atomic
def visit_cancelled(*, visit):
    """A visit was cancelled: cancel its unsent messages and send one notice (email and text)."""
    now = timezone.now()
    template, channels = rules.CANCELLED_NOTICE
    _cancel_unsent(visit, exclude=(template,), reason="The visit was cancelled.")
    return _write(
        [
            _plan_visit_message(visit=visit, template=template, channel=channel, due_at=now, now=now, time_bound=False)
            for channel in channels
        ]
    )


@transaction.atomic
def sms_on_my_way(*, visit, eta_from, eta_until):
    """The nurse is on the way: one text with the arrival window, e.g. '9:40-10:00 AM EST'.

    Once per visit: tapping "on my way" again returns the first message.
    """
    if eta_until < eta_from:
        raise ValueError("eta_until is before eta_from")
    now = timezone.now()
    message = _plan_visit_message(
        visit=visit,
        template="on_my_way",
        channel=Channel.SMS,
        due_at=now,
        now=now,
        time_bound=False,
        context={"eta_from": eta_from.isoformat(), "eta_until": eta_until.isoformat()},
    )
    return _write([message])[0]


@transaction.atomic
def staff_alert_email(*, to, subject, body, unique_key):
    """An urgent email to a clinician or staff member (a User or an address), sent at once.

    The body may be clinical (it goes to clinicians); the subject is seen on lock screens, so a
    subject with a clinical word is replaced by a neutral one. One email per key and recipient.
    """
    user = to if hasattr(to, "email") else None
    address = user.email if user is not None else str(to)
    if content.forbidden_words_in(subject):
        logger.warning("notifications: staff alert subject replaced by the neutral one")
        subject = NEUTRAL_STAFF_SUBJECT
    return message_enqueue(
        channel=Channel.EMAIL,
        to_user=user,
        to_address=address,
        template="staff_alert",
        context={"subject": subject, "body": body},
        unique_key=f"staff-alert:{unique_key}:{address.lower()}",
    )


@transaction.atomic
def password_reset_email(sender=None, *, user, reset_url, **kwargs):
    """The password-reset email with its link, sent at once (concierge.signals.password_reset_requested).

    The link signs the person in, so the template is sensitive: staff never see it, it is blanked
    once sent, and it is never sent again. Every request is a new email (the form is rate limited).
    """
    return message_enqueue(
        channel=Channel.EMAIL,
        to_user=user,
        template="password_reset",
        context={"reset_url": reset_url},
        unique_key=f"password-reset:{user.pk}:{uuid.uuid4().hex}",
    )


# --- the clock ----------------------------------------------------------------------------------


def messages_claim_due(*, now=None, limit=500, ids=None):
    """Claim pending messages that are due (pending -> sending) and return their ids.

    Two clocks or workers running this at once get disjoint rows: rows are locked with
    SKIP LOCKED, so each is claimed by one caller only (SQLite, in the local run, serialises
    whole transactions instead).
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = Message.objects.filter(status=MessageStatus.PENDING, due_at__lte=now)
        if ids is not None:
            due = due.filter(pk__in=ids)
        claimed = list(
            due.order_by("due_at", "pk").select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit]
        )
        if claimed:
            Message.objects.filter(pk__in=claimed, status=MessageStatus.PENDING).update(
                status=MessageStatus.SENDING, claimed_at=now, updated_at=now
            )
    return claimed


def _messages_recover(now):
    """Rows a lost task left behind. Returns the ids to queue again."""
    with transaction.atomic():
        lost = list(
            Message.objects.filter(
                status=MessageStatus.SENDING, attempt_started_at__isnull=True, claimed_at__lt=now - CLAIM_LOST_AFTER
            )
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        Message.objects.filter(pk__in=lost).update(claimed_at=now, updated_at=now)
        # It may or may not have gone: never guess, let staff look at the provider and resend.
        interrupted = Message.objects.filter(
            status=MessageStatus.SENDING, attempt_started_at__lt=now - ATTEMPT_LOST_AFTER
        )
        _forget_credentials(interrupted)  # (a sensitive one is never resent)
        interrupted.update(
            status=MessageStatus.FAILED,
            attempt_started_at=None,
            last_error="Interrupted while sending: it may have gone. Check the provider's log before resending.",
            updated_at=now,
        )
    return lost


def messages_dispatch_due(*, now=None, limit=500):
    """The clock's work, every minute: claim what is due and queue one send task per message."""
    now = now or timezone.now()
    claimed = _messages_recover(now) + messages_claim_due(now=now, limit=limit)
    _queue_sends(claimed)
    return claimed


# --- sending ------------------------------------------------------------------------------------


def _time_zone_for(message):
    if message.visit_id:
        return message.visit.time_zone
    profile = _profile(message.recipient)
    return (profile.time_zone if profile is not None else "") or settings.NOTIFICATIONS_DEFAULT_TIME_ZONE


def _not_relevant(message, now):
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
        return "Too late: the visit has started." if spec.deadline == "starts_at" else "Too late: the visit is over."
    return None


def _forget_credentials(rows):
    """Blank the context and text of the sensitive rows among `rows`: they have gone, or never will."""
    rows.filter(template__in=content.SENSITIVE_TEMPLATES).update(context={}, body="")


def _close(message, status, reason):
    message.status = status
    message.last_error = reason
    message.attempt_started_at = None
    message.save(update_fields=["status", "last_error", "attempt_started_at", "updated_at"])
    if content.is_sensitive(message.template):
        _forget_credentials(Message.objects.filter(pk=message.pk))
        message.context, message.body = {}, ""
    return message


def _fallback_email(message):
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


def _suppress(message, reason):
    _close(message, MessageStatus.SUPPRESSED, reason)
    _fallback_email(message)
    return message


def _lock_recipient(user_id):
    # Two texts to one patient at once must not both slip under the daily limit. An advisory
    # lock, not a row lock on the user, so it cannot deadlock with booking's own locks.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7001, user_id % 2_147_483_647])


def _sms_gate(message, now):
    """Whether a claimed text may go now. Returns None to go, else the message (deferred or suppressed)."""
    user = message.recipient
    number = _sms_number(user) if user is not None else message.to_address
    if not number:
        return _suppress(message, "No mobile number on file.")
    if user is not None and not getattr(_profile(user), "sms_opt_in", False):
        return _suppress(message, "The patient has not agreed to text messages.")
    if SmsOptOut.objects.filter(phone_number=number, is_opted_out=True).exists():
        return _suppress(message, "This number replied STOP.")
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


def _status_callback_url(message):
    return f"{settings.SITE_URL}{reverse('notifications:twilio-status')}?m={message.pk}"


def message_deliver(*, message_id):
    """Send one claimed message and record the result. Returns the message, or None if refused.

    Refuses a row that is not claimed or whose attempt has already started, so a task that runs
    twice sends once. Transient errors put the row back for a later attempt (exponential
    backoff, up to NOTIFICATIONS_MAX_ATTEMPTS); permanent ones fail it at once, and a text that
    cannot go is replaced by an email.
    """
    now = timezone.now()
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("recipient", "visit__service")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.status != MessageStatus.SENDING or message.attempt_started_at is not None:
            return None
        reason = _not_relevant(message, now)
        if reason:
            return _close(message, MessageStatus.CANCELLED, reason)
        if message.channel == Channel.SMS:
            if _sms_gate(message, now) is not None:
                return message
        else:
            message.to_address = message.to_address if message.recipient_id is None else message.recipient.email
            if message.recipient_id is not None and not message.recipient.is_active:
                return _close(message, MessageStatus.SUPPRESSED, "The account is closed.")
        try:
            rendered = content.render(message)
        except Exception:
            logger.exception("notifications: message %s could not be written", message.pk)
            _close(message, MessageStatus.FAILED, "The message could not be written (template error).")
            _fallback_email(message)
            return message
        message.subject, message.body = rendered.subject, rendered.text
        message.attempts += 1
        message.attempt_started_at = now
        message.save()
    started = message.attempt_started_at

    # Outside the transaction: a slow provider must not hold the row lock.
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
    return _attempt_succeeded(
        message.pk, provider_id, started, forget_credentials=content.is_sensitive(message.template)
    )


def _attempt_succeeded(message_id, provider_id, started, *, forget_credentials=False):
    now = timezone.now()
    recorded = Message.objects.filter(pk=message_id, status=MessageStatus.SENDING, attempt_started_at=started).update(
        status=MessageStatus.SENT,
        sent_at=now,
        provider_message_id=provider_id,
        attempt_started_at=None,
        last_error="",
        updated_at=now,
    )
    if not recorded:
        # A delivery receipt was faster than us: keep its status, add what we know.
        Message.objects.filter(pk=message_id, provider_message_id="").update(provider_message_id=provider_id)
        Message.objects.filter(pk=message_id, sent_at__isnull=True).update(sent_at=now)
    if forget_credentials:
        _forget_credentials(Message.objects.filter(pk=message_id))
    logger.info("notifications: message %s sent", message_id)
    return Message.objects.get(pk=message_id)


def retry_delay(attempts):
    """Wait before attempt `attempts + 1`: 1, 2, 4, 8... minutes (settings), capped."""
    base = settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), settings.NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS))


@transaction.atomic
def _attempt_failed(message_id, error, started):
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
def message_resend(*, message):
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


# --- Twilio: delivery receipts and incoming texts -------------------------------------------


@transaction.atomic
def sms_status_record(*, message_id=None, message_sid, status, error_code=None):
    """A delivery receipt from Twilio. Out of order or repeated receipts change nothing twice."""
    rows = Message.objects.select_for_update().filter(channel=Channel.SMS)
    if message_id is not None:
        message = rows.filter(pk=message_id).first()
    else:
        message = rows.filter(provider_message_id=message_sid).first()
    if message is None or (message.provider_message_id and message.provider_message_id != message_sid):
        return None
    if message.status not in (MessageStatus.SENDING, MessageStatus.SENT):
        return message  # already delivered, failed or closed: a late or repeated receipt
    now = timezone.now()
    if status == "delivered":
        message.status = MessageStatus.DELIVERED
        message.delivered_at = now
    elif status in ("failed", "undelivered"):
        message.status = MessageStatus.FAILED
        message.last_error = f"The carrier reported it {status} (code {error_code or 'none'})."
    else:
        return message  # queued, sending, sent: nothing new
    message.provider_message_id = message.provider_message_id or message_sid
    message.sent_at = message.sent_at or now
    message.attempt_started_at = None
    message.save()
    if message.status == MessageStatus.FAILED:
        if str(error_code) == str(TWILIO_OPTED_OUT):
            sms_opt_out_record(phone_number=message.to_address, keyword="twilio-21610")
        _fallback_email(message)
    return message


STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}


def inbound_action(body):
    """What a text asks for: the whole text, without case or trailing punctuation, is the keyword."""
    word = re.sub(r"[\s.!?]+$", "", (body or "").strip()).upper()
    if word in STOP_WORDS:
        return InboundAction.STOP
    if word in START_WORDS:
        return InboundAction.START
    if word in HELP_WORDS:
        return InboundAction.HELP
    return InboundAction.OTHER


def normalize_number(value):
    try:
        number = phonenumbers.parse(value or "", "US")
    except phonenumbers.NumberParseException:
        return (value or "").strip()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def inbound_reply(action):
    clinic, phone = settings.CLINIC_NAME, settings.CLINIC_PHONE
    if action == InboundAction.STOP:
        return ""  # Twilio confirms an opt-out itself and blocks anything we would send
    if action == InboundAction.START:
        return f"{clinic}: you will get visit texts again. Reply HELP for help, STOP to opt out."
    if action == InboundAction.HELP:
        return f"{clinic} home visits. For help call {phone}. Msg&data rates may apply. Reply STOP to opt out."
    return f"{clinic} cannot read replies to this number. Please call {phone}. Reply STOP to opt out."


@transaction.atomic
def sms_opt_out_record(*, phone_number, keyword="STOP"):
    """This number said STOP: nothing more is texted to it, and its patients' consent is withdrawn."""
    now = timezone.now()
    number = normalize_number(phone_number)
    row, created = SmsOptOut.objects.select_for_update().get_or_create(
        phone_number=number, defaults={"is_opted_out": True, "keyword": keyword[:20], "changed_at": now}
    )
    if not created:
        if row.is_opted_out:
            return row
        row.is_opted_out, row.keyword, row.changed_at = True, keyword[:20], now
        row.full_clean()
        row.save()
    sms_consent_changed.send(sender=SmsOptOut, phone_number=number, opted_in=False, at=now)
    return row


@transaction.atomic
def sms_opt_in_record(*, phone_number, keyword="START"):
    """This number texted START: texts may go to it again, and its patients agree to them."""
    now = timezone.now()
    number = normalize_number(phone_number)
    row = SmsOptOut.objects.select_for_update().filter(phone_number=number).first()
    if row is not None and row.is_opted_out:
        row.is_opted_out, row.keyword, row.changed_at = False, keyword[:20], now
        row.save()
    sms_consent_changed.send(sender=SmsOptOut, phone_number=number, opted_in=True, at=now)
    return row


@transaction.atomic
def sms_inbound_handle(*, message_sid, from_number, body):
    """A text a patient sent: STOP/START act on the number, HELP answers. Returns the reply ('' for none).

    The same Twilio message delivered twice acts once (keyed on its id).
    """
    action = inbound_action(body)
    number = normalize_number(from_number)
    inbound, created = InboundSms.objects.get_or_create(
        message_sid=message_sid,
        defaults={"from_number": number, "action": action, "received_at": timezone.now()},
    )
    if created:
        keyword = (body or "").strip().upper()[:20]
        if action == InboundAction.STOP:
            sms_opt_out_record(phone_number=number, keyword=keyword)
        elif action == InboundAction.START:
            sms_opt_in_record(phone_number=number, keyword=keyword)
    return inbound_reply(inbound.action)
