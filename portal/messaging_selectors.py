"""Reads for secure messages: a patient's own threads, the care team's inbox, the reply queue, and who
on the care team may read and answer what.

Who answers what (enforced here, in the services, and by the permissions in concierge/roles.py):

- Threads about the patient's health can hold clinical content: only clinicians (the clinician
  role with `portal.answer_health_thread`) read and answer them, superuser or not, as with
  clearances.
- Threads about visits, payments or the account: schedulers (the staff role) and clinicians
  (`portal.answer_logistics_thread`).
- Schedulers see every thread waiting for a reply in the queue, but a health thread shows them
  only that it waits and for how long: no subject, no text. A scheduler who finds clinical
  content in a logistics thread hands it to the clinicians (services.thread_topic_set).

For other apps (the staff admin's queues): `threads_awaiting_reply(*, older_than=None)`.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from concierge.models import Role, User

from .models import MessageSender, MessageThread, ThreadMessage, ThreadTopic
from .working_hours import WorkingHours, working_hours, working_hours_between, working_time_before

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

HEALTH_PERMISSION = "portal.answer_health_thread"
LOGISTICS_PERMISSION = "portal.answer_logistics_thread"


# --- who may do what ------------------------------------------------------------------------------


def may_answer_health(user: User) -> bool:
    return user.is_active and user.has_role(Role.CLINICIAN) and user.has_perm(HEALTH_PERMISSION)


def may_answer_logistics(user: User) -> bool:
    return user.is_active and user.is_staff and (user.has_perm(LOGISTICS_PERMISSION) or may_answer_health(user))


def may_use_inbox(user: User | AnonymousUser) -> bool:
    """The staff inbox and the reply queue: schedulers and clinicians (logged in to admin)."""
    return user.is_authenticated and (may_answer_health(user) or may_answer_logistics(user))


def may_answer(user: User, thread: MessageThread) -> bool:
    """Read and answer this thread (reading is answering: nobody reads what they may not answer)."""
    if thread.topic == ThreadTopic.HEALTH:
        return may_answer_health(user)
    return may_answer_logistics(user)


# --- the patient's own threads -------------------------------------------------------------------


def _unread_by_patient() -> QuerySet[ThreadMessage]:
    return ThreadMessage.objects.filter(thread=OuterRef("pk"), sender=MessageSender.CARE_TEAM).filter(
        Q(thread__patient_read_at__isnull=True) | Q(created_at__gt=F("thread__patient_read_at"))
    )


def thread_list_for_patient(*, patient: User) -> "QuerySet[WithAnnotations[MessageThread]]":
    """The patient's threads, newest activity first, each with `has_unread` (an answer not yet read)."""
    return MessageThread.objects.filter(patient=patient).annotate(has_unread=Exists(_unread_by_patient()))


def thread_get_for_patient(*, patient: User, pk: int) -> MessageThread | None:
    """One of this patient's threads, or None: another patient's id finds nothing."""
    return thread_list_for_patient(patient=patient).filter(pk=pk).first()


def unread_count_for_patient(*, patient: User) -> int:
    # django-stubs' plugin cannot see an annotation made in another function (has_unread is one).
    return thread_list_for_patient(patient=patient).filter(has_unread=True).count()  # type: ignore[misc]


def message_list_for_thread(*, thread: MessageThread) -> QuerySet[ThreadMessage]:
    return thread.messages.select_related("author").order_by("created_at", "id")


# --- the reply queue ----------------------------------------------------------------------------


def reply_due_within() -> timedelta:
    return timedelta(hours=settings.MESSAGES_REPLY_WITHIN_WORKING_HOURS)


def _working(value: timedelta | float | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(hours=value)


def threads_awaiting_reply(
    *, older_than: timedelta | float | None = None, now: datetime | None = None
) -> QuerySet[MessageThread]:
    """Threads whose patient is waiting for an answer, the longest waiting first.

    `older_than` (working time, a timedelta or a number of hours; None: any wait) keeps only
    the threads waiting at least that long in the care team's working hours
    (patients/working_hours.py). The overdue queue is
    `threads_awaiting_reply(older_than=reply_due_within())`.
    """
    waiting = MessageThread.objects.filter(waiting_since__isnull=False).select_related("patient")
    older_than = _working(older_than)
    if older_than is not None:
        waiting = waiting.filter(waiting_since__lte=working_time_before(now or timezone.now(), older_than))
    return waiting.order_by("-urgent", "waiting_since", "pk")


def waited_working_hours(
    thread: MessageThread, now: datetime | None = None, hours: WorkingHours | None = None
) -> float | None:
    """How long (working hours, one decimal) the patient has been waiting, or None.

    `hours`: the care team's working hours (working_hours()), read once for a list of threads.
    """
    if thread.waiting_since is None:
        return None
    return round(working_hours_between(thread.waiting_since, now or timezone.now(), hours), 1)


class _Unread(TypedDict):
    unread: bool  # the inbox's annotation: a patient's message the care team has not read


@dataclass
class InboxRow:
    thread: MessageThread
    can_open: bool
    waited_hours: float | None
    overdue: bool
    unread: bool


def inbox_for(*, user: User, now: datetime | None = None, recent_limit: int = 50) -> dict[str, list[InboxRow]]:
    """The staff inbox: threads waiting for a reply (overdue first), then recent answered ones.

    Every waiting thread is listed for everyone who may use the inbox; the ones the person may
    not open (health threads, for schedulers) are listed without subject (the template hides it).
    Answered threads are listed only when the person may open them.
    """
    now = now or timezone.now()
    hours = working_hours()
    overdue_before = working_time_before(now, reply_due_within(), hours)
    unread = ThreadMessage.objects.filter(thread=OuterRef("pk"), sender=MessageSender.PATIENT).filter(
        Q(thread__care_team_read_at__isnull=True) | Q(created_at__gt=F("thread__care_team_read_at"))
    )
    base = MessageThread.objects.select_related("patient", "answered_by").annotate(unread=Exists(unread))
    waiting = list(base.filter(waiting_since__isnull=False).order_by("-urgent", "waiting_since", "pk"))
    topics: list[str] = []
    if may_answer_health(user):
        topics.append(ThreadTopic.HEALTH)
    if may_answer_logistics(user):
        topics.append(ThreadTopic.LOGISTICS)
    recent = list(base.filter(waiting_since__isnull=True, topic__in=topics).order_by("-last_message_at")[:recent_limit])

    def row(thread: "WithAnnotations[MessageThread, _Unread]") -> InboxRow:
        return InboxRow(
            thread=thread,
            can_open=may_answer(user, thread),
            waited_hours=waited_working_hours(thread, now, hours),
            overdue=thread.waiting_since is not None and thread.waiting_since <= overdue_before,
            unread=thread.unread,
        )

    waiting_rows = [row(t) for t in waiting]
    return {
        "overdue": [r for r in waiting_rows if r.overdue],
        "waiting": [r for r in waiting_rows if not r.overdue],
        "recent": [row(t) for t in recent],
    }


def thread_get_for_care_team(*, user: User, pk: int) -> MessageThread | None:
    """A thread this member of the care team may read and answer, or None."""
    thread = MessageThread.objects.select_related("patient", "answered_by").filter(pk=pk).first()
    if thread is None or not may_answer(user, thread):
        return None
    return thread
