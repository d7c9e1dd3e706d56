"""Texts to the clinic's number (a reply to a reminder) that suggest danger: the same alert as a portal
message, the clinician on call paged, and an answer with 911 and 988 at once (issue 15)."""

from datetime import time

import pytest
from django.core import mail

from notifications.models import InboundSms, Message
from notifications.signals import inbound_text_received
from notifications.tests.test_twilio import TOKEN, inbound, signed_post
from patients.models import PatientProfile, SafetyAlert
from patients.selectors import booking_eligibility_for
from patients.signals import infusion_safety_changed
from roster.models import OnCallShift, ProviderKind
from roster.services import provider_save

from .factories import PatientProfileFactory, cleared

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("twilio_token")]

NUMBER = "+12125550143"


@pytest.fixture
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32


@pytest.fixture
def texter(db):
    return PatientProfileFactory(mobile_phone=NUMBER)


@pytest.fixture
def signals():
    sent = []

    def receiver(sender, **kwargs):
        sent.append(kwargs)

    infusion_safety_changed.connect(receiver, dispatch_uid="test-inbound-texts")
    yield sent
    infusion_safety_changed.disconnect(dispatch_uid="test-inbound-texts")


def text(client, sid, body, number=NUMBER):
    response = signed_post(client, "twilio-inbound", inbound(sid, body, number))
    assert response.status_code == 200
    return response.content.decode()


def test_a_reply_that_suggests_danger_raises_the_alert_and_answers_with_911_and_988(
    client, texter, clinician, settings, signals, django_capture_on_commit_callbacks
):
    settings.ONCALL_CLINICIAN_EMAIL = "oncall@clinic.example"
    cleared(texter.user, clinician)
    assert booking_eligibility_for(patient=texter.user).can_book_infusion
    signals.clear()  # the clearance's own announcement (reason "clearance"): not what this test is about

    with django_capture_on_commit_callbacks(execute=True):
        answer = text(client, "SM1", "honestly there is no reason to live anymore")

    assert "call 911 now" in answer and "call or text 988" in answer
    assert "cannot read replies" not in answer
    alert = SafetyAlert.objects.get()
    assert (alert.patient, alert.reason, alert.from_number) == (texter.user, "text", NUMBER)
    assert alert.inbound_text == InboundSms.objects.get(message_sid="SM1")
    assert alert.matched_words == ["want to die"]
    assert alert.source_text == "honestly there is no reason to live anymore"  # for the clinician, in the alert
    assert PatientProfile.objects.get(pk=texter.pk).safety_review_required
    assert not booking_eligibility_for(patient=texter.user).can_book_infusion
    assert [(s["patient"], s["reason"], s["safety"]) for s in signals] == [(texter.user, "safety_alert", True)]
    # The on-call inbox, as for a portal message: a neutral subject and a link, never the words.
    [email] = [m for m in mail.outbox if m.to == ["oncall@clinic.example"]]
    assert email.subject == "Urgent: a patient needs a safety review"
    assert f"/admin/patients/safetyalert/{alert.pk}/change/" in email.body
    assert "reason to live" not in email.body and "clinic's number" in email.body
    # The outbox keeps no text of the patient's.
    assert "reason to live" not in str(list(InboundSms.objects.values()))


def test_twilio_retrying_the_webhook_raises_one_alert_and_gives_the_same_answer(
    client, texter, signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = text(client, "SM2", "I want to kill myself")
    with django_capture_on_commit_callbacks(execute=True):
        again = text(client, "SM2", "I want to kill myself")

    assert again == first and "988" in first
    assert SafetyAlert.objects.count() == 1 and len(signals) == 1
    assert len([m for m in mail.outbox if "safety review" in m.subject]) == 1


def test_a_text_in_spanish_is_answered_in_spanish(client, texter):
    answer = text(client, "SM3", "ya no aguanto más, quiero morir")

    assert "llame al 911" in answer and "988" in answer
    assert SafetyAlert.objects.get().matched_words == ["end my life", "want to die"]


@pytest.mark.parametrize("body", ["Me muero de risa con el recordatorio", "I'm dying to see the nurse again!", "OK"])
def test_idioms_and_everyday_replies_get_the_standard_answer_which_still_gives_911_and_988(client, texter, body):
    answer = text(client, "SM4", body)

    assert "cannot read replies" in answer and "call 911" in answer and "988" in answer
    assert not SafetyAlert.objects.exists()
    assert InboundSms.objects.get().reply == ""


def test_a_number_no_patient_has_raises_an_alert_to_call_it_back(client, clinician, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answer = text(client, "SM5", "my brother took too many pills", number="+13125550100")

    assert "911" in answer
    alert = SafetyAlert.objects.get()
    assert (alert.patient, alert.from_number, alert.matched_words) == (None, "+13125550100", ["overdose"])
    client.force_login(clinician)
    page = client.get(f"/admin/patients/safetyalert/{alert.pk}/change/").content.decode()
    assert "+13125550100" in page and "no patient has this number" in page and "too many pills" in page
    assert "Unknown number +13125550100" in client.get("/admin/patients/safetyalert/").content.decode()


def test_the_clinician_on_call_is_paged_and_acknowledging_the_alert_acknowledges_the_page(
    client, texter, clinician, django_capture_on_commit_callbacks
):
    from concierge.tests.factories import UserFactory
    from roster.models import OnCallPage

    on_call = provider_save(user=clinician, kind=ProviderKind.CLINICIAN, home_zip="10001", phone="+12125550101")
    backup = provider_save(
        user=UserFactory(role="clinician", email="b@example.com"),
        kind=ProviderKind.CLINICIAN,
        home_zip="10001",
        phone="+12125550102",
    )
    for weekday in range(7):
        OnCallShift.objects.create(
            clinician=on_call,
            backup=backup,
            weekday=weekday,
            start_time=time(0, 0),
            end_time=time(0, 0),
            time_zone="America/New_York",
        )
    with django_capture_on_commit_callbacks(execute=True):
        text(client, "SM6", "chest pain and I can't breathe")

    alert = SafetyAlert.objects.get()
    page = OnCallPage.objects.get(key=f"safety-alert:{alert.pk}")
    assert page.clinician == clinician
    assert Message.objects.get(channel="sms", to_address="+12125550101").template == "oncall_page"

    client.force_login(clinician)
    client.post(f"/admin/patients/safetyalert/{alert.pk}/change/", {"action": "acknowledge", "resolution_note": ""})

    page.refresh_from_db()
    assert page.acknowledged_by == clinician


def test_the_seam_uses_the_first_answer_of_a_receiver_and_keeps_it(client):
    def answer(sender, **kwargs):
        return "We read you."

    inbound_text_received.connect(answer, dispatch_uid="test-answer")
    try:
        first = text(client, "SM7", "hello")
        again = text(client, "SM7", "hello")
    finally:
        inbound_text_received.disconnect(dispatch_uid="test-answer")

    assert "We read you." in first and again == first
    assert InboundSms.objects.get().reply == "We read you."
