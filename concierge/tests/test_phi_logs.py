"""A whole day of the clinic through its real code paths, with the log output read back.

Sign-up and profile, the health questions and a PHQ-9 with item 9 answered, a message with
danger words, booking and paying for a visit (webhook included), reminders sent, a nurse's
on-my-way text and a signed chart, and a server error in the middle of a form full of personal
data. Everything written to the log handlers — and the error report — must hold no patient name,
birth date, phone, address, email or clinical word.
"""

import io
import logging
import re
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import include, path
from django.views.debug import get_exception_reporter_class

from booking.models import Service, Visit, VisitStatus
from booking.testing import first_free_start
from concierge.models import User
from concierge.opaque import decode
from concierge.opaque import encode as oid
from concierge.privacy import PHIFilter
from concierge.tests.factories import UserFactory
from notifications.content import FORBIDDEN_WORDS
from nurses import services as nursing
from nurses.tests import factories as nurse_factories
from nurses.tests.conftest import ny
from nurses.tests.test_services import ready_to_sign
from patients.tests.factories import CLEAN_ANSWERS, screening
from patients.tests.test_intake import answer_everything
from patients.tests.test_signup_and_profile import profile_data, sign_up
from portal import messaging
from portal.models import ThreadTopic

NOW = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # a Tuesday, 9 AM in New York

# The people in the story and what must never be logged about them.
ZELDA = {
    "first": "Zelda",
    "last": "Quartermaine",
    "email": "zelda.quartermaine@example.com",
    "birth": "1979-04-13",
    "phone": "(212) 555-0187",
    "street": "742 Evergreen Terrace",
}
SECRETS = [
    ZELDA["first"],
    ZELDA["last"],
    ZELDA["email"],
    ZELDA["birth"],
    "2125550187",
    "555-0187",
    "Evergreen",
    # the demo patient who books and pays
    "Alex",
    "Morgan",
    "patient@demo.conciergemd.example",
    "1986-05-14",
    "2125550143",
    "555-0143",
    "W 31st",
    # the patient the nurse visits
    "Odessa",
    "Brightwater",
]
CLINICAL = [w for w in FORBIDDEN_WORDS if len(w) > 3] + ["sertraline", "suicid", "self-harm", "overdose"]


def boom(request):
    raise RuntimeError("the page broke while saving")


urlpatterns = [path("boom/", boom), path("", include("concierge.urls"))]


@pytest.fixture
def log_output():
    """Point every configured handler that carries the PHI filter at one buffer."""
    buffer = io.StringIO()
    handlers = {
        h
        for name in [None, "django.server", "django.request"]
        for h in logging.getLogger(name).handlers
        if any(isinstance(f, PHIFilter) for f in h.filters)
    }
    assert handlers, "the console handler with the PHI filter is configured"
    previous = [(h, h.setStream(buffer)) for h in handlers if isinstance(h, logging.StreamHandler)]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    yield buffer
    root.setLevel(level)
    for handler, stream in previous:
        handler.setStream(stream)


def leaks(text):
    found = [s for s in SECRETS if s.lower() in text.lower()]
    found += [w for w in CLINICAL if re.search(rf"(?<![\w-]){re.escape(w)}", text, re.I)]
    return found


