"""Messages about a visit: the notices booking asks for, and the reminders before it.

Booking calls `visit_confirmed`, `visit_rescheduled` and `visit_cancelled` inside its own
transaction; they only write rows (outbox.py). Reminders follow rules.REMINDER_RULES; a text
that quiet hours would hold past its deadline becomes its email twin. The nurse's "on my way"
text is `sms_on_my_way`.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import content, rules
from ..facts import VisitFacts
from ..models import Channel, Message, MessageStatus
from .outbox import _build, _deadline, _email_twin_key, _write


def _visit_key(visit: VisitFacts, template: str, channel: str, starts_at: datetime | None = None) -> str:
    key = f"appt:{visit.pk}:{template}:{channel}"
    if starts_at is not None:
        key += f":{int(starts_at.timestamp())}"
    return key


def _plan_visit_message(
    *,
    visit: VisitFacts,
    template: str,
    channel: str,
    due_at: datetime,
    now: datetime,
    time_bound: bool,
    context: Mapping[str, Any] | None = None,
    key_suffix: str = "",
) -> Message:
    """One (unsaved) message about a visit, after quiet hours: a text that cannot go in time becomes an email."""
    spec = content.template_get(template)
    key = _visit_key(visit, template, channel, visit.starts_at if time_bound else None)
    if key_suffix:
        key += f":{key_suffix}"
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


def _plan_reminders(visit: VisitFacts, now: datetime) -> list[Message]:
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


def _cancel_unsent(
    visit: VisitFacts, *, templates: Iterable[str] | None = None, exclude: Iterable[str] = (), reason: str
) -> int:
    """Cancel a visit's messages that have not started going out.

    Claimed rows whose send task has not started yet are cancelled too: the task refuses any
    row that is no longer claimed.
    """
    unsent = Message.objects.filter(visit_id=visit.pk).filter(
        Q(status=MessageStatus.PENDING) | Q(status=MessageStatus.SENDING, attempt_started_at__isnull=True)
    )
    if templates is not None:
        unsent = unsent.filter(template__in=templates)
    if exclude:
        unsent = unsent.exclude(template__in=exclude)
    return unsent.update(status=MessageStatus.CANCELLED, last_error=reason, updated_at=timezone.now())


@transaction.atomic
def visit_confirmed(*, visit: VisitFacts) -> list[Message]:
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
def visit_rescheduled(*, visit: VisitFacts, previous_starts_at: datetime) -> list[Message]:
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
def visit_cancelled(*, visit: VisitFacts) -> list[Message]:
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
def sms_running_late(*, visit: VisitFacts) -> Message:
    """The nurse's previous visit runs over: one text (once per visit) before this one's time."""
    now = timezone.now()
    message = _plan_visit_message(
        visit=visit, template="running_late", channel=Channel.SMS, due_at=now, now=now, time_bound=False
    )
    return _write([message])[0]


def visit_reminders_withhold(*, visit: VisitFacts) -> int:
    """The visit is on hold (a clinician must speak with the patient first): the reminders that
    have not gone out are cancelled. Returns how many."""
    return _cancel_unsent(visit, templates=rules.REMINDER_TEMPLATES, reason="The visit is on hold.")


@transaction.atomic
def visit_reminders_replan(*, visit: VisitFacts) -> list[Message]:
    """The visit is back (its hold released): the reminders still ahead are planned again.

    The same unique keys as when it was confirmed: a reminder that is still pending is not
    written twice, and calling this again adds nothing.
    """
    now = timezone.now()
    if visit.starts_at <= now:
        return []
    return _write(_plan_reminders(visit, now))


@transaction.atomic
def visit_care_team_call(*, visit: VisitFacts, key: str) -> list[Message]:
    """ "Your care team will call you about your visit": one neutral email and text per `key` (a hold).

    No clinical word and no reason: only that someone will call, and the clinic's number.
    """
    now = timezone.now()
    template, channels = rules.HOLD_NOTICE
    return _write(
        [
            _plan_visit_message(
                visit=visit, template=template, channel=channel, due_at=now, now=now, time_bound=False, key_suffix=key
            )
            for channel in channels
        ]
    )


@transaction.atomic
def sms_on_my_way(*, visit: VisitFacts, eta_from: datetime, eta_until: datetime) -> Message:
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
