"""Each rule gives the right rows at the right times; reschedule and cancel replace them."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from booking.models import VisitStatus
from notifications import services
from notifications.models import Message, MessageStatus

from .conftest import local
from .factories import PatientProfileFactory, VideoVisitServiceFactory, VisitFactory

pytestmark = pytest.mark.django_db

NY = "America/New_York"
MONDAY_NOON = local(NY, 2026, 3, 2, 12, 0)  # EST
FRIDAY_10AM = local(NY, 2026, 3, 6, 10, 0)


def plan(visit):
    """(template, channel, due in the visit's zone, status) for every row about the visit."""
    return sorted(
        (m.template, m.channel, m.due_at.astimezone(local(NY, 2026, 1, 1).tzinfo).strftime("%a %d %H:%M"), m.status)
        for m in Message.objects.filter(visit=visit)
    )


def test_confirming_a_visit_writes_the_confirmation_and_every_reminder(django_capture_on_commit_callbacks, sms_outbox):
    with time_machine.travel(MONDAY_NOON, tick=False):
        visit = VisitFactory(starts_at=FRIDAY_10AM)
        with django_capture_on_commit_callbacks(execute=True):
            services.visit_confirmed(visit=visit)

    assert plan(visit) == [
        ("checkin", "email", "Sat 07 10:00", "pending"),
        ("confirmation", "email", "Mon 02 12:00", "sent"),
        ("confirmation", "sms", "Mon 02 12:00", "sent"),
        ("prep_72h", "email", "Tue 03 10:00", "pending"),
        ("reminder_24h", "email", "Thu 05 10:00", "pending"),
        ("reminder_24h", "sms", "Thu 05 10:00", "pending"),
        ("reminder_2h", "sms", "Fri 06 08:00", "pending"),
    ]
    # The confirmation went out as soon as the booking committed, not a minute later.
    assert [m.subject for m in mail.outbox] == ["Your ConciergeMD visit is booked"]
    assert mail.outbox[0].attachments[0][0] == "visit.ics"
    assert [s.body for s in sms_outbox] == [
        "Hi Alex, your ConciergeMD home visit is booked for Fri Mar 6, 10:00 AM EST. "
        "Questions? Call (888) 555-0142. Reply STOP to opt out"
    ]


def test_confirming_twice_adds_nothing(django_capture_on_commit_callbacks, sms_outbox):
    with time_machine.travel(MONDAY_NOON, tick=False):
        visit = VisitFactory(starts_at=FRIDAY_10AM)
        with django_capture_on_commit_callbacks(execute=True):
            services.visit_confirmed(visit=visit)
            services.visit_confirmed(visit=visit)

    assert Message.objects.filter(visit=visit).count() == 7
    assert len(mail.outbox) == 1
    assert len(sms_outbox) == 1


def test_each_reminder_goes_when_due_and_only_then(django_capture_on_commit_callbacks, sms_outbox):
    with time_machine.travel(MONDAY_NOON, tick=False):
        visit = VisitFactory(starts_at=FRIDAY_10AM)
        with django_capture_on_commit_callbacks(execute=True):
            services.visit_confirmed(visit=visit)
    mail.outbox.clear()
    sms_outbox.clear()

    def clock_at(moment):
        with time_machine.travel(moment, tick=False):
            services.messages_dispatch_due()
        return [m.subject for m in mail.outbox], [s.body[:40] for s in sms_outbox]

    assert clock_at(local(NY, 2026, 3, 3, 9, 59)) == ([], [])
    assert clock_at(local(NY, 2026, 3, 3, 10, 0)) == (["Getting ready for your ConciergeMD visit"], [])
    mail.outbox.clear()
    assert clock_at(local(NY, 2026, 3, 5, 10, 0, 30)) == (
        ["Reminder: your ConciergeMD visit on Fri Mar 6"],
        ["Hi Alex, a reminder of your ConciergeMD "],
    )
    assert clock_at(local(NY, 2026, 3, 5, 10, 1)) == (
        ["Reminder: your ConciergeMD visit on Fri Mar 6"],
        ["Hi Alex, a reminder of your ConciergeMD "],
    ), "a second tick sends nothing again"
    mail.outbox.clear()
    sms_outbox.clear()
    assert clock_at(local(NY, 2026, 3, 6, 8, 0)) == ([], ["Hi Alex, your ConciergeMD home visit is "])
    sms_outbox.clear()
    assert clock_at(local(NY, 2026, 3, 7, 10, 0)) == (["How are you doing after your ConciergeMD visit?"], [])
    assert "http://testserver/dashboard/" in mail.outbox[0].body
    assert set(Message.objects.filter(visit=visit).values_list("status", flat=True)) == {MessageStatus.SENT}


def test_a_visit_booked_inside_a_reminders_window_skips_the_past_ones(django_capture_on_commit_callbacks):
    # Booked on Thursday at 11:00 for Friday 10:00: the 72-hour and 24-hour reminders are past.
    with time_machine.travel(local(NY, 2026, 3, 5, 11, 0), tick=False):
        visit = VisitFactory(starts_at=FRIDAY_10AM)
        with django_capture_on_commit_callbacks(execute=True):
            services.visit_confirmed(visit=visit)

    assert plan(visit) == [
        ("checkin", "email", "Sat 07 10:00", "pending"),
        ("confirmation", "email", "Thu 05 11:00", "sent"),
        ("confirmation", "sms", "Thu 05 11:00", "sent"),
        ("reminder_2h", "sms", "Fri 06 08:00", "pending"),
    ]


def test_a_video_visit_gets_the_same_reminders_in_neutral_words_without_prep(
    django_capture_on_commit_callbacks, sms_outbox
):
    with time_machine.travel(MONDAY_NOON, tick=False):
        visit = VisitFactory(starts_at=FRIDAY_10AM, service=VideoVisitServiceFactory())
        with django_capture_on_commit_callbacks(execute=True):
            services.visit_confirmed(visit=visit)

    templates = sorted({m.template for m in Message.objects.filter(visit=visit)})
    assert templates == ["checkin", "confirmation", "reminder_24h", "reminder_2h"]
    assert "your ConciergeMD video visit is booked for Fri Mar 6, 10:00 AM EST" in sms_outbox[0].body
    assert "No food" not in mail.outbox[0].body
    assert "join the video call" in mail.outbox[0].body


def test_the_day_after_check_in_follows_daylight_saving_time():
    # Clocks go forward on Sunday 8 March 2026; the visit is on Monday the 9th at 10:00 EDT.
    with time_machine.travel(MONDAY_NOON, tick=False):
        visit = VisitFactory(starts_at=local(NY, 2026, 3, 9, 10, 0))
        services.visit_confirmed(visit=visit)

    checkin = Message.objects.get(visit=visit, template="checkin")
    prep = Message.objects.get(visit=visit, template="prep_72h")
    assert checkin.due_at == local(NY, 2026, 3, 10, 10, 0)
    assert checkin.due_at.astimezone(local("UTC", 2026, 1, 1).tzinfo).hour == 14  # EDT is UTC-4
    # 72 hours are 72 real hours: 9:00 EST on Friday, the clock change in between.
    assert prep.due_at == local(NY, 2026, 3, 6, 9, 0)


def test_reschedule_replaces_the_pending_reminders_and_tells_the_patient(
    django_capture_on_commit_callbacks, sms_outbox
):
    with time_machine.travel(MONDAY_NOON, tick=False):
        visit = VisitFactory(starts_at=FRIDAY_10AM)
        with django_capture_on_commit_callbacks(execute=True):
            services.visit_confirmed(visit=visit)
    mail.outbox.clear()
    sms_outbox.clear()

    with time_machine.travel(local(NY, 2026, 3, 2, 15, 0), tick=False):
        previous = visit.starts_at
        visit.starts_at = local(NY, 2026, 3, 13, 14, 0)  # Friday the 13th, 2 PM
        visit.ends_at = visit.starts_at + timedelta(hours=2)
        visit.blocked_from, visit.blocked_until = visit.starts_at, visit.ends_at
        visit.save()
        with django_capture_on_commit_callbacks(execute=True):
            services.visit_rescheduled(visit=visit, previous_starts_at=previous)

    rows = plan(visit)
    cancelled = [r[:2] for r in rows if r[3] == "cancelled"]
    assert sorted(cancelled) == [
        ("checkin", "email"),
        ("prep_72h", "email"),
        ("reminder_24h", "email"),
        ("reminder_24h", "sms"),
        ("reminder_2h", "sms"),
    ]
    live = [r for r in rows if r[3] != "cancelled"]
    assert live == [
        ("checkin", "email", "Sat 14 10:00", "pending"),
        ("confirmation", "email", "Mon 02 12:00", "sent"),
        ("confirmation", "sms", "Mon 02 12:00", "sent"),
        ("prep_72h", "email", "Tue 10 14:00", "pending"),
        ("reminder_24h", "email", "Thu 12 14:00", "pending"),
        ("reminder_24h", "sms", "Thu 12 14:00", "pending"),
        ("reminder_2h", "sms", "Fri 13 12:00", "pending"),
        ("rescheduled", "email", "Mon 02 15:00", "sent"),
        ("rescheduled", "sms", "Mon 02 15:00", "sent"),
    ]
    assert mail.outbox[0].subject == "Your ConciergeMD visit has moved"
    assert "Fri Mar 13, 2:00 PM EDT" in mail.outbox[0].body
    assert mail.outbox[0].attachments[0][0] == "visit.ics"
    assert "has moved to Fri Mar 13, 2:00 PM EDT" in sms_outbox[0].body

    # The old 24-hour time passes: nothing about the old time goes out.
    mail.outbox.clear()
    sms_outbox.clear()
    with time_machine.travel(local(NY, 2026, 3, 5, 10, 5), tick=False):
        services.messages_dispatch_due()
    assert mail.outbox == [] and sms_outbox == []


def test_moving_a_visit_away_and_back_plans_its_reminders_again():
    with time_machine.travel(MONDAY_NOON, tick=False):
        visit = VisitFactory(starts_at=FRIDAY_10AM)
        services.visit_confirmed(visit=visit)
        for when in (local(NY, 2026, 3, 13, 14, 0), FRIDAY_10AM):
            previous, visit.starts_at = visit.starts_at, when
            visit.ends_at = when + timedelta(hours=2)
            visit.blocked_from, visit.blocked_until = visit.starts_at, visit.ends_at
            visit.save()
            services.visit_rescheduled(visit=visit, previous_starts_at=previous)

    live = Message.objects.filter(visit=visit).exclude(status=MessageStatus.CANCELLED)
    assert sorted(live.filter(template="reminder_24h").values_list("channel", flat=True)) == ["email", "sms"]
    assert live.get(template="reminder_24h", channel="sms").due_at == local(NY, 2026, 3, 5, 10, 0)


def test_cancellation_cancels_what_is_pending_and_sends_one_notice(django_capture_on_commit_callbacks, sms_outbox):
    with time_machine.travel(MONDAY_NOON, tick=False):
        visit = VisitFactory(starts_at=FRIDAY_10AM)
        with django_capture_on_commit_callbacks(execute=True):
            services.visit_confirmed(visit=visit)
    mail.outbox.clear()
    sms_outbox.clear()

    with time_machine.travel(local(NY, 2026, 3, 3, 9, 0), tick=False):
        visit.status = VisitStatus.CANCELLED
        visit.save()
        with django_capture_on_commit_callbacks(execute=True):
            services.visit_cancelled(visit=visit)
            services.visit_cancelled(visit=visit)  # twice: still one notice

    assert [m.subject for m in mail.outbox] == ["Your ConciergeMD visit is cancelled"]
    assert [s.body for s in sms_outbox] == [
        "Hi Alex, your ConciergeMD home visit on Fri Mar 6, 10:00 AM EST is cancelled. "
        "To book again call (888) 555-0142. Reply STOP to opt out"
    ]
    statuses = dict(
        Message.objects.filter(visit=visit).exclude(template="confirmation").values_list("template", "status")
    )
    assert statuses == {
        "prep_72h": "cancelled",
        "reminder_24h": "cancelled",
        "reminder_2h": "cancelled",
        "checkin": "cancelled",
        "cancelled": "sent",
    }
    # Later ticks of the clock send nothing about the cancelled visit.
    for day in (3, 5, 6, 7):
        with time_machine.travel(local(NY, 2026, 3, day, 12, 0), tick=False):
            services.messages_dispatch_due()
    assert len(mail.outbox) == 1 and len(sms_outbox) == 1


def test_a_row_for_a_visit_that_changed_behind_its_back_is_not_sent(sms_outbox):
    """Belt and braces: even if a hook was missed, the send step re-checks the visit."""
    with time_machine.travel(MONDAY_NOON, tick=False):
        visit = VisitFactory(starts_at=FRIDAY_10AM)
        services.visit_confirmed(visit=visit)
    visit.status = VisitStatus.CANCELLED
    visit.save()

    with time_machine.travel(local(NY, 2026, 3, 5, 10, 0), tick=False):
        services.messages_dispatch_due()

    reminder = Message.objects.get(visit=visit, template="reminder_24h", channel="sms")
    assert reminder.status == MessageStatus.CANCELLED
    assert reminder.last_error == "The visit is now cancelled."
    assert sms_outbox == []


def test_a_patient_without_text_consent_gets_emails_instead(django_capture_on_commit_callbacks, sms_outbox):
    with time_machine.travel(MONDAY_NOON, tick=False):
        visit = VisitFactory(starts_at=FRIDAY_10AM, profile=PatientProfileFactory(sms_opt_in=False))
        with django_capture_on_commit_callbacks(execute=True):
            services.visit_confirmed(visit=visit)
    with time_machine.travel(local(NY, 2026, 3, 6, 8, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        services.messages_dispatch_due()

    assert sms_outbox == []
    two_hour = Message.objects.get(visit=visit, template="reminder_2h", channel="sms")
    assert two_hour.status == MessageStatus.SUPPRESSED
    assert two_hour.last_error == "The patient has not agreed to text messages."
    stand_in = Message.objects.get(fallback_for=two_hour)
    assert stand_in.channel == "email" and stand_in.status == MessageStatus.SENT
    # The confirmation text's email twin already went: no second confirmation email.
    assert [m.subject for m in mail.outbox].count("Your ConciergeMD visit is booked") == 1
    assert "Your ConciergeMD visit is coming up" in [m.subject for m in mail.outbox]
