"""Races on PostgreSQL with real threads: a double-clicked "Send", two answers at once, a check-in sent
from two tabs; and the demo data, twice."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection

from booking.models import Visit
from concierge.models import User
from notifications.models import Message
from patients.models import SafetyAlert, ScreeningResponse
from patients.tests.factories import PatientProfileFactory
from portal import checkins, messaging
from portal.models import FollowUpCheckIn, MessageThread, ThreadMessage, ThreadTopic

from .factories import home_visit, thread_for, token


def _race(workers):
    barrier = threading.Barrier(len(workers))
    results, errors = [], []

    def run(work):
        try:
            barrier.wait()
            results.append(work())
        except Exception as error:  # collected and asserted by the test
            errors.append(error)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_clicked_danger_message_makes_one_thread_one_alert_one_email_each():
    profile = PatientProfileFactory()
    same = token()

    def send():
        return messaging.thread_start(
            patient=profile.user, topic="logistics", subject="Help", body="I took an overdose", form_token=same
        )

    results, errors = _race([send, send])

    assert errors == []
    assert MessageThread.objects.count() == 1 and ThreadMessage.objects.count() == 1
    assert {r.pk for r in results} == {ThreadMessage.objects.get().pk}
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

    _results, errors = _race(
        [
            lambda: messaging.message_send(thread=thread, author=clinician, body="First", form_token=token()),
            lambda: messaging.message_send(thread=thread, author=colleague, body="Second", form_token=token()),
        ]
    )

    assert errors == []
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

    results, errors = _race([send(2, "tab-one"), send(4, "tab-two")])

    assert errors == []
    assert FollowUpCheckIn.objects.count() == 1
    assert {r.pk for r in results} == {FollowUpCheckIn.objects.get().pk}
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
