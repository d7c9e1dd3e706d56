"""The staff outbox page and the admin: see every message, resend failed ones."""

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from concierge.tests.factories import UserFactory
from notifications.models import Message, MessageStatus

from .factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_the_outbox_lists_both_channels_newest_first_with_their_text(client, staff_user):
    MessageFactory(status=MessageStatus.SENT, subject="Older email", body="Sent text of the email")
    MessageFactory(
        channel="sms",
        template="on_my_way",
        status=MessageStatus.SUPPRESSED,
        body="",
        last_error="This number replied STOP.",
    )
    MessageFactory(status=MessageStatus.PENDING, context={"subject": "Call a patient", "body": "Pending body"})
    client.force_login(staff_user)

    response = client.get(reverse("notifications:outbox"))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Call a patient") < page.index("This number replied STOP.") < page.index("Older email")
    assert "Sent text of the email" in page
    assert "Pending body" in page  # what a pending message would say
    assert "Text message" in page and "Email" in page


def test_the_outbox_filters_by_channel_and_status(client, staff_user):
    MessageFactory(status=MessageStatus.SENT, subject="An email")
    MessageFactory(channel="sms", template="on_my_way", status=MessageStatus.FAILED, body="A failed text")
    client.force_login(staff_user)

    texts = client.get(reverse("notifications:outbox"), {"channel": "sms"}).content.decode()
    failed = client.get(reverse("notifications:outbox"), {"status": "failed"}).content.decode()
    nonsense = client.get(reverse("notifications:outbox"), {"status": "<script>"})

    assert "A failed text" in texts and "An email" not in texts
    assert "A failed text" in failed and "An email" not in failed
    assert nonsense.status_code == 200


@pytest.mark.parametrize("who", ["patient", "nurse", "clinician"])
def test_the_outbox_is_for_staff_only(client, request, who):
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("notifications:outbox")).status_code == 403


def test_the_outbox_asks_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("notifications:outbox"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_superuser_sees_it_too(client):
    admin = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)

    assert client.get(reverse("notifications:outbox")).status_code == 200


def test_admin_lists_messages_with_filters_and_resends_failed_ones(
    client, staff_user, django_capture_on_commit_callbacks
):
    failed = MessageFactory(
        status=MessageStatus.FAILED, attempts=5, last_error="Mail server error: SMTPServerDisconnected"
    )
    sent = MessageFactory(status=MessageStatus.SENT)
    client.force_login(staff_user)

    listing = client.get(reverse("admin:notifications_message_changelist"), {"status__exact": "failed"})
    assert listing.status_code == 200
    assert "SMTPServerDisconnected" in listing.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:notifications_message_changelist"),
            {"action": "resend", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )

    page = response.content.decode()
    assert "1 message queued again." in page
    assert "1 message was not failed, so it was left alone." in page
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("sent", 1)
    assert len(mail.outbox) == 1
    assert Message.objects.get(pk=sent.pk).status == MessageStatus.SENT


def test_admin_messages_are_read_only(client, staff_user):
    message = MessageFactory()
    client.force_login(staff_user)

    assert client.get(reverse("admin:notifications_message_add")).status_code == 403
    assert client.get(reverse("admin:notifications_message_delete", args=[message.pk])).status_code == 403
    assert client.get(reverse("admin:notifications_message_change", args=[message.pk])).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_outbox_page_works_on_a_phone_and_passes_axe(live_server, page, axe, staff_user):
    MessageFactory(status=MessageStatus.SENT, subject="Your ConciergeMD visit is booked", body="Hi Alex,\nYour visit")
    MessageFactory(channel="sms", template="on_my_way", status=MessageStatus.FAILED, body="Hi Alex, your nurse...")
    client_cookie = _login_cookie(live_server, staff_user)
    page.context.add_cookies([client_cookie])

    page.goto(live_server.url + "/outbox/")
    axe(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Outbox")
    expect(page.get_by_text("Your ConciergeMD visit is booked")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "no sideways scrolling on a phone"

    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    axe(page)
    expect(page.get_by_text("Hi Alex, your nurse...")).to_be_visible()
    expect(page.get_by_text("Your ConciergeMD visit is booked")).to_have_count(0)


def _login_cookie(live_server, user):
    from django.conf import settings

    from concierge.testing import VerifiedClient

    client = VerifiedClient()  # logged in with both steps
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }


def test_a_message_with_no_recipient_is_listed_with_its_address(client, staff_user):
    # A staff alert goes to an address, not to a login: the page must not look up a recipient.
    MessageFactory(recipient=None, to_address="oncall@example.com", status=MessageStatus.SENT, subject="Alert")
    MessageFactory(recipient=None, to_address="", status=MessageStatus.FAILED, subject="Nowhere")
    client.force_login(staff_user)

    response = client.get(reverse("notifications:outbox"))

    assert response.status_code == 200
    assert "oncall@example.com" in response.content.decode()
