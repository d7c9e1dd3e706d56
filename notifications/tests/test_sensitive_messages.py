"""A message that carries a credential (the password reset's sign-in link): staff never see the
link, it is blanked once the message has gone (or never will), and it is never sent again."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from concierge.errors import InvalidState
from concierge.tests.factories import UserFactory
from notifications import content, services
from notifications.gateways import SendError
from notifications.models import Message, MessageStatus
from notifications.services import sending

from .factories import MessageFactory

pytestmark = pytest.mark.django_db

HIDDEN = "hidden: contains a sign-in link"


@pytest.fixture
def boss():
    return UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)


def reset_requested(client, user, django_capture_on_commit_callbacks, *, send):
    """The reset form posted for `user`; the outbox row (sent when `send`) and the link it carries."""
    with django_capture_on_commit_callbacks(execute=send):
        client.post("/accounts/password/reset/", {"email": user.email})
    row = Message.objects.get(template="password_reset", recipient=user)
    return row, (mail.outbox[-1].body if send else row.context["reset_url"])


def token_of(link):
    return re.search(r"/accounts/password/reset/(\S+)/(\S+)/", link).group(2)


def test_only_the_messages_with_a_sign_in_link_are_sensitive():
    assert content.SENSITIVE_TEMPLATES == ("signup_confirm", "signup_exists", "password_reset")
    assert content.template_get("password_reset").sensitive


@pytest.mark.parametrize("send", [False, True], ids=["pending", "sent"])
def test_staff_never_see_the_link_in_the_outbox_or_the_admin(
    client, staff_user, boss, django_capture_on_commit_callbacks, send
):
    patient = UserFactory(role="patient", email="reset-me@example.com")
    row, link = reset_requested(client, patient, django_capture_on_commit_callbacks, send=send)
    token = token_of(link)
    assert row.status == (MessageStatus.SENT if send else MessageStatus.PENDING)

    for viewer in (staff_user, boss):
        client.force_login(viewer)
        outbox = client.get(reverse("notifications:outbox")).content.decode()
        change = client.get(reverse("admin:notifications_message_change", args=[row.pk])).content.decode()
        for page in (outbox, change):
            assert token not in page and "/accounts/password/reset/" not in page
            assert HIDDEN in page
        assert "reset-me@example.com" in outbox  # who it went to is still on record


def test_other_messages_still_show_their_text_and_context_in_the_admin(client, boss):
    message = MessageFactory(status=MessageStatus.SENT, body="Sent text of the email")
    client.force_login(boss)

    page = client.get(reverse("admin:notifications_message_change", args=[message.pk])).content.decode()

    assert "Sent text of the email" in page
    assert "A patient asked for a call." in page
    assert HIDDEN not in page


def test_a_reset_email_that_fails_for_good_keeps_no_link_and_staff_cannot_send_it_again(
    client, boss, django_capture_on_commit_callbacks, monkeypatch
):
    patient = UserFactory(role="patient", email="reset-me@example.com")
    row, _link = reset_requested(client, patient, django_capture_on_commit_callbacks, send=False)

    def refused(**kwargs):
        raise SendError("The mail server refused the address.", permanent=True)

    monkeypatch.setattr(sending, "send_email", refused)  # where the delivery looks it up
    services.messages_claim_due(ids=[row.pk])
    services.message_deliver(message_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.context, row.body) == (MessageStatus.FAILED, {}, "")
    with pytest.raises(InvalidState):
        services.message_resend(message=row)

    client.force_login(boss)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:notifications_message_changelist"),
            {"action": "resend", "_selected_action": [row.pk]},
            follow=True,
        )
    assert "held a sign-in link, so it is never sent again" in response.content.decode()
    row.refresh_from_db()
    assert row.status == MessageStatus.FAILED
    assert mail.outbox == []


def test_a_reset_email_interrupted_while_sending_keeps_no_link(client, django_capture_on_commit_callbacks):
    patient = UserFactory(role="patient", email="reset-me@example.com")
    row, _link = reset_requested(client, patient, django_capture_on_commit_callbacks, send=False)
    long_ago = timezone.now() - timedelta(hours=1)
    Message.objects.filter(pk=row.pk).update(
        status=MessageStatus.SENDING, claimed_at=long_ago, attempt_started_at=long_ago, body="the link was here"
    )

    services.messages_dispatch_due()

    row.refresh_from_db()
    assert (row.status, row.context, row.body) == (MessageStatus.UNKNOWN, {}, "")
    assert mail.outbox == []


def test_a_closed_account_gets_no_reset_email_and_the_row_keeps_no_link(client, django_capture_on_commit_callbacks):
    patient = UserFactory(role="patient", email="reset-me@example.com")
    row, _link = reset_requested(client, patient, django_capture_on_commit_callbacks, send=False)
    patient.is_active = False
    patient.save(update_fields=["is_active"])

    services.messages_claim_due(ids=[row.pk])
    services.message_deliver(message_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.context, row.body) == (MessageStatus.SUPPRESSED, {}, "")
    assert mail.outbox == []
