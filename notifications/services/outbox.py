"""Writing outbox rows: one validated `Message` per email or text, once per unique key.

`message_enqueue` is the way in for every app; `staff_alert_email` and `password_reset_email`
are its two ready-made messages, `messages_cancel_pending_for` stops what a closed account still
had waiting. Rows that are due at once are claimed and queued right after the commit (clock.py).
The helpers here (the patient's profile and number, a text's email twin, a template's deadline)
are shared with the visit messages and with sending.
"""

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from concierge.models import User

from .. import content
from ..facts import VisitFacts
from ..models import Channel, Message, MessageStatus
from .clock import _send_soon

logger = logging.getLogger(__name__)

NEUTRAL_STAFF_SUBJECT = "ConciergeMD: a patient needs your attention"


def _profile(user: User | None) -> Any:  # patients' PatientProfile (a layer above), or None
    if user is None:
        return None
    try:
        return user.patient_profile
    except ObjectDoesNotExist:
        return None


def _sms_number(user: User | None) -> str:
    profile = _profile(user)
    if profile is None or not profile.mobile_phone:
        return ""
    return profile.mobile_phone.as_e164


def _address_for(user: User | None, channel: str) -> str:
    if user is None:
        return ""
    return _sms_number(user) if channel == Channel.SMS else user.email


def _build(
    *,
    channel: str,
    to_user: User | None = None,
    to_address: str = "",
    template: str,
    context_ids: Mapping[str, int] | None = None,
    context: Mapping[str, Any] | None = None,
    due_at: datetime | None = None,
    unique_key: str,
    fallback_for: Message | None = None,
) -> Message:
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


def _write(messages: list[Message]) -> list[Message]:
    """Insert the rows whose unique key is not taken yet; return the live row for each, in order.

    One INSERT ... ON CONFLICT DO NOTHING and one SELECT, however many rows: a booking's
    transaction stays short. Rows already due are claimed and queued right after commit.
    """
    wanted: dict[str, Message] = {}
    for message in messages:
        wanted.setdefault(message.unique_key, message)
    live: dict[str, Message] = {}
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
    channel: str,
    to_user: User | None = None,
    to_address: str = "",
    template: str,
    context_ids: Mapping[str, int] | None = None,
    context: Mapping[str, Any] | None = None,
    due_at: datetime | None = None,
    unique_key: str,
    fallback_for: Message | None = None,
) -> Message:
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


def _email_twin_key(unique_key: str) -> str:
    return unique_key.replace(":sms", ":email", 1) if ":sms" in unique_key else f"{unique_key}:email"


def _deadline(spec: content.MessageTemplate, visit: VisitFacts | None) -> datetime | None:
    if visit is None or spec.deadline is None:
        return None
    return getattr(visit, spec.deadline)


@transaction.atomic
def messages_cancel_pending_for(*, user: User, reason: str) -> int:
    """Cancel every message to this person that has not started going out (a closed account).

    As `_cancel_unsent`: claimed rows whose send task has not started are cancelled too. Returns
    how many rows were cancelled; a second call finds none.
    """
    unsent = Message.objects.filter(recipient=user).filter(
        Q(status=MessageStatus.PENDING) | Q(status=MessageStatus.SENDING, attempt_started_at__isnull=True)
    )
    return unsent.update(status=MessageStatus.CANCELLED, last_error=reason, updated_at=timezone.now())


@transaction.atomic
def staff_alert_email(*, to: User | str, subject: str, body: str, unique_key: str) -> Message:
    """An urgent email to a clinician or staff member (a User or an address), sent at once.

    The body may be clinical (it goes to clinicians); the subject is seen on lock screens, so a
    subject with a clinical word is replaced by a neutral one. One email per key and recipient.
    """
    user = to if isinstance(to, User) else None
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
def password_reset_email(sender: object = None, *, user: User, reset_url: str, **kwargs: object) -> Message:
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
