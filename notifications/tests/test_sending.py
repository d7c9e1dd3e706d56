"""Sending: once per row, retries with backoff, permanent failures, email stand-ins, the daily limit."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from concierge.errors import InvalidState
from concierge.tasks import task_get
from notifications import services, tasks
from notifications.gateways import SendError
from notifications.models import Message, MessageStatus, SmsOptOut

from .conftest import local
from .factories import MessageFactory, PatientProfileFactory, VisitFactory

pytestmark = pytest.mark.django_db

NY = "America/New_York"
NOON = local(NY, 2026, 3, 2, 12, 0)


def on_my_way(visit, minutes=20):
    eta = timezone.now() + timedelta(minutes=minutes)
    return services.sms_on_my_way(visit=visit, eta_from=eta, eta_until=eta + timedelta(minutes=20))


def claimed(message):
    """The clock's claim, without queueing the send task: returns the message as the task sees it."""
    assert services.messages_claim_due(ids=[message.pk]) == [message.pk]
    message.refresh_from_db()
    return message


def test_the_send_task_run_twice_sends_one_message(sms_outbox):
    with time_machine.travel(NOON, tick=False):
        visit = VisitFactory(starts_at=NOON + timedelta(hours=1))
        message = claimed(on_my_way(visit))

        first = tasks.message_deliver.apply(args=[message.pk]).get()
        second = tasks.message_deliver.apply(args=[message.pk]).get()

    assert (first, second) == ("sent", None)
    assert len(sms_outbox) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1
    assert message.provider_message_id == sms_outbox[0].provider_id


def test_a_task_queued_under_the_old_name_still_delivers_once(sms_outbox):
    # A worker of the previous release queued "notifications.tasks.message_send": it must still run.
    old = task_get("notifications.tasks.message_send")
    with time_machine.travel(NOON, tick=False):
        visit = VisitFactory(starts_at=NOON + timedelta(hours=1))
        message = claimed(on_my_way(visit))

        first = old.apply(args=[message.pk]).get()
        second = tasks.message_deliver.apply(args=[message.pk]).get()

    assert (first, second) == ("sent", None)
    assert len(sms_outbox) == 1


def test_an_unclaimed_message_is_not_sent_by_a_stray_task(sms_outbox):
    with time_machine.travel(NOON, tick=False):
        visit = VisitFactory(starts_at=NOON + timedelta(hours=1))
        message = on_my_way(visit)  # pending: the clock has not claimed it

        assert services.message_deliver(message_id=message.pk) is None
        assert services.message_deliver(message_id=999_999) is None

    assert sms_outbox == []
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING


def test_the_text_says_when_the_nurse_arrives(sms_outbox, django_capture_on_commit_callbacks):
    with time_machine.travel(local(NY, 2026, 3, 2, 9, 30), tick=False):
        visit = VisitFactory(starts_at=local(NY, 2026, 3, 2, 10, 0))
        with django_capture_on_commit_callbacks(execute=True):
            services.sms_on_my_way(
                visit=visit, eta_from=local(NY, 2026, 3, 2, 9, 40), eta_until=local(NY, 2026, 3, 2, 10, 0)
            )
            services.sms_on_my_way(  # tapped twice
                visit=visit, eta_from=local(NY, 2026, 3, 2, 9, 40), eta_until=local(NY, 2026, 3, 2, 10, 0)
            )

    assert [s.body for s in sms_outbox] == [
        "Hi Alex, your nurse is on the way to your ConciergeMD home visit, arriving 9:40-10:00 AM EST, Mon Mar 2. "
        "Call (888) 555-0142. Reply STOP to opt out"
    ]


def test_transient_errors_retry_with_growing_waits_then_fail_and_fall_back_to_email(settings, sms_outbox, tick):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    sms_outbox.clear()
    with time_machine.travel(NOON, tick=False) as clock:
        visit = VisitFactory(starts_at=NOON + timedelta(hours=3))
        message = on_my_way(visit)
        from notifications.gateways import sms

        sms.failures.extend([SendError("Twilio HTTP 503", code=None)] * 3)

        tick()
        message.refresh_from_db()
        assert (message.status, message.attempts, message.last_error) == ("pending", 1, "Twilio HTTP 503")
        assert message.due_at == NOON + timedelta(minutes=1)

        clock.shift(timedelta(seconds=59))
        assert tick() == []  # not yet due
        clock.shift(timedelta(seconds=1))
        tick()
        message.refresh_from_db()
        assert (message.status, message.attempts) == ("pending", 2)
        assert message.due_at == NOON + timedelta(minutes=1) + timedelta(minutes=2)

        clock.shift(timedelta(minutes=2))
        tick()

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 3)
    assert sms_outbox == []
    stand_in = Message.objects.get(fallback_for=message)
    assert stand_in.status == MessageStatus.SENT
    assert [m.subject for m in mail.outbox] == ["Your ConciergeMD nurse is on the way"]


def test_a_transient_error_then_success_sends_once(sms_outbox, tick):
    from notifications.gateways import sms

    with time_machine.travel(NOON, tick=False) as clock:
        visit = VisitFactory(starts_at=NOON + timedelta(hours=3))
        message = on_my_way(visit)
        sms.failures.append(SendError("Twilio unreachable: ConnectionError"))
        tick()
        clock.shift(timedelta(minutes=1))
        tick()
        clock.shift(timedelta(minutes=5))
        tick()

    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 2, "")
    assert len(sms_outbox) == 1


def test_retry_waits_double_up_to_the_cap(settings):
    settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS = 60
    settings.NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS = 600
    assert [services.retry_delay(n).total_seconds() for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]


