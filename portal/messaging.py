"""Secure messages between a patient and the care team (the portal), and their triage.

What was written never leaves the portal: the patient is told only "You have a new message from
ConciergeMD" with a login link (a text if they agreed to texts, else an email), and the care team
gets an email with a neutral subject and a link. Logs name rows by id only.

Triage: a patient's message whose words suggest danger (patients/danger_words.py) marks the
thread urgent and about health and raises a safety alert through patients' one service
(`safety_alert_raise`): the on-call inbox is emailed and the clinician on call paged at once
(neutral words, links only; escalated to the backup when not acknowledged), and, as the PHQ-9
item 9 path does, infusions are held (no new booking; the visits already booked wait for a
clinician's release, booking/safety.py): a patient who
may be in danger speaks with a clinician before their next infusion, and a false alarm costs
one call. The page the patient sees next shows 988 and 911. A patient who writes again in an
urgent conversation outside the care team's working hours (portal/working_hours.py, public
holidays included) pages the clinician on call the same way.
"""

import logging

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import InvalidState, NotAllowed
from concierge.models import Role, User
from notifications.models import Channel, Message
from notifications.services import message_enqueue, staff_alert_email
from patients.danger_words import danger_words_in
from patients.models import PatientProfile
from patients.services import safety_alert_raise
from roster.oncall import oncall_page

from . import working_hours
from .messaging_selectors import may_answer, may_answer_health, may_answer_logistics
from .models import MessageSender, MessageThread, ThreadMessage, ThreadTopic

logger = logging.getLogger(__name__)

MAX_BODY = 5000


def _require_patient(user: User) -> None:
    if not user.has_role(Role.PATIENT):
        raise NotAllowed(_("Only patients write to the care team here."))


def _clean_text(body: str | None) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Please write your message.")})
    if len(body) > MAX_BODY:
        raise ValidationError(
            {"body": _("Please keep it under %(n)s characters, or send it in two messages.") % {"n": MAX_BODY}}
        )
    return body


def _already_sent(author: User, form_token: str) -> ThreadMessage | None:
    return ThreadMessage.objects.select_related("thread").filter(author=author, form_token=form_token).first()


@transaction.atomic
def thread_start(*, patient: User, topic: str, subject: str, body: str, form_token: str) -> ThreadMessage:
    """A patient writes to the care team: a new thread with its first message. Returns the message.

    The same form sent twice (a double click) returns the first message and starts nothing new.
    """
    _require_patient(patient)
    existing = _already_sent(patient, form_token)
    if existing is not None:
        return existing
    subject = (subject or "").strip()
    body = _clean_text(body)
    now = timezone.now()
    thread = MessageThread(patient=patient, topic=topic, subject=subject, created_at=now, last_message_at=now)
    thread.full_clean()
    try:
        with transaction.atomic():
            thread.save()
            message = _add(thread=thread, author=patient, sender=MessageSender.PATIENT, body=body, token=form_token)
    except IntegrityError:
        # The same form at the same moment in another request: that one saved it.
        return ThreadMessage.objects.select_related("thread").get(author=patient, form_token=form_token)
    _after_patient_message(thread=thread, message=message, was_waiting=False)
    return message


@transaction.atomic
def thread_message_post(*, thread: MessageThread, author: User, body: str, form_token: str) -> ThreadMessage:
    """Add a message to a thread: the patient's own, or an answer from the care team.

    The patient writes in their own threads; the care team answers the threads they may answer
    (messaging_selectors.may_answer). A double click sends once.
    """
    thread = MessageThread.objects.select_for_update().get(pk=thread.pk)
    existing = _already_sent(author, form_token)
    if existing is not None:
        return existing
    if author.pk == thread.patient_id:
        sender = MessageSender.PATIENT
    elif may_answer(author, thread):
        sender = MessageSender.CARE_TEAM
    else:
        raise NotAllowed(_("You cannot answer this conversation."))
    body = _clean_text(body)
    was_waiting = thread.waiting_since is not None
    answers = thread.messages.filter(sender=MessageSender.CARE_TEAM)
    if thread.patient_read_at is not None:
        answers = answers.filter(created_at__gt=thread.patient_read_at)
    had_unread_answer = answers.exists()
    try:
        with transaction.atomic():
            message = _add(thread=thread, author=author, sender=sender, body=body, token=form_token)
    except IntegrityError:
        return ThreadMessage.objects.select_related("thread").get(author=author, form_token=form_token)
    if sender == MessageSender.PATIENT:
        _after_patient_message(thread=thread, message=message, was_waiting=was_waiting)
    elif not had_unread_answer:
        # One "new message" notice until the patient has read it, however many answers follow.
        _notify_patient(thread=thread, message=message)
    return message


def _add(*, thread: MessageThread, author: User, sender: str, body: str, token: str) -> ThreadMessage:
    now = timezone.now()
    danger = danger_words_in(f"{thread.subject}\n{body}") if sender == MessageSender.PATIENT else []
    message = ThreadMessage(
        thread=thread, author=author, sender=sender, body=body, danger_words=danger, created_at=now, form_token=token
    )
    message.full_clean(validate_constraints=False)
    message.save()
    thread.last_message_at = now
    if sender == MessageSender.PATIENT:
        thread.waiting_since = thread.waiting_since or now
        thread.patient_read_at = now
        if danger:
            thread.urgent = True
            thread.topic = ThreadTopic.HEALTH
    else:
        thread.waiting_since = None
        thread.answered_at, thread.answered_by = now, author
        thread.care_team_read_at = now
    thread.full_clean()
    thread.save()
    return message


