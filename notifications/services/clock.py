"""The clock and the claim: which rows are due, and who sends each one.

A row is claimed (pending -> sending) by exactly one caller, with SKIP LOCKED, then one
`notifications.tasks.message_deliver` task is queued for it by name. Rows due at once are claimed
right after the writing transaction commits (`_send_soon`); the rest by the once-a-minute clock
(`messages_dispatch_due`), which also picks up rows a lost task left behind.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from concierge.tasks import BROKER_ERRORS, task_queue

from ..models import Message, MessageStatus
from .interrupted import _interrupted_resolve

logger = logging.getLogger(__name__)

# A claimed row whose send task never started (the broker lost it) is queued again after this
# (NOTIFICATIONS_CLAIM_LOST_SECONDS). A row whose send attempt started but never finished (the
# worker died mid-call) is resolved by the rule in interrupted.py after
# NOTIFICATIONS_ATTEMPT_LOST_SECONDS: far longer than any provider call may take (their timeouts
# are seconds), so a slow send is never mistaken for a dead one.
CLAIM_LOST_AFTER = timedelta(minutes=10)
ATTEMPT_LOST_AFTER = timedelta(minutes=15)


def _claim_lost_after() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATIONS_CLAIM_LOST_SECONDS)


def _attempt_lost_after() -> timedelta:
    return timedelta(seconds=settings.NOTIFICATIONS_ATTEMPT_LOST_SECONDS)


def _send_soon(message_ids: list[int]) -> None:
    """After commit, claim these messages and queue their send tasks (instead of waiting for the clock)."""

    def claim_and_queue() -> None:
        _queue_sends(messages_claim_due(ids=message_ids))

    # robust: a broker hiccup after the booking committed must not turn into an error page; the
    # clock picks the rows up within a minute.
    transaction.on_commit(claim_and_queue, robust=True)


def _queue_sends(message_ids: Iterable[int]) -> None:
    """Queue one send task per claimed row; a row whose task the broker refused goes back to pending."""
    for pk in message_ids:
        try:
            task_queue("notifications.tasks.message_deliver", pk)  # by name: tasks import services
        except BROKER_ERRORS:
            logger.exception("notifications: could not queue message %s; back to pending", pk)
            Message.objects.filter(pk=pk, status=MessageStatus.SENDING, attempt_started_at__isnull=True).update(
                status=MessageStatus.PENDING, claimed_at=None, updated_at=timezone.now()
            )


def messages_claim_due(*, now: datetime | None = None, limit: int = 500, ids: Iterable[int] | None = None) -> list[int]:
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


def _messages_recover(now: datetime) -> list[int]:
    """Rows a lost task or a dead worker left behind. Returns the ids to queue again.

    A claim whose task never started is queued again. An attempt that started and never
    recorded its result is resolved by interrupted.py's rule: it went (the provider has it), it
    goes again (back to pending, claimed by this same tick), or it waits for staff (UNKNOWN).
    """
    with transaction.atomic():
        lost = list(
            Message.objects.filter(
                status=MessageStatus.SENDING, attempt_started_at__isnull=True, claimed_at__lt=now - _claim_lost_after()
            )
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        Message.objects.filter(pk__in=lost).update(claimed_at=now, updated_at=now)
        interrupted = (
            Message.objects.filter(status=MessageStatus.SENDING, attempt_started_at__lt=now - _attempt_lost_after())
            .select_for_update(skip_locked=True)
            .order_by("pk")
        )
        for message in interrupted:
            _interrupted_resolve(message, now)
    return lost


def messages_dispatch_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """The clock's work, every minute: claim what is due and queue one send task per message."""
    now = now or timezone.now()
    claimed = _messages_recover(now) + messages_claim_due(now=now, limit=limit)
    _queue_sends(claimed)
    return claimed
