"""Races with real threads on PostgreSQL: two clocks, two workers, one patient's daily limit."""

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from concierge.testing import race
from notifications import services
from notifications.models import Message, MessageStatus

from .factories import MessageFactory, PatientProfileFactory, VisitFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def values_of(outcomes):
    """The racers' return values; every racer must have finished without an error."""
    assert all(outcome.ok for outcome in outcomes), outcomes
    return [outcome.value for outcome in outcomes]


def test_two_clocks_claiming_at_once_claim_each_message_once():
    ids = {MessageFactory().pk for _ in range(120)}

    def claim_all():
        mine = []
        while batch := services.messages_claim_due(limit=7):
            mine.extend(batch)
            time.sleep(0.002)  # let the other clock in between batches, as real clocks interleave
        return mine

    first, second = values_of(race(claim_all, claim_all))

    assert first and second, "both clocks took part"
    assert not set(first) & set(second)
    assert set(first) | set(second) == ids
    assert Message.objects.filter(status=MessageStatus.SENDING).count() == 120


def claimed_text(profile, hours_ahead=2):
    """An on-my-way text already claimed by the clock (status sending), for a visit hours ahead."""
    visit = VisitFactory(profile=profile, starts_at=timezone.now() + timedelta(hours=hours_ahead))
    eta = timezone.now() + timedelta(minutes=30)
    return MessageFactory(
        channel="sms",
        template="on_my_way",
        recipient=profile.user,
        visit=visit,
        context={"eta_from": eta.isoformat(), "eta_until": (eta + timedelta(minutes=20)).isoformat()},
        status=MessageStatus.SENDING,
    )


@pytest.fixture(autouse=True)
def texts_allowed_all_day(settings):
    # These tests run at whatever hour it is in New York; quiet hours have their own tests.
    settings.NOTIFICATIONS_SMS_HOURS = ("00:00", "23:59")


def test_two_workers_running_one_send_task_send_it_once(sms_outbox):
    message = claimed_text(PatientProfileFactory())

    results = values_of(race(*[lambda: services.message_deliver(message_id=message.pk)] * 4))

    assert sum(r is not None for r in results) == 1
    assert len(sms_outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)


def test_two_clocks_dispatching_at_once_send_every_message_once():
    ids = {MessageFactory().pk for _ in range(30)}
    from django.core import mail

    values_of(race(*[lambda: services.messages_dispatch_due(limit=5) + services.messages_dispatch_due()] * 3))

    sent = Counter(int(m.extra_headers["X-ConciergeMD-Message"]) for m in mail.outbox)
    assert set(sent) == ids
    assert set(sent.values()) == {1}
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


def test_two_texts_at_once_cannot_both_slip_under_the_daily_limit(settings, sms_outbox):
    settings.NOTIFICATIONS_SMS_DAILY_CAP = 1
    profile = PatientProfileFactory()
    messages = [claimed_text(profile, hours_ahead=2 + 3 * n) for n in range(2)]

    values_of(race(*[lambda m=m: services.message_deliver(message_id=m.pk) for m in messages]))

    statuses = sorted(Message.objects.filter(channel="sms").values_list("status", flat=True))
    assert statuses == ["sent", "suppressed"]
    assert len(sms_outbox) == 1