def _after_patient_message(*, thread: MessageThread, message: ThreadMessage, was_waiting: bool) -> None:
    if message.danger_words:
        safety_alert_raise(message=message, patient=thread.patient, matched_words=message.danger_words)
    elif thread.urgent and not working_hours.is_working_time(message.created_at):
        _page_oncall(thread=thread, message=message)
    if not was_waiting:
        _notify_care_team(thread=thread, message=message)
    logger.info("portal: message %s in thread %s from the patient", message.pk, thread.pk)


# --- notifications (through the outbox: written in this transaction, sent after it commits) ------


def _profile(user: User) -> PatientProfile | None:
    try:
        return user.patient_profile
    except ObjectDoesNotExist:
        return None


def _notify_patient(*, thread: MessageThread, message: ThreadMessage) -> Message:
    """ "You have a new message from ConciergeMD" and a login link: a text if they agreed, else an email."""
    profile = _profile(thread.patient)
    channel = Channel.SMS if profile is not None and profile.sms_opt_in and profile.mobile_phone else Channel.EMAIL
    # A text that cannot go (STOP, quiet hours, the daily limit) is replaced by its email twin.
    return message_enqueue(
        channel=channel,
        to_user=thread.patient,
        template="portal_message",
        unique_key=f"portal-message:{message.pk}:{channel}",
    )


def _staff_link(name: str, pk: int) -> str:
    return settings.SITE_URL + reverse(name, args=[pk])


def _notify_care_team(*, thread: MessageThread, message: ThreadMessage) -> Message:
    """The care team's inbox: a neutral subject and a link, never the patient's words or name."""
    return staff_alert_email(
        to=settings.CARE_TEAM_EMAIL,
        subject=str(_("A patient sent a message through the portal")),
        body=str(
            _(
                "A patient wrote to the care team through the portal. Read and answer it in the staff inbox "
                "(login required):\n%(link)s\n\nPatients wait at most %(hours)s working hours for an answer."
            )
        )
        % {
            "link": _staff_link("portal:staff_thread", thread.pk),
            "hours": settings.MESSAGES_REPLY_WITHIN_WORKING_HOURS,
        },
        unique_key=f"thread-message:{message.pk}",
    )


# --- the urgent path ------------------------------------------------------------------------------


def _page_oncall(*, thread: MessageThread, message: ThreadMessage) -> None:
    """The patient wrote again in an urgent conversation while the care team is away: the on-call
    inbox and the clinician on call hear of it now, not on the next working day."""
    staff_alert_email(
        to=settings.ONCALL_CLINICIAN_EMAIL,
        subject=str(_("Urgent: a patient wrote again")),
        body=str(
            _(
                "A patient wrote again in an urgent conversation, outside the care team's working hours. "
                "Please read it now (login required):\n%(link)s"
            )
        )
        % {"link": _staff_link("portal:staff_thread", thread.pk)},
        unique_key=f"urgent-thread-message:{message.pk}",
    )
    oncall_page(key=f"thread-message:{message.pk}", link=reverse("portal:staff_thread", args=[thread.pk]))


# --- read state and hand-over -------------------------------------------------------------------


def thread_mark_read(*, thread: MessageThread, user: User) -> MessageThread:
    """The patient (or the care team) has seen everything in the thread up to now."""
    now = timezone.now()
    if user.pk == thread.patient_id:
        MessageThread.objects.filter(pk=thread.pk).update(patient_read_at=now)
        thread.patient_read_at = now
    elif may_answer(user, thread):
        MessageThread.objects.filter(pk=thread.pk).update(care_team_read_at=now)
        thread.care_team_read_at = now
    else:
        raise NotAllowed()
    return thread


@transaction.atomic
def thread_topic_set(*, thread: MessageThread, topic: str, actor: User) -> MessageThread:
    """Move a thread between the clinicians (health) and the schedulers (logistics).

    A scheduler hands a logistics thread with clinical content to the clinicians; a clinician
    may hand a logistics question back. An urgent thread stays with the clinicians.
    """
    thread = MessageThread.objects.select_for_update().get(pk=thread.pk)
    if topic not in ThreadTopic.values:
        raise ValidationError({"topic": _("Choose who should answer.")})
    if thread.topic == topic:
        return thread
    if not may_answer(actor, thread):
        raise NotAllowed(_("You cannot change this conversation."))
    if topic == ThreadTopic.LOGISTICS:
        if thread.urgent:
            raise InvalidState(_("An urgent conversation stays with the clinicians."))
        if not may_answer_health(actor):
            raise NotAllowed()
    elif not may_answer_logistics(actor):
        raise NotAllowed()
    thread.topic = topic
    thread.full_clean()
    thread.save(update_fields=["topic"])
    logger.info("portal: thread %s handed to %s", thread.pk, topic)
    return thread
