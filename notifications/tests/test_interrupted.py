"""A send a dead worker left unrecorded is settled by the stated rule (services/interrupted.py).

The provider's record first (it has it: sent; it certainly has not: sent again); when the
provider cannot tell, reminders are retried and anything about money waits for staff in its own
"may have gone" state, never the failed queue.
"""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from concierge.errors import InvalidState
from concierge.tests.factories import UserFactory
from notifications import services
from notifications.gateways import sms
from notifications.models import Channel, Message, MessageStatus
from staff.queues import queues_for

from .factories import MessageFactory, VisitFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # noon in New York


def interrupted(**fields):
    """A row whose attempt started at NOON and never recorded a result."""
    defaults = {"status": MessageStatus.SENDING, "claimed_at": NOON, "attempt_started_at": NOON, "attempts": 1}
    return MessageFactory(**{**defaults, **fields})


def settle(tick, *, minutes=16):
    with time_machine.travel(NOON + timedelta(minutes=minutes), tick=False):
        tick()


def receipt(**fields):
    context = {
        "reference": "P-86AYCEDC2SYMJ",
        "amount": "$100.00",
        "visits": [{"title": "Home visit", "when": "Tue Mar 3, 10:00 AM EST"}],
        "dashboard_url": "http://testserver/me/",
    }
    return interrupted(template="payment_receipt", context=context, **fields)


def test_a_text_the_provider_has_is_marked_sent_and_not_sent_again(sms_outbox, tick):
    with time_machine.travel(NOON, tick=False):
        visit = VisitFactory(starts_at=NOON + timedelta(hours=5))
        message = interrupted(
            channel=Channel.SMS,
            template="reminder_2h",
            visit=visit,
            recipient=visit.patient,
            context={"starts_at": visit.starts_at.isoformat()},
        )
    # The provider took it just before the worker died.
    sms_outbox.append(sms.SentSms(to="+12125550100", body="Hi", message_id=message.pk, provider_id="SM-memory-x"))

    settle(tick)

    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (MessageStatus.SENT, "SM-memory-x")
    assert "the provider has it" in message.last_error
    assert len(sms_outbox) == 1


def test_an_email_the_provider_certainly_has_not_goes_again_once(tick):
    message = interrupted()

    settle(tick)
    settle(tick, minutes=17)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.attempts == 2
    assert [m.subject for m in mail.outbox] == ["Please call back"]


def test_when_the_provider_cannot_tell_a_reminder_is_retried(settings, tick):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # keeps no record we can ask
    message = interrupted()

    settle(tick)

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert "a reminder may be retried" not in message.last_error or message.attempts == 2


def test_when_the_provider_cannot_tell_a_receipt_waits_for_staff_never_in_the_failed_queue(settings, tick):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    message = receipt()

    settle(tick)
    settle(tick, minutes=60)

    message.refresh_from_db()
    assert message.status == MessageStatus.UNKNOWN
    assert "may have gone" in message.last_error.lower()
    assert not Message.objects.filter(status=MessageStatus.FAILED).exists()
    # The staff queue has it under its own name.
    boss = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    queues = {q.key: q for q in queues_for(boss)}
    assert queues["messages"].count == 0
    assert queues["messages-unknown"].count == 1
    assert "check before resending" in str(queues["messages-unknown"].title)


def test_staff_settle_a_message_that_may_have_gone(settings, tick, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    went, lost = receipt(unique_key="r1"), receipt(unique_key="r2")
    settle(tick)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    services.message_unknown_resolve(message=went, went=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.message_unknown_resolve(message=lost, went=False)
    with pytest.raises(InvalidState):
        services.message_unknown_resolve(message=lost, went=False)  # settled already: a second click

    went.refresh_from_db()
    lost.refresh_from_db()
    assert went.status == MessageStatus.SENT and "it went" in went.last_error
    assert lost.status == MessageStatus.SENT
    assert len(mail.outbox) == 1  # the one that did not go, once


def test_the_admin_settles_with_two_explicit_actions_and_send_again_leaves_it_alone(settings, tick, client):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    message = receipt()
    settle(tick)
    boss = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    client.force_login(boss)
    url = reverse("admin:notifications_message_changelist")

    client.post(url, {"action": "resend", "_selected_action": [message.pk]}, follow=True)
    message.refresh_from_db()
    assert message.status == MessageStatus.UNKNOWN  # the failed queue's "send again" does not touch it

    client.post(url, {"action": "unknown_went", "_selected_action": [message.pk]}, follow=True)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_sign_in_link_is_never_sent_again_whatever_the_provider_says(tick):
    message = interrupted(template="password_reset", context={"reset_url": "http://testserver/secret/"})

    settle(tick)

    message.refresh_from_db()
    assert (message.status, message.context) == (MessageStatus.UNKNOWN, {})
    with pytest.raises(InvalidState):
        services.message_unknown_resolve(message=message, went=False)
    assert mail.outbox == []


def test_a_row_out_of_attempts_is_not_retried(settings, tick):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    message = interrupted(attempts=settings.NOTIFICATIONS_MAX_ATTEMPTS)

    settle(tick)

    message.refresh_from_db()
    assert message.status == MessageStatus.UNKNOWN


def test_twilios_receipt_settles_a_text_that_may_have_gone(settings, tick):
    settings.SMS_BACKEND = "console"  # cannot tell
    message = interrupted(
        channel=Channel.SMS, template="staff_alert", to_address="+12125550100", unique_key="alert-sms", recipient=None
    )
    Message.objects.filter(pk=message.pk).update(template="reminder_2h", visit=None)
    message.refresh_from_db()

    services.sms_status_record(message_id=message.pk, message_sid="SM123", status="sent")

    message.refresh_from_db()
    assert (message.status, message.provider_message_id) == (MessageStatus.SENT, "SM123")
