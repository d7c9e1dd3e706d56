"""Twilio: the real SDK against a fake HTTP client; signed webhooks for incoming texts and receipts."""

from datetime import timedelta

import pytest
import requests
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from notifications import services
from notifications.gateways import SendError
from notifications.gateways.sms import TwilioGateway
from notifications.models import InboundSms, Message, MessageStatus, SmsOptOut

from .conftest import local
from .factories import PatientProfileFactory, VisitFactory

pytestmark = pytest.mark.django_db

NY = "America/New_York"
NOON = local(NY, 2026, 3, 2, 12, 0)
TOKEN = "twilio-test-token"


# --- the gateway --------------------------------------------------------------------------------


def test_the_gateway_posts_to_twilios_messages_api_and_returns_the_sid(twilio):
    sid = TwilioGateway().send(
        to="+12125550143", body="Hi Alex", message_id=7, status_callback="https://x.example/twilio/sms/status/?m=7"
    )

    assert sid == "SM" + "1".zfill(32)
    [request] = twilio.requests
    assert request["method"] == "POST"
    assert request["uri"] == f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Messages.json"
    assert request["data"] == {
        "To": "+12125550143",
        "From": "+15005550006",
        "Body": "Hi Alex",
        "StatusCallback": "https://x.example/twilio/sms/status/?m=7",
    }
    assert request["auth"] == ("AC" + "0" * 32, TOKEN)


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        (400, 21211, True),  # invalid number
        (400, 21610, True),  # unsubscribed
        (400, 21614, True),  # not a mobile
        (401, 20003, True),  # bad credentials: retrying will not fix them
        (429, 20429, False),  # too many requests
        (500, 20500, False),
        (503, None, False),
    ],
)
def test_twilio_errors_are_split_into_permanent_and_transient(twilio, status, code, permanent):
    body = {"status": status, "message": "nope"}
    if code:
        body["code"] = code
    twilio.responses = [(status, body)]

    with pytest.raises(SendError) as error:
        TwilioGateway().send(to="+12125550143", body="Hi", message_id=1)

    assert error.value.permanent is permanent
    assert error.value.code == (code or status)


def test_a_network_error_is_transient(twilio):
    twilio.responses = [requests.ConnectionError("connection refused")]

    with pytest.raises(SendError) as error:
        TwilioGateway().send(to="+12125550143", body="Hi", message_id=1)

    assert error.value.permanent is False


def test_a_reminder_goes_through_twilio_end_to_end(twilio, tick):
    with time_machine.travel(NOON, tick=False):
        visit = VisitFactory(starts_at=NOON + timedelta(hours=1))
        message = services.sms_on_my_way(
            visit=visit, eta_from=NOON + timedelta(minutes=40), eta_until=NOON + timedelta(hours=1)
        )
        tick()

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.provider_message_id == "SM" + "1".zfill(32)
    assert twilio.requests[0]["data"]["Body"] == message.body
    assert twilio.requests[0]["data"]["StatusCallback"] == f"http://testserver/twilio/sms/status/?m={message.pk}"


def test_twilio_rejecting_a_number_fails_the_text_at_once_and_emails_instead(twilio, tick):
    twilio.responses = [
        (400, {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400})
    ]
    with time_machine.travel(NOON, tick=False):
        visit = VisitFactory(starts_at=NOON + timedelta(hours=1))
        message = services.sms_on_my_way(
            visit=visit, eta_from=NOON + timedelta(minutes=40), eta_until=NOON + timedelta(hours=1)
        )
        tick()
        tick()

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 1)
    assert "21211" in message.last_error
    assert len(twilio.requests) == 1
    assert [m.subject for m in mail.outbox] == ["Your ConciergeMD nurse is on the way"]


# --- webhooks -----------------------------------------------------------------------------------


def signed_post(client, name, params, *, token=TOKEN, query="", signature=None, **extra):
    url = "http://testserver" + reverse(f"notifications:{name}") + query
    if signature is None:
        signature = RequestValidator(token).compute_signature(url, params)
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    return client.post(url, params, **headers, **extra)


