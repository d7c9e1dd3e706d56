"""Races on PostgreSQL with real threads: a double-clicked "Send", two answers at once, a check-in sent
from two tabs; and the demo data, twice."""

import pytest
from django.core.management import call_command

from booking.models import Visit
from concierge.models import User
from concierge.testing import race
from notifications.models import Message
from patients.models import SafetyAlert, ScreeningResponse
from patients.tests.factories import PatientProfileFactory
from portal import checkins, messaging
from portal.models import FollowUpCheckIn, MessageThread, ThreadMessage, ThreadTopic

from .factories import home_visit, thread_for, token


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_clicked_danger_message_makes_one_thread_one_alert_one_email_each():
    profile = PatientProfileFactory()
    same = token()

    def send():
        return messaging.thread_start(
            patient=profile.user, topic="logistics", subject="Help", body="I took an overdose", form_token=same
        )

    outcomes = race(send, send)

    assert [o.error for o in outcomes] == [None, None]
    assert MessageThread.objects.count() == 1 and ThreadMessage.objects.count() == 1
    assert {o.value.pk for o in outcomes} == {ThreadMessage.objects.get().pk}
    assert SafetyAlert.objects.count() == 1
    assert Message.objects.filter(unique_key__startswith="staff-alert:safety-alert:").count() == 1
    assert Message.objects.filter(unique_key__startswith="staff-alert:thread-message:").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_answers_at_once_are_both_kept_and_the_patient_is_told_once(clinician):
    from concierge.tests.factories import UserFactory

    profile = PatientProfileFactory()
    thread = thread_for(profile.user, topic=ThreadTopic.HEALTH).thread
    colleague = UserFactory(role="clinician", email="colleague@example.com")

    outcomes = race(
        lambda: messaging.thread_message_post(thread=thread, author=clinician, body="First", form_token=token()),
        lambda: messaging.thread_message_post(thread=thread, author=colleague, body="Second", form_token=token()),
    )

    assert [o.error for o in outcomes] == [None, None]
    assert ThreadMessage.objects.filter(sender="care_team").count() == 2
    thread.refresh_from_db()
    assert thread.waiting_since is None and thread.answered_by in (clinician, colleague)
    assert Message.objects.filter(template="portal_message").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_check_in_sent_from_two_tabs_at_once_is_kept_once():
    profile = PatientProfileFactory()
    visit = home_visit(profile.user)

    def send(feeling, form):
        return lambda: checkins.checkin_submit(
            patient=profile.user,
            visit=visit,
            feeling=feeling,
            screenings={"phq9": checkins.ScreeningAnswers(item_answers=[1] * 8 + [0], form_token=form)},
        )

    outcomes = race(send(2, "tab-one"), send(4, "tab-two"))

    assert [o.error for o in outcomes] == [None, None]
    assert FollowUpCheckIn.objects.count() == 1
    assert {o.value.pk for o in outcomes} == {FollowUpCheckIn.objects.get().pk}
    assert ScreeningResponse.objects.count() == 1  # the second tab's questionnaire was not kept either


@pytest.mark.django_db
def test_seed_demo_gives_alex_an_answered_question_and_jordans_evaluation_a_room_and_twice_the_same():
    call_command("seed_demo")
    call_command("seed_demo")

    alex = User.objects.get(email="patient@demo.conciergemd.example")
    [thread] = MessageThread.objects.filter(patient=alex)
    assert [m.sender for m in thread.messages.all()] == ["patient", "care_team"]
    assert thread.answered_by.email == "clinician@demo.conciergemd.example" and thread.waiting_since is None
    jordan_visits = Visit.objects.filter(
        patient__email="patient2@demo.conciergemd.example", service__is_telehealth=True
    )
    assert jordan_visits.exists() and all(v.video_url.startswith("https://") for v in jordan_visits)