@pytest.mark.django_db(transaction=True)
def test_a_day_of_the_clinic_logs_nothing_personal_or_clinical(client, log_output, settings):
    settings.SMS_BACKEND = "memory"
    with time_machine.travel(NOW, tick=False) as clock:
        call_command("seed_demo")
        logging.getLogger("concierge.tests").info("--- the day starts ---")

        # A new patient signs up, fills in the profile and the health questions, answers a PHQ-9
        # with item 9 above 0, and writes a message with danger words.
        sign_up(client, email=ZELDA["email"], date_of_birth=ZELDA["birth"], sms_opt_in="on")
        zelda = User.objects.get(email=ZELDA["email"])
        client.post(
            "/profile/",
            profile_data(
                legal_first_name=ZELDA["first"],
                legal_last_name=ZELDA["last"],
                preferred_name=ZELDA["first"],
                date_of_birth=ZELDA["birth"],
                mobile_phone=ZELDA["phone"],
                address_line1=ZELDA["street"],
                city="New York",
                state="NY",
                zip_code="10001",
            ),
        )
        assert zelda.patient_profile.legal_last_name == ZELDA["last"]
        answer_everything(client, {**CLEAN_ANSWERS, "medications": "sertraline 50 mg"})
        screening(zelda, "phq9", answers=[2, 2, 1, 1, 1, 1, 1, 1, 1])
        messaging.thread_start(
            patient=zelda,
            topic=ThreadTopic.HEALTH,
            subject="Feeling low",
            body="I keep thinking about suicide and an overdose.",
            form_token=uuid.uuid4().hex,
        )

        # The cleared demo patient books a visit on the pages and pays with the test card.
        alex = User.objects.get(email="patient@demo.conciergemd.example")
        client.force_login(alex)
        service = Service.objects.get(code="home-infusion")
        starts_at = first_free_start(patient=alex, service=service, first_day=NOW.date() + timedelta(days=10))
        from booking.forms import start_param

        held = client.post("/book/home-infusion/review/", {"starts_at": start_param(starts_at)})
        visit = Visit.objects.get(pk=decode(re.search(r"/visits/(\w+)/", held["Location"]).group(1)))
        assert held.status_code == 302 and visit.status == VisitStatus.HELD
        page = client.get(f"/pay/{oid(visit.pk)}/").content.decode()
        action = re.search(r'<form method="post" action="(/pay/fake/[^"]+)"', page).group(1)
        paid = client.post(action, {"card_number": "4242 4242 4242 4242", "expiry": "12 / 34", "cvc": "123"})
        client.get(paid["Location"])
        visit.refresh_from_db()
        assert visit.status == VisitStatus.CONFIRMED

        # The clock runs: reminders and the confirmation go out.
        from notifications import services as notify

        clock.shift(timedelta(minutes=5))
        notify.messages_dispatch_due()

        # A nurse visits another patient: on my way, check-in, vitals, dose, discharge, signature.
        nurse = UserFactory(role="nurse", email="field.nurse@example.com")
        provider = nurse_factories.ProviderFactory(user=nurse)
        odessa = UserFactory(role="patient", email="o.brightwater@example.com", first_name="Odessa")
        _, plan = nurse_factories.patient_with_plan(odessa, has_allergies=True, allergies="Latex")
        odessa.patient_profile.legal_first_name, odessa.patient_profile.legal_last_name = "Odessa", "Brightwater"
        odessa.patient_profile.preferred_name = "Odessa"
        odessa.patient_profile.save()
        home_visit = nurse_factories.visit_for(provider, odessa, plan, ny(10))
        clock.move_to(ny(9, 15))
        nursing.visit_on_my_way(visit=home_visit, nurse=nurse)
        ready_to_sign(home_visit, nurse, clock)
        nursing.chart_sign(visit=home_visit, nurse=nurse, signature_name=nurse.get_full_name(), confirm=True)
        home_visit.refresh_from_db()
        assert home_visit.status == VisitStatus.COMPLETED

    # A server error in the middle of a form full of personal and clinical data.
    request = RequestFactory().post(
        "/boom/?zip=10001",
        {"legal_last_name": ZELDA["last"], "medications": "sertraline", "date_of_birth": ZELDA["birth"]},
    )
    try:
        boom(request)
    except RuntimeError:
        exc_info = sys.exc_info()
        report = get_exception_reporter_class(request)(request, *exc_info).get_traceback_text()
        # What Django's handler logs for an unhandled exception.
        logging.getLogger("django.request").error(
            "Internal Server Error: %s", request.path, exc_info=exc_info, extra={"status_code": 500, "request": request}
        )

    output = log_output.getvalue()
    assert "--- the day starts ---" in output  # the buffer really receives the log
    assert "message_deliver" in output or "notifications" in output  # and the app logged its work
    assert leaks(output) == [], output
    assert leaks(report) == []
