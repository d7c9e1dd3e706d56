"""The reply queue: unanswered patient messages older than 4 working hours (Mon-Fri 8:00-18:00 New York),
counted with the clock frozen across evenings, a weekend and a daylight-saving change."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from portal.messaging_selectors import reply_due_within, threads_awaiting_reply, waited_working_hours
from portal.models import ThreadTopic
from portal.working_hours import describe, working_hours_between, working_time_before

from .factories import answer, thread_for

NY = ZoneInfo("America/New_York")


def ny(*args):
    return datetime(*args, tzinfo=NY)


# Friday 6 March 2026, 16:00 EST; the clocks go forward on Sunday 8 March (EDT from Monday).
FRIDAY_4PM = ny(2026, 3, 6, 16, 0)


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (ny(2026, 3, 6, 16, 0), ny(2026, 3, 6, 18, 0), 2),  # to closing time
        (ny(2026, 3, 6, 16, 0), ny(2026, 3, 6, 23, 0), 2),  # the evening does not count
        (ny(2026, 3, 6, 16, 0), ny(2026, 3, 9, 8, 0), 2),  # nor the weekend (nor the lost DST hour)
        (ny(2026, 3, 6, 16, 0), ny(2026, 3, 9, 10, 0), 4),
        (ny(2026, 3, 7, 11, 0), ny(2026, 3, 9, 12, 0), 4),  # sent on Saturday: counts from Monday 8:00
        (ny(2026, 3, 9, 6, 30), ny(2026, 3, 9, 9, 15), 1.25),  # before opening
        (ny(2026, 3, 9, 10, 0), ny(2026, 3, 10, 10, 0), 10),  # a whole working day
        (ny(2026, 3, 9, 10, 0), ny(2026, 3, 9, 9, 0), 0),  # the end before the start
    ],
)
@pytest.mark.django_db  # the clock reads the public holidays
def test_working_hours_between(start, end, hours):
    assert working_hours_between(start, end) == pytest.approx(hours)


@pytest.mark.parametrize(
    ("end", "start"),
    [
        (ny(2026, 3, 9, 10, 0), ny(2026, 3, 6, 16, 0)),  # Monday 10:00 less 4 h: Friday 16:00
        (ny(2026, 3, 9, 12, 0), ny(2026, 3, 9, 8, 0)),
        (ny(2026, 3, 9, 7, 0), ny(2026, 3, 6, 14, 0)),  # before Monday opens
        (ny(2026, 3, 8, 15, 0), ny(2026, 3, 6, 14, 0)),  # on Sunday
    ],
)
@pytest.mark.django_db
def test_working_time_before_walks_back_through_working_hours(end, start):
    assert working_time_before(end, timedelta(hours=4)) == start
    assert working_hours_between(start, end) == pytest.approx(4)


@pytest.mark.django_db
def test_working_hours_are_one_setting(settings):
    assert describe() == "Mon-Fri 08:00-18:00 (America/New_York)"
    settings.MESSAGES_WORKING_HOURS = {
        "time_zone": "America/Phoenix",
        "weekdays": [0, 2, 4],
        "opens": "09:00",
        "closes": "17:00",
    }
    assert describe() == "Mon, Wed, Fri 09:00-17:00 (America/Phoenix)"
    phx = ZoneInfo("America/Phoenix")
    assert working_hours_between(datetime(2026, 3, 9, 16, 0, tzinfo=phx), datetime(2026, 3, 11, 10, 0, tzinfo=phx)) == 2


@pytest.mark.django_db
def test_a_message_sent_on_friday_afternoon_is_overdue_on_monday_at_10(client, profile, staff_user, clinician):
    with time_machine.travel(FRIDAY_4PM, tick=False):
        waiting = thread_for(profile.user, subject="Friday question").thread
    with time_machine.travel(FRIDAY_4PM - timedelta(hours=1), tick=False):
        answered = thread_for(profile.user, subject="Answered one").thread
        answer(answered, staff_user)
    with time_machine.travel(ny(2026, 3, 9, 9, 30), tick=False):
        fresh = thread_for(profile.user, subject="Monday question").thread

    for moment, overdue in (
        (ny(2026, 3, 6, 18, 0), False),
        (ny(2026, 3, 8, 20, 0), False),  # all weekend: still 2 working hours
        (ny(2026, 3, 9, 9, 59), False),
        (ny(2026, 3, 9, 10, 0), True),
        (ny(2026, 3, 9, 13, 29), True),  # the Monday question has waited 3.98 hours: not yet
    ):
        with time_machine.travel(moment, tick=False):
            late = list(threads_awaiting_reply(older_than=reply_due_within()))
            assert late == ([waiting] if overdue else []), moment
            assert set(threads_awaiting_reply()) == {waiting, fresh}  # every wait, however short
            client.force_login(staff_user)  # a session lasts 12 hours; this clock jumps days
            inbox = client.get("/staff/messages/")
            assert [row.thread for row in inbox.context["overdue"]] == ([waiting] if overdue else [])
            admin = client.get("/admin/portal/messagethread/?waiting=overdue").content.decode()
            assert ("Friday question" in admin) is overdue

    with time_machine.travel(ny(2026, 3, 9, 10, 30), tick=False):
        assert waited_working_hours(waiting) == 4.5
        assert list(threads_awaiting_reply(older_than=4)) == [waiting]  # hours as a number work too
        client.force_login(staff_user)
        page = client.get("/staff/messages/").content.decode()
        assert "waiting 4.5 working hours" in page
        answer(waiting, staff_user)
        assert list(threads_awaiting_reply(older_than=reply_due_within())) == []
        waiting.refresh_from_db()
        assert waited_working_hours(waiting) is None


@pytest.mark.django_db
def test_urgent_threads_come_first_and_health_threads_show_no_subject_to_schedulers(client, profile, staff_user):
    with time_machine.travel(ny(2026, 3, 2, 9, 0), tick=False):
        older = thread_for(profile.user, topic=ThreadTopic.HEALTH, subject="Older health question").thread
    with time_machine.travel(ny(2026, 3, 2, 10, 0), tick=False):
        urgent = thread_for(profile.user, subject="Help", body="I can't breathe properly").thread
    with time_machine.travel(ny(2026, 3, 3, 9, 0), tick=False):
        assert list(threads_awaiting_reply(older_than=4)) == [urgent, older]
        client.force_login(staff_user)
        page = client.get("/staff/messages/").content.decode()
        assert "Older health question" not in page and "Help" not in page
        assert page.count("About the patient's health: for a clinician") == 2
        assert "Urgent" in page and "Overdue" in page
