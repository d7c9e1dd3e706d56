"""CSRF on every POST: without the token a POST is refused (403) and changes nothing.

Every URL of the project is posted to, not only those whose views take POST: Django's CSRF check
runs before any view, so a view that starts taking POST tomorrow is covered today. The only
views that skip the check are the Stripe and Twilio webhooks, which prove their origin with a
signature instead; forged signatures there answer 400 (Stripe) and 403 (Twilio) and change
nothing. Their full signature tests are in payments/tests/test_webhooks.py
(test_a_bad_signature_is_refused_and_nothing_changes) and notifications/tests/test_twilio.py
(test_a_forged_or_missing_signature_is_refused_and_changes_nothing, test_a_forged_receipt_is_refused).
"""

import json
import uuid

import pytest
import time_machine
from django.conf import settings as django_settings
from django.urls import reverse
from twilio.request_validator import RequestValidator

from booking.forms import start_param
from booking.models import Visit, VisitStatus
from concierge.access import ACCESS, ADMIN, CSRF_EXEMPT, WEBHOOK
from concierge.models import Role
from concierge.tests.factories import UserFactory
from notifications.models import Channel, InboundSms, MessageStatus, SmsOptOut
from nurses.models import VisitChart, VitalsReading
from patients.models import PatientProfile
from payments.gateways import fake
from payments.models import PaymentStatus, WebhookEvent
from portal.models import MessageThread

from .access_world import FRIDAY, NOW, World, ny, sample_path, url_for, url_patterns

pytestmark = pytest.mark.django_db

MONDAY = NOW.date()
EXEMPT = {"payments:webhook", "notifications:twilio-inbound", "notifications:twilio-status"}


@pytest.fixture(autouse=True)
def quiet(settings):
    settings.RATE_LIMITS_ENABLED = False
    from notifications.gateways import sms

    with time_machine.travel(NOW, tick=False):
        yield
    sms.outbox.clear()


@pytest.fixture
def world(request, db):
    return World(request)


def csrf_client(world, user=None):
    """A browser that sends no CSRF token unless told (Django's test client skips the check by default)."""
    return world.client(user, enforce_csrf_checks=True)


def is_csrf_failure(response):
    return response.status_code == 403 and "403_csrf.html" in [t.name for t in response.templates]


def with_token(client, url, data):
    """POST as the page's own form would: with the token from the cookie the site set."""
    token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


# --- which views are exempt -------------------------------------------------------------------


def test_only_the_stripe_and_twilio_webhooks_skip_the_csrf_check():
    exempt = {name for name, _parts, pattern in url_patterns() if getattr(pattern.callback, "csrf_exempt", False)}
    assert exempt == EXEMPT
    assert CSRF_EXEMPT == EXEMPT  # and the access table says the same


# --- every URL: a POST without the token --------------------------------------------------------


def owner_of(world, rule):
    if rule.owned is not None:
        return world.user(rule.owned.owner_role(rule))
    if rule.roles == set(Role):
        return world.user(Role.PATIENT)
    return world.user(sorted(rule.roles)[0])


@pytest.mark.parametrize("name", sorted(n for n, rule in ACCESS.items() if rule.access != ADMIN))
def test_a_post_without_the_token_is_refused(name, world):
    """As a logged-out visitor and as the person the page is for. The check runs before the view,
    so the ids in the URL need not point at anything (the write paths below use real objects)."""
    rule = ACCESS[name]
    url = url_for(world, name, "secret" if rule.owned and rule.owned.kind == "payment_secret" else 1)

    for who, user in (("logged out", None), ("the right person", owner_of(world, rule))):
        response = csrf_client(world, user).post(url, {})
        where = f"POST {url} ({name}) {who}: {response.status_code}"
        if rule.access == WEBHOOK:
            # No CSRF check: the missing signature is what refuses it.
            assert response.status_code == rule.anonymous and not is_csrf_failure(response), where
        else:
            assert is_csrf_failure(response), where


