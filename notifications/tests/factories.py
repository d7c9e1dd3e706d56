"""Visits and patients for the notifications tests (this app's own copies, built directly)."""

from datetime import timedelta

import factory
from django.utils import timezone

from booking.models import Service, ServiceKind, Visit, VisitStatus
from concierge.tests.factories import UserFactory
from notifications.models import Channel, Message, MessageStatus
from patients.models import PatientProfile
from roster.models import ProviderKind


class PatientProfileFactory(factory.django.DjangoModelFactory):
    """A New York patient who agreed to texts."""

    class Meta:
        model = PatientProfile

    user = factory.SubFactory(UserFactory, role="patient", first_name="Alex")
    legal_first_name = "Alexandra"
    legal_last_name = "Morgan"
    preferred_name = "Alex"
    mobile_phone = factory.Sequence(lambda n: f"+1212555{n % 10000:04d}")
    sms_opt_in = True
    address_line1 = "350 5th Ave"
    city = "New York"
    state = "NY"
    zip_code = "10118"
    time_zone = "America/New_York"


class HomeVisitServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("code",)

    code = "notif-home-visit"
    name = "Home visit"
    kind = ServiceKind.INFUSION
    delivered_by = ProviderKind.NURSE
    is_telehealth = False
    price_cents = 45000
    deposit_cents = 10000


class VideoVisitServiceFactory(HomeVisitServiceFactory):
    code = "notif-video-visit"
    name = "Video evaluation"
    kind = ServiceKind.EVALUATION
    delivered_by = ProviderKind.CLINICIAN
    is_telehealth = True
    price_cents = 15000
    deposit_cents = 0


class VisitFactory(factory.django.DjangoModelFactory):
    """A confirmed home visit three days ahead, 2 hours long, in the patient's zone."""

    class Meta:
        model = Visit

    class Params:
        profile = factory.SubFactory(PatientProfileFactory)

    patient = factory.LazyAttribute(lambda o: o.profile.user)
    service = factory.SubFactory(HomeVisitServiceFactory)
    status = VisitStatus.CONFIRMED
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=2))
    blocked_from = factory.LazyAttribute(lambda o: o.starts_at - timedelta(minutes=30))
    blocked_until = factory.LazyAttribute(lambda o: o.ends_at + timedelta(minutes=30))
    time_zone = factory.LazyAttribute(lambda o: o.profile.time_zone)
    address_line1 = factory.LazyAttribute(lambda o: o.profile.address_line1)
    city = factory.LazyAttribute(lambda o: o.profile.city)
    state = factory.LazyAttribute(lambda o: o.profile.state)
    zip_code = factory.LazyAttribute(lambda o: o.profile.zip_code)
    price_cents = 45000
    amount_due_cents = 10000
    confirmed_at = factory.LazyFunction(timezone.now)


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    channel = Channel.EMAIL
    recipient = factory.SubFactory(UserFactory, role="patient")
    template = "staff_alert"
    context = factory.LazyFunction(lambda: {"subject": "Please call back", "body": "A patient asked for a call."})
    unique_key = factory.Sequence(lambda n: f"test:{n}")
    due_at = factory.LazyFunction(timezone.now)
    status = MessageStatus.PENDING
