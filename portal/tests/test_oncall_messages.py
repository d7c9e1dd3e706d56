"""Urgent conversations outside working hours page the clinician on call; public holidays (a table staff
edit) are days off for the reply clock and for paging (issue 15)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from concierge.tests.factories import UserFactory
from notifications.models import Message
from portal import messaging
from portal.models import PublicHoliday, ThreadTopic
from portal.working_hours import is_working_time, working_hours_between, working_time_before
from roster.models import OnCallPage, OnCallShift, ProviderKind
from roster.services import provider_save

from .factories import thread_for, token

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
# Friday 29 May 2026; Monday 1 June is made a holiday in these tests.
FRIDAY = date(2026, 5, 29)
MONDAY = date(2026, 6, 1)


def ny(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=NY)


@pytest.fixture
def holiday(db):
    return PublicHoliday.objects.create(date=MONDAY, name="Staff training day")


def test_a_holiday_is_a_day_off_for_the_reply_clock(holiday):
    # Friday 16:00 to Tuesday 10:00: 2 hours on Friday, none on the holiday, 2 on Tuesday.
    assert working_hours_between(ny(FRIDAY, 16), ny(MONDAY + timedelta(days=1), 10)) == pytest.approx(4)
    assert working_time_before(ny(MONDAY + timedelta(days=1), 10), timedelta(hours=4)) == ny(FRIDAY, 16)
    assert not is_working_time(ny(MONDAY, 11)) and is_working_time(ny(MONDAY + timedelta(days=1), 11))


def test_without_the_holiday_monday_counts(db):
    assert working_hours_between(ny(FRIDAY, 16), ny(MONDAY + timedelta(days=1), 10)) == pytest.approx(14)


@pytest.fixture
def on_call(clinician):
    cleo = provider_save(user=clinician, kind=ProviderKind.CLINICIAN, home_zip="10001", phone="+12125550101")
    bea = provider_save(
        user=UserFactory(role="clinician", email="bea@example.com"),
        kind=ProviderKind.CLINICIAN,
        home_zip="10001",
        phone="+12125550102",
    )
    for weekday in range(7):
        OnCallShift.objects.create(
            clinician=cleo,
            backup=bea,
            weekday=weekday,
            start_time=time(0, 0),
            end_time=time(0, 0),
            time_zone="America/New_York",
        )
    return cleo


def urgent_thread(patient):
    with time_machine.travel(ny(FRIDAY, 9), tick=False):
        return thread_for(patient, topic=ThreadTopic.HEALTH, subject="Tonight", body="I want to die").thread


def write_again(thread, when):
    with time_machine.travel(when, tick=False):
        return messaging.thread_message_post(
            thread=thread, author=thread.patient, body="Still here, nobody called", form_token=token()
        )


@pytest.mark.parametrize(
    ("when", "paged"),
    [
        (ny(FRIDAY, 11), False),  # the care team is in: the inbox has it
        (ny(FRIDAY, 19), True),  # Friday evening: not Monday noon
        (ny(FRIDAY + timedelta(days=1), 11), True),  # Saturday
        (ny(MONDAY, 11), True),  # the holiday
    ],
)
def test_writing_again_in_an_urgent_conversation_outside_working_hours_pages_the_clinician_on_call(
    profile, on_call, holiday, settings, when, paged, django_capture_on_commit_callbacks
):
    settings.ONCALL_CLINICIAN_EMAIL = "oncall@clinic.example"
    thread = urgent_thread(profile.user)
    assert thread.urgent
    mail.outbox.clear()
    Message.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        message = write_again(thread, when)

    pages = OnCallPage.objects.filter(key=f"thread-message:{message.pk}")
    assert pages.exists() == paged
    assert Message.objects.filter(channel="sms", to_address="+12125550101").exists() == paged
    inbox = [m for m in mail.outbox if m.to == ["oncall@clinic.example"]]
    assert len(inbox) == (1 if paged else 0)
    if paged:
        link = reverse("portal:staff_thread", args=[thread.pk])
        assert pages.get().link == link
        assert "Still here" not in inbox[0].body and link in inbox[0].body


def test_a_calm_conversation_never_pages(profile, on_call):
    thread = thread_for(profile.user).thread
    write_again(thread, ny(FRIDAY + timedelta(days=1), 3))

    assert not OnCallPage.objects.exists()


def test_staff_keep_the_holiday_table_in_admin(client, staff_user):
    client.force_login(staff_user)

    response = client.post("/admin/portal/publicholiday/add/", {"date": "2026-07-03", "name": "Independence Day"})

    assert response.status_code == 302
    assert not is_working_time(ny(date(2026, 7, 3), 11))
