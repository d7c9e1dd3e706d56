"""Helpers for the care-team portal tests: threads, answers, and visits to check in about."""

import uuid
from datetime import timedelta

from django.utils import timezone

from booking.models import VisitStatus
from booking.tests import factories as booking_factories
from portal import messaging
from portal.models import ThreadTopic


def token():
    return uuid.uuid4().hex


def thread_for(
    patient,
    *,
    subject="A question about my visit",
    body="Can I move my visit to the afternoon?",
    topic=ThreadTopic.LOGISTICS,
):
    """A thread the patient started; returns its first message."""
    return messaging.thread_start(patient=patient, topic=topic, subject=subject, body=body, form_token=token())


def answer(thread, author, body="Yes, we have moved it. See you then."):
    return messaging.thread_message_post(thread=thread, author=author, body=body, form_token=token())


def home_visit(patient, *, ended_hours_ago=20, status=VisitStatus.COMPLETED, **kwargs):
    """A two-hour home infusion that ended `ended_hours_ago` hours ago."""
    ends = timezone.now() - timedelta(hours=ended_hours_ago)
    return booking_factories.VisitFactory(
        patient=patient, status=status, starts_at=ends - timedelta(hours=2), ends_at=ends, **kwargs
    )


def video_visit(
    patient,
    clinician_user=None,
    *,
    starts_at=None,
    status=VisitStatus.CONFIRMED,
    video_url="https://meet.example.com/conciergemd-abc",
):
    """A 45-minute video evaluation with the clinician (a provider licensed in NY and AZ)."""
    provider = booking_factories.clinician_provider(user=clinician_user) if clinician_user else None
    starts_at = starts_at or timezone.now() + timedelta(days=2)
    return booking_factories.VisitFactory(
        patient=patient,
        service=booking_factories.EvaluationFactory(),
        provider=provider,
        status=status,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        video_url=video_url,
    )