def test_a_permanent_error_fails_at_once_and_sends_an_email_instead(sms_outbox, tick):
    from notifications.gateways import sms

    with time_machine.travel(NOON, tick=False):
        visit = VisitFactory(starts_at=NOON + timedelta(hours=3))
        message = on_my_way(visit)
        sms.failures.append(SendError("Twilio HTTP 400 (code 21211)", permanent=True, code=21211))
        tick()

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 1)
    assert [m.subject for m in mail.outbox] == ["Your ConciergeMD nurse is on the way"]
    assert not SmsOptOut.objects.exists()


def test_twilio_saying_the_number_unsubscribed_opts_it_out(sms_outbox, tick):
    from notifications.gateways import sms

    with time_machine.travel(NOON, tick=False):
        visit = VisitFactory(starts_at=NOON + timedelta(hours=3))
        message = on_my_way(visit)
        sms.failures.append(SendError("Twilio HTTP 400 (code 21610)", permanent=True, code=21610))
        tick()

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert SmsOptOut.objects.get(phone_number=message.to_address).is_opted_out
    visit.patient.patient_profile.refresh_from_db()
    assert visit.patient.patient_profile.sms_opt_in is False
    assert len(mail.outbox) == 1


def test_nothing_is_ever_texted_to_a_number_that_said_stop(sms_outbox, tick):
    profile = PatientProfileFactory()
    SmsOptOut.objects.create(phone_number=profile.mobile_phone.as_e164, changed_at=timezone.now())
    with time_machine.travel(NOON, tick=False):
        visit = VisitFactory(profile=profile, starts_at=NOON + timedelta(hours=3))
        message = on_my_way(visit)
        tick()

    message.refresh_from_db()
    assert (message.status, message.last_error) == ("suppressed", "This number replied STOP.")
    assert sms_outbox == []
    assert len(mail.outbox) == 1


def test_a_patient_gets_at_most_the_daily_number_of_texts(settings, sms_outbox, tick):
    settings.NOTIFICATIONS_SMS_DAILY_CAP = 2
    profile = PatientProfileFactory()
    with time_machine.travel(NOON, tick=False) as clock:
        visits = [VisitFactory(profile=profile, starts_at=NOON + timedelta(hours=2 + 3 * n)) for n in range(3)]
        texts = [on_my_way(v) for v in visits]
        tick()
        for message in texts:
            message.refresh_from_db()
        assert [m.status for m in texts] == ["sent", "sent", "suppressed"]
        assert texts[2].last_error == "Daily text limit for this patient reached."
        assert len(sms_outbox) == 2
        assert len(mail.outbox) == 1  # the third became an email

        # The next local day starts at midnight in New York, not UTC.
        clock.move_to(local(NY, 2026, 3, 3, 9, 0))
        visit = VisitFactory(profile=profile, starts_at=timezone.now() + timedelta(hours=1))
        tomorrow = on_my_way(visit)
        tick()
    tomorrow.refresh_from_db()
    assert tomorrow.status == MessageStatus.SENT


def test_a_claim_lost_by_the_broker_is_queued_again_and_sent_once(sms_outbox, tick):
    with time_machine.travel(NOON, tick=False) as clock:
        visit = VisitFactory(starts_at=NOON + timedelta(hours=3))
        message = claimed(on_my_way(visit))  # claimed, but its task never ran

        clock.shift(timedelta(minutes=9))
        tick()
        assert sms_outbox == []
        clock.shift(timedelta(minutes=2))
        tick()
        tick()

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(sms_outbox) == 1


def test_staff_resend_of_a_failed_message_sends_it_once(django_capture_on_commit_callbacks):
    message = MessageFactory(status=MessageStatus.FAILED, attempts=5, last_error="Mail server error")

    with django_capture_on_commit_callbacks(execute=True):
        services.message_resend(message=message)
    with pytest.raises(InvalidState):
        services.message_resend(message=message)

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)
    assert [m.subject for m in mail.outbox] == ["Please call back"]


def test_messages_are_recorded_with_what_was_sent(django_capture_on_commit_callbacks):
    with time_machine.travel(NOON, tick=False):
        visit = VisitFactory(starts_at=NOON + timedelta(days=1, hours=1))
        with django_capture_on_commit_callbacks(execute=True):
            services.visit_confirmed(visit=visit)

    email = Message.objects.get(visit=visit, template="confirmation", channel="email")
    text = Message.objects.get(visit=visit, template="confirmation", channel="sms")
    assert email.subject == "Your ConciergeMD visit is booked"
    assert "No food for 6 hours before your visit." in email.body
    assert email.to_address == visit.patient.email
    assert email.provider_message_id.startswith("<") and email.sent_at == NOON
    assert text.to_address == visit.patient.patient_profile.mobile_phone.as_e164
    assert text.body.startswith("Hi Alex, your ConciergeMD home visit is booked")
    sent = mail.outbox[0]
    assert sent.extra_headers["X-ConciergeMD-Message"] == str(email.pk)
    assert sent.alternatives[0][1] == "text/html"


def test_confirming_a_visit_takes_a_bounded_number_of_queries(django_assert_max_num_queries):
    with time_machine.travel(NOON, tick=False):
        visit = VisitFactory(starts_at=NOON + timedelta(days=4))
        visit = type(visit).objects.select_related("service", "patient").get(pk=visit.pk)
        with django_assert_max_num_queries(6):
            services.visit_confirmed(visit=visit)
    assert Message.objects.filter(visit=visit).count() == 7


def test_the_clock_claims_many_messages_in_a_few_queries(django_assert_max_num_queries):
    with time_machine.travel(NOON, tick=False):
        for _ in range(20):
            MessageFactory()
        with django_assert_max_num_queries(6):
            claimed_ids = services.messages_claim_due()
    assert len(claimed_ids) == 20
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENDING}