@pytest.fixture
def twilio_token(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32


def inbound(sid, body, number="+12125550143"):
    return {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": number, "To": "+15005550006", "Body": body}


@pytest.mark.parametrize("word", ["STOP", "stop", "Stop.", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"])
def test_stop_opts_the_number_out(client, twilio_token, word):
    profile = PatientProfileFactory(mobile_phone="+12125550143")

    response = signed_post(client, "twilio-inbound", inbound("SM1", word))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert "<Message>" not in response.content.decode()  # Twilio confirms an opt-out itself
    assert SmsOptOut.objects.get(phone_number="+12125550143").is_opted_out
    profile.refresh_from_db()
    assert profile.sms_opt_in is False
    assert profile.sms_opt_in_changed_at is not None


def test_stop_then_start_opts_the_number_back_in_and_each_webhook_acts_once(client, twilio_token):
    profile = PatientProfileFactory(mobile_phone="+12125550143")

    with time_machine.travel(NOON, tick=False):
        signed_post(client, "twilio-inbound", inbound("SM1", "STOP"))
    with time_machine.travel(NOON + timedelta(hours=1), tick=False):
        signed_post(client, "twilio-inbound", inbound("SM1", "STOP"))  # Twilio retried: no second change
    opt_out = SmsOptOut.objects.get()
    assert opt_out.changed_at == NOON

    with time_machine.travel(NOON + timedelta(days=1), tick=False):
        response = signed_post(client, "twilio-inbound", inbound("SM2", "start"))
        again = signed_post(client, "twilio-inbound", inbound("SM2", "start"))

    assert "you will get visit texts again" in response.content.decode()
    assert again.content == response.content
    opt_out.refresh_from_db()
    assert (opt_out.is_opted_out, opt_out.changed_at) == (False, NOON + timedelta(days=1))
    profile.refresh_from_db()
    assert profile.sms_opt_in is True
    assert InboundSms.objects.count() == 2


def test_unstop_opts_back_in(client, twilio_token):
    services.sms_opt_out_record(phone_number="+12125550143")

    signed_post(client, "twilio-inbound", inbound("SM9", "UNSTOP"))

    assert SmsOptOut.objects.get().is_opted_out is False


def test_help_answers_with_the_company_name_and_phone(client, twilio_token):
    response = signed_post(client, "twilio-inbound", inbound("SM3", " help "))

    body = response.content.decode()
    assert "<Message>ConciergeMD home visits. For help call (888) 555-0142." in body
    assert "Reply STOP to opt out" in body
    assert not SmsOptOut.objects.exists()


def test_other_texts_get_the_phone_number_and_are_not_stored(client, twilio_token):
    response = signed_post(client, "twilio-inbound", inbound("SM4", "I feel awful, can you call me"))

    assert "cannot read replies" in response.content.decode()
    inbound_row = InboundSms.objects.get()
    assert inbound_row.action == "other"
    assert "awful" not in str(vars(inbound_row))


@pytest.mark.parametrize(
    "signature",
    [
        "",  # missing
        "bm90IGEgc2lnbmF0dXJl",  # made up
        RequestValidator("someone-elses-token").compute_signature(
            "http://testserver/twilio/sms/inbound/", inbound("SM5", "STOP")
        ),
    ],
)
def test_a_forged_or_missing_signature_is_refused_and_changes_nothing(client, twilio_token, signature):
    PatientProfileFactory(mobile_phone="+12125550143")

    response = signed_post(client, "twilio-inbound", inbound("SM5", "STOP"), signature=signature)

    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()
    assert not InboundSms.objects.exists()


def test_a_signature_for_different_parameters_is_refused(client, twilio_token):
    url = "http://testserver/twilio/sms/inbound/"
    signature = RequestValidator(TOKEN).compute_signature(url, inbound("SM6", "HELP"))

    response = client.post(url, inbound("SM6", "STOP"), HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 403
    assert not SmsOptOut.objects.exists()


def test_without_an_auth_token_every_webhook_is_refused(client, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    response = signed_post(client, "twilio-inbound", inbound("SM7", "STOP"), token="anything")

    assert response.status_code == 403


def test_webhooks_take_posts_only(client, twilio_token):
    assert client.get(reverse("notifications:twilio-inbound")).status_code == 405


def test_a_signature_over_the_public_site_url_is_accepted_behind_a_proxy(client, settings, twilio_token):
    settings.SITE_URL = "https://clinic.example.com"
    public = "https://clinic.example.com/twilio/sms/inbound/"
    signature = RequestValidator(TOKEN).compute_signature(public, inbound("SM8", "STOP"))

    response = client.post("/twilio/sms/inbound/", inbound("SM8", "STOP"), HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 200
    assert SmsOptOut.objects.get().is_opted_out


# --- delivery receipts --------------------------------------------------------------------------


@pytest.fixture
def sent_text(twilio, tick):
    with time_machine.travel(NOON, tick=False):
        visit = VisitFactory(starts_at=NOON + timedelta(hours=1))
        message = services.sms_on_my_way(
            visit=visit, eta_from=NOON + timedelta(minutes=40), eta_until=NOON + timedelta(hours=1)
        )
        tick()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    return message


def receipt(message, status, **extra):
    return {"MessageSid": message.provider_message_id, "MessageStatus": status, "AccountSid": "AC" + "0" * 32, **extra}


def test_a_delivery_receipt_marks_the_text_delivered_once(client, sent_text):
    query = f"?m={sent_text.pk}"
    for status in ("sent", "delivered", "delivered", "sent"):  # repeated and out of order
        response = signed_post(client, "twilio-status", receipt(sent_text, status), query=query)
        assert response.status_code == 204

    sent_text.refresh_from_db()
    assert sent_text.status == MessageStatus.DELIVERED
    assert sent_text.delivered_at is not None


def test_an_undelivered_text_fails_and_its_email_stand_in_goes_once(
    client, sent_text, django_capture_on_commit_callbacks
):
    query = f"?m={sent_text.pk}"
    with time_machine.travel(NOON + timedelta(minutes=2), tick=False), django_capture_on_commit_callbacks(execute=True):
        signed_post(client, "twilio-status", receipt(sent_text, "undelivered", ErrorCode="30003"), query=query)
        signed_post(client, "twilio-status", receipt(sent_text, "undelivered", ErrorCode="30003"), query=query)

    sent_text.refresh_from_db()
    assert sent_text.status == MessageStatus.FAILED
    assert "30003" in sent_text.last_error
    assert [m.subject for m in mail.outbox] == ["Your ConciergeMD nurse is on the way"]


def test_a_receipt_for_another_message_id_changes_nothing(client, sent_text):
    other = {"MessageSid": "SMnotours", "MessageStatus": "delivered"}

    signed_post(client, "twilio-status", other, query=f"?m={sent_text.pk}")
    signed_post(client, "twilio-status", other)

    sent_text.refresh_from_db()
    assert sent_text.status == MessageStatus.SENT


def test_a_forged_receipt_is_refused(client, sent_text):
    response = signed_post(
        client, "twilio-status", receipt(sent_text, "failed"), query=f"?m={sent_text.pk}", signature="forged"
    )

    assert response.status_code == 403
    sent_text.refresh_from_db()
    assert sent_text.status == MessageStatus.SENT


def test_a_receipt_faster_than_the_sender_is_kept(twilio):
    """Twilio can call back before the send task recorded the sid: the receipt wins."""
    with time_machine.travel(NOON, tick=False):
        visit = VisitFactory(starts_at=NOON + timedelta(hours=1))
        message = services.sms_on_my_way(
            visit=visit, eta_from=NOON + timedelta(minutes=40), eta_until=NOON + timedelta(hours=1)
        )
        services.messages_claim_due(ids=[message.pk])

        original_send = TwilioGateway.send

        def send_then_receipt(self, **kwargs):
            sid = original_send(self, **kwargs)
            services.sms_status_record(message_id=kwargs["message_id"], message_sid=sid, status="delivered")
            return sid

        TwilioGateway.send = send_then_receipt
        try:
            services.message_deliver(message_id=message.pk)
        finally:
            TwilioGateway.send = original_send

    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    assert message.provider_message_id == "SM" + "1".zfill(32)
    assert message.sent_at == NOON
    assert Message.objects.count() == 1
    assert timezone.now() > NOON
