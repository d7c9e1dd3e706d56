"""The 500s the robustness audit found (issue 16), each kept as a test: now a page or a message."""

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import Channel, Message, MessageStatus

pytestmark = pytest.mark.django_db

EDGES = ["0001-01-01", "9999-12-31"]


def test_the_outbox_shows_a_staff_alert_that_has_no_recipient(manager_client):
    Message.objects.create(
        channel=Channel.EMAIL, template="staff_alert", to_address="care@conciergemd.example", recipient=None,
        unique_key="alert:nobody", due_at=timezone.now(),
        status=MessageStatus.PENDING, context={"subject": "Check a visit", "body": "Body"},
    )  # fmt: skip

    response = manager_client.get(reverse("notifications:outbox"))

    assert response.status_code == 200
    assert "Check a visit" in response.content.decode()


@pytest.mark.parametrize("day", EDGES)
def test_the_board_at_the_ends_of_the_calendar_shows_today(manager_client, day):
    assert manager_client.get(reverse("admin:booking_board"), {"date": day}).status_code == 200
    assert manager_client.get(reverse("admin:booking_board_week"), {"start": day}).status_code == 200


@pytest.mark.parametrize("slug", ["visits", "utilisation", "cancellations", "revenue", "outcomes"])
def test_a_report_over_the_ends_of_the_calendar_says_what_is_wrong(manager_client, slug):
    response = manager_client.get(
        reverse("admin:staff_report", args=[slug]), {"first_day": EDGES[0], "last_day": EDGES[1]}
    )

    assert response.status_code == 200
    assert "Enter a date between 1900-01-01 and 2199-12-31." in response.content.decode()


def test_a_nul_byte_in_the_fake_gateways_pay_url_is_a_bad_request(client):
    assert client.get("/pay/fake/abc%00def/").status_code in (400, 404)
