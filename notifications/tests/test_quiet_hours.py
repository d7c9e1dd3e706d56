"""Texts go only between 8:00 and 21:00 in the patient's own zone (New York, Los Angeles, Phoenix)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from notifications import rules, services
from notifications.models import Message, MessageStatus

from .conftest import local
from .factories import PatientProfileFactory, VisitFactory

NY, LA, PHOENIX, DENVER = "America/New_York", "America/Los_Angeles", "America/Phoenix", "America/Denver"


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "due", "now", "deadline", "expected"),
    [
        # Inside the window: unchanged.
        (NY, local(NY, 2026, 3, 3, 8, 0), local(NY, 2026, 3, 2, 12, 0), None, local(NY, 2026, 3, 3, 8, 0)),
        (NY, local(NY, 2026, 3, 3, 20, 59), local(NY, 2026, 3, 2, 12, 0), None, local(NY, 2026, 3, 3, 20, 59)),
        # 7:00 for a 9:00 visit: the morning (8:00) is nearer than the evening before.
        (
            NY,
            local(NY, 2026, 3, 3, 7, 0),
            local(NY, 2026, 3, 2, 12, 0),
            local(NY, 2026, 3, 3, 9, 0),
            local(NY, 2026, 3, 3, 8, 0),
        ),
        # 6:00 for an 8:00 visit: 8:00 is not before the visit, so the evening before, 20:50.
        (
            NY,
            local(NY, 2026, 3, 3, 6, 0),
            local(NY, 2026, 3, 2, 12, 0),
            local(NY, 2026, 3, 3, 8, 0),
            local(NY, 2026, 3, 2, 20, 50),
        ),
        # 21:30: the same evening's 20:50 is nearer than tomorrow's 8:00.
        (NY, local(NY, 2026, 3, 3, 21, 30), local(NY, 2026, 3, 2, 12, 0), None, local(NY, 2026, 3, 3, 20, 50)),
        # 23:30, no deadline: the same evening (2 h 40 earlier) is nearer than 8:00 (8 h 30 later).
        (NY, local(NY, 2026, 3, 3, 23, 30), local(NY, 2026, 3, 2, 12, 0), None, local(NY, 2026, 3, 3, 20, 50)),
        # ...unless that evening is already past: then the next morning.
        (NY, local(NY, 2026, 3, 3, 23, 30), local(NY, 2026, 3, 3, 23, 30), None, local(NY, 2026, 3, 4, 8, 0)),
        # Past evening and a visit before 8:00 the next morning: no time left, no text.
        (NY, local(NY, 2026, 3, 3, 23, 30), local(NY, 2026, 3, 3, 23, 30), local(NY, 2026, 3, 4, 7, 30), None),
        # Los Angeles: 6:30 PST is 9:30 in New York, still night in LA: 8:00 PST for an 8:30 visit.
        (
            LA,
            local(LA, 2026, 3, 3, 6, 30),
            local(LA, 2026, 3, 2, 12, 0),
            local(LA, 2026, 3, 3, 8, 30),
            utc(2026, 3, 3, 16, 0),
        ),
        # Phoenix keeps MST in July (no daylight saving): 8:00 MST is 15:00 UTC...
        (
            PHOENIX,
            local(PHOENIX, 2026, 7, 7, 6, 15),
            local(PHOENIX, 2026, 7, 6, 12, 0),
            local(PHOENIX, 2026, 7, 7, 8, 15),
            utc(2026, 7, 7, 15, 0),
        ),
        # ...while Denver, one zone over, is on MDT: 8:00 there is 14:00 UTC.
        (
            DENVER,
            local(DENVER, 2026, 7, 7, 6, 15),
            local(DENVER, 2026, 7, 6, 12, 0),
            local(DENVER, 2026, 7, 7, 8, 15),
            utc(2026, 7, 7, 14, 0),
        ),
    ],
)
def test_a_text_due_at_night_moves_to_the_nearest_allowed_time_before_the_visit(zone, due, now, deadline, expected):
    assert rules.sms_time(due, time_zone=zone, deadline=deadline, now=now) == expected


def test_the_window_is_in_the_patients_zone_not_the_servers():
    nine_utc = utc(2026, 3, 3, 14, 0)  # 9:00 in New York, 6:00 in Los Angeles, 7:00 in Phoenix
    assert rules.sms_allowed(nine_utc, NY)
    assert not rules.sms_allowed(nine_utc, LA)
    assert not rules.sms_allowed(nine_utc, PHOENIX)


@pytest.mark.django_db
def test_a_visit_early_in_los_angeles_gets_its_two_hour_text_at_eight(django_capture_on_commit_callbacks):
    profile = PatientProfileFactory(city="Los Angeles", state="CA", zip_code="90012", time_zone=LA)
    with time_machine.travel(local(LA, 2026, 3, 2, 12, 0), tick=False):
        visit = VisitFactory(profile=profile, starts_at=local(LA, 2026, 3, 5, 9, 0))
        services.visit_confirmed(visit=visit)

    two_hour = Message.objects.get(visit=visit, template="reminder_2h")
    assert two_hour.channel == "sms"
    assert two_hour.due_at == local(LA, 2026, 3, 5, 8, 0)


@pytest.mark.django_db
def test_booked_late_at_night_for_early_next_morning_the_texts_become_emails(
    django_capture_on_commit_callbacks, sms_outbox
):
    # 22:00 in Phoenix, for a visit at 7:45 tomorrow: no allowed time is left for a text.
    profile = PatientProfileFactory(city="Phoenix", state="AZ", zip_code="85004", time_zone=PHOENIX)
    with time_machine.travel(local(PHOENIX, 2026, 7, 6, 22, 0), tick=False):
        visit = VisitFactory(profile=profile, starts_at=local(PHOENIX, 2026, 7, 7, 7, 45))
        with django_capture_on_commit_callbacks(execute=True):
            services.visit_confirmed(visit=visit)

    rows = sorted(Message.objects.filter(visit=visit).values_list("template", "channel", "status"))
    assert rows == [
        ("checkin", "email", "pending"),
        ("confirmation", "email", "sent"),  # one confirmation: the text's stand-in is this same email
        ("reminder_2h", "email", "pending"),
    ]
    assert sms_outbox == []
    assert Message.objects.get(template="reminder_2h").due_at == local(PHOENIX, 2026, 7, 7, 5, 45)


@pytest.mark.django_db
def test_a_text_the_clock_reaches_after_nine_pm_waits_for_the_morning(django_capture_on_commit_callbacks, sms_outbox):
    with time_machine.travel(local(NY, 2026, 3, 2, 12, 0), tick=False):
        visit = VisitFactory(starts_at=local(NY, 2026, 3, 5, 20, 55))
        services.visit_confirmed(visit=visit)
    reminder = Message.objects.get(visit=visit, template="reminder_24h", channel="sms")
    assert reminder.due_at == local(NY, 2026, 3, 4, 20, 55)

    # The clock was down and comes back at 21:05: the text is not sent at night.
    with time_machine.travel(local(NY, 2026, 3, 4, 21, 5), tick=False):
        services.messages_dispatch_due()
    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.PENDING
    assert reminder.due_at == local(NY, 2026, 3, 5, 8, 0)
    assert [s for s in sms_outbox if s.message_id == reminder.pk] == []

    with time_machine.travel(local(NY, 2026, 3, 5, 8, 0, 20), tick=False):
        services.messages_dispatch_due()
    reminder.refresh_from_db()
    assert reminder.status == MessageStatus.SENT
    assert reminder.sent_at == local(NY, 2026, 3, 5, 8, 0, 20)


@pytest.mark.django_db
def test_a_night_text_with_no_time_left_becomes_an_email(django_capture_on_commit_callbacks, sms_outbox):
    with time_machine.travel(local(NY, 2026, 3, 2, 12, 0), tick=False):
        visit = VisitFactory(starts_at=local(NY, 2026, 3, 5, 8, 30))
        services.visit_confirmed(visit=visit)
    two_hour = Message.objects.get(visit=visit, template="reminder_2h")
    assert two_hour.due_at == local(NY, 2026, 3, 5, 8, 0)  # 6:30 moved to 8:00, before the 8:30 visit
    two_hour.due_at = local(NY, 2026, 3, 5, 6, 30)  # as if planned by an older rule
    two_hour.save()

    with (
        time_machine.travel(local(NY, 2026, 3, 5, 6, 30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.messages_dispatch_due()
    two_hour.refresh_from_db()
    # 8:00 is still before the visit: it waits rather than turning into an email.
    assert two_hour.status == MessageStatus.PENDING
    assert two_hour.due_at == local(NY, 2026, 3, 5, 8, 0)

    visit.starts_at = local(NY, 2026, 3, 5, 7, 55)
    visit.ends_at = visit.starts_at + timedelta(hours=2)
    visit.blocked_from, visit.blocked_until = visit.starts_at, visit.ends_at
    visit.save()
    two_hour.context["starts_at"] = visit.starts_at.isoformat()
    two_hour.due_at = local(NY, 2026, 3, 5, 6, 30)
    two_hour.save()
    mail.outbox.clear()
    with (
        time_machine.travel(local(NY, 2026, 3, 5, 6, 30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.messages_dispatch_due()
    two_hour.refresh_from_db()
    assert two_hour.status == MessageStatus.SUPPRESSED
    assert two_hour.last_error.startswith("Quiet hours")
    assert [m.subject for m in mail.outbox] == ["Your ConciergeMD visit is coming up"]
    assert sms_outbox == []