def test_every_admin_url_refuses_a_post_without_the_token(world):
    boss = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    client = csrf_client(world, boss)
    paths = sorted({sample_path(parts) for name, parts, _p in url_patterns() if name.startswith("admin:")})
    assert len(paths) > 50
    for path in paths:
        assert is_csrf_failure(client.post(path, {})), path


# --- the main write paths: nothing changes without the token, the same POST with it works -------


def test_holding_a_time(world):
    patient = world.user(Role.PATIENT)
    _plan = world.plan
    client = csrf_client(world, patient)
    url = reverse("booking:review", args=[world.infusion.code])
    data = {"starts_at": start_param(ny(FRIDAY, 10))}
    assert client.get(url, {"start": data["starts_at"]}).status_code == 200

    assert is_csrf_failure(client.post(url, data))
    assert not Visit.objects.filter(patient=patient).exists()

    response = with_token(client, url, data)
    assert response.status_code == 302
    assert Visit.objects.get(patient=patient).status == VisitStatus.HELD


def test_sending_a_message(world):
    patient = world.user(Role.PATIENT)
    client = csrf_client(world, patient)
    url = reverse("portal:message_new")
    data = {
        "topic": "logistics",
        "subject": "Parking",
        "body": "Where should the nurse park?",
        "token": uuid.uuid4().hex,
    }
    assert client.get(url).status_code == 200

    assert is_csrf_failure(client.post(url, data))
    assert not MessageThread.objects.exists()

    assert with_token(client, url, data).status_code == 302
    assert MessageThread.objects.get().patient == patient


def test_recording_vitals(world):
    from nurses.tests import factories as nf

    nurse = world.user(Role.NURSE)
    visit = nf.visit_for(world.nurse_provider, world.user(Role.PATIENT), world.plan, ny(MONDAY, 10))
    client = csrf_client(world, nurse)
    vitals = {"systolic": "124", "diastolic": "78", "heart_rate": "72", "spo2": "98", "respiratory_rate": "14"}
    check_in = reverse("nurses:check_in", args=[visit.pk])
    assert client.get(check_in).status_code == 200

    assert is_csrf_failure(client.post(check_in, {"adult_present": "on", "prep_followed": "on", **vitals}))
    assert not VisitChart.objects.exists()
    assert with_token(client, check_in, {"adult_present": "on", "prep_followed": "on", **vitals}).status_code == 302
    assert VitalsReading.objects.count() == 1  # the baseline

    url = reverse("nurses:vitals", args=[visit.pk])
    data = {"taken_at": "09:00", **vitals, "systolic": "130", "form_token": "v1"}
    assert is_csrf_failure(client.post(url, data))
    assert VitalsReading.objects.count() == 1

    assert with_token(client, url, data).status_code == 302
    assert VitalsReading.objects.latest("id").systolic == 130


def test_saving_the_profile(world):
    patient = world.user(Role.PATIENT)
    client = csrf_client(world, patient)
    url = reverse("patients:profile")
    data = {
        "legal_first_name": "Patricia",
        "legal_last_name": "Quinn",
        "preferred_name": "Pat",
        "date_of_birth": "1985-03-09",
        "mobile_phone": "(602) 555-0188",
        "address_line1": "200 W Washington St",
        "city": "Phoenix",
        "state": "AZ",
        "zip_code": "85004",
        "weight": "176",
        "weight_unit": "lb",
        "emergency_contact_name": "Robin Quinn",
        "emergency_contact_phone": "602-555-0112",
        "emergency_contact_relationship": "Sister",
        "support_person_name": "Robin Quinn",
        "support_person_phone": "602 555 0112",
    }
    assert client.get(url).status_code == 200

    assert is_csrf_failure(client.post(url, data))
    assert PatientProfile.objects.get(user=patient).city == "New York"

    assert with_token(client, url, data).status_code == 302
    assert PatientProfile.objects.get(user=patient).city == "Phoenix"


def test_paying(world):
    payment = world.payment
    client = csrf_client(world, world.user(Role.PATIENT))
    url = reverse("payments:fake_pay", args=[payment.client_secret])
    card = {"card_number": fake.SUCCESS_CARD, "expiry": "12 / 30", "cvc": "123"}
    assert client.get(reverse("booking:pay", args=[world.held_visit.pk])).status_code == 200

    assert is_csrf_failure(client.post(url, card))
    payment.refresh_from_db()
    world.held_visit.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_PAYMENT
    assert world.held_visit.status == VisitStatus.HELD

    response = with_token(client, url, card)
    assert response.status_code == 302
    client.get(response["Location"])  # back from the card check
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


def test_cancelling_a_visit_in_admin(world):
    client = csrf_client(world, world.user(Role.STAFF))
    url = reverse("admin:booking_visit_cancel_visit", args=[world.visit.pk])
    assert client.get(url).status_code == 200

    assert is_csrf_failure(client.post(url, {"reason": "Nurse unwell"}))
    world.visit.refresh_from_db()
    assert world.visit.status == VisitStatus.CONFIRMED


# --- the exempt views: a forged signature changes nothing ---------------------------------------


def test_a_forged_stripe_event_is_refused_with_400_and_changes_nothing(world):
    payment = world.payment
    fake.DELIVER_EVENTS = False
    try:
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    finally:
        fake.DELIVER_EVENTS = True
    event = fake.event_build(
        "payment_intent.succeeded", fake._intent_public(fake._get(payment.intent_id, "payment_intent").data)
    )
    payload = json.dumps(event)
    forged = fake.sign(payload, secret="whsec_someone_else")

    response = csrf_client(world).post(
        "/stripe/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=forged
    )

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    payment.refresh_from_db()
    world.held_visit.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_PAYMENT
    assert world.held_visit.status == VisitStatus.HELD

    # The same event signed with our secret goes through: the exemption is what lets Stripe in.
    response = csrf_client(world).post(
        "/stripe/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=fake.sign(payload)
    )
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


TWILIO_TOKEN = "twilio-test-token"


def twilio_post(world, name, params, token, query=""):
    url = "http://testserver" + reverse(f"notifications:{name}") + query
    signature = RequestValidator(token).compute_signature(url, params)
    return csrf_client(world).post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_a_forged_stop_text_is_refused_with_403_and_changes_nothing(world, settings):
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    profile = world.patient_profile
    stop = {"MessageSid": "SM1", "AccountSid": "AC" + "0" * 32, "From": str(profile.mobile_phone), "Body": "STOP"}

    response = twilio_post(world, "twilio-inbound", stop, "someone-elses-token")

    assert response.status_code == 403
    assert not SmsOptOut.objects.exists() and not InboundSms.objects.exists()
    assert twilio_post(world, "twilio-inbound", stop, TWILIO_TOKEN).status_code == 200
    assert SmsOptOut.objects.count() == 1


def test_a_forged_delivery_receipt_is_refused_with_403_and_changes_nothing(world, settings):
    from notifications.tests.factories import MessageFactory

    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    text = MessageFactory(channel=Channel.SMS, status=MessageStatus.SENT, provider_message_id="SM42")
    receipt = {"MessageSid": "SM42", "MessageStatus": "failed", "AccountSid": "AC" + "0" * 32}

    response = twilio_post(world, "twilio-status", receipt, "someone-elses-token", query=f"?m={text.pk}")

    assert response.status_code == 403
    text.refresh_from_db()
    assert text.status == MessageStatus.SENT
    assert twilio_post(world, "twilio-status", receipt, TWILIO_TOKEN, query=f"?m={text.pk}").status_code == 204
    text.refresh_from_db()
    assert text.status == MessageStatus.FAILED
