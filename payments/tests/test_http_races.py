"""Paying races over real HTTP (the live server, each request in its own thread and connection):
"pay" sent twice, the webhook and the return page together, two staff refunds at once."""

import json
import re

import pytest
import requests
from django.core import mail
from django.urls import reverse

from booking.models import VisitStatus
from concierge.testing import HttpBrowser, http_race, page_text
from notifications.models import Message
from payments.gateways import fake
from payments.models import FakeGatewayObject, Payment, PaymentStatus, Refund, WebhookEvent

from .helpers import intent_event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CARD = {"card_number": "4242 4242 4242 4242", "expiry": "12 / 34", "cvc": "123"}


def shown(responses):
    return [(r.status_code, r.url, page_text(r)[:400]) for r in responses]


def receipts():
    return [m for m in mail.outbox if "receipt" in m.subject.lower()]


@pytest.fixture
def pat(live_server, cleared):
    return HttpBrowser(live_server.url, cleared)


def card_page(browser, visit):
    """The payment page for the hold; the card form's address (the fake gateway's card check)."""
    page = browser.get(reverse("booking:pay", args=[visit.pk]))
    return re.search(r'<form method="post" action="(/pay/fake/[^"]+)"', page.text).group(1)


def test_pay_pressed_twice_at_once_charges_once_and_confirms_once(pat, held):
    action = card_page(pat, held)

    responses = http_race(*[lambda t=t: t.post(action, CARD) for t in (pat.tab(), pat.tab())])

    assert all(r.status_code == 200 for r in responses), shown(responses)
    payment = Payment.objects.get()
    held.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and held.status == VisitStatus.CONFIRMED
    # Both tabs on the outcome ("Your visit is booked"), never the card form again.
    assert all(r.url.endswith(reverse("payments:status", args=[payment.pk])) for r in responses), shown(responses)
    assert all("Your visit is booked" in page_text(r) for r in responses)
    events = FakeGatewayObject.objects.filter(kind="event", data__type="payment_intent.succeeded")
    assert events.count() == 1  # one charge at the gateway
    assert len(receipts()) == 1
    assert Message.objects.filter(visit=held, template="confirmation", channel="email").count() == 1


def test_the_signed_webhook_and_the_return_page_at_once_confirm_once(live_server, pat, held):
    action = card_page(pat, held)
    fake.DELIVER_EVENTS = False
    try:
        card_check = pat.post(action, CARD, allow_redirects=False)  # paid; Stripe's event not sent yet
    finally:
        fake.DELIVER_EVENTS = True
    payment = Payment.objects.get()
    event = intent_event("payment_intent.succeeded", payment.intent_id)
    body = json.dumps(event)

    def webhook():
        return requests.post(
            live_server.url + "/stripe/webhook/",
            data=body,
            headers={"Stripe-Signature": fake.sign(body), "Content-Type": "application/json"},
            timeout=60,
        )

    responses = http_race(lambda: pat.tab().get(card_check.headers["Location"]), webhook)

    assert [r.status_code for r in responses] == [200, 200], shown(responses)
    assert responses[0].url.endswith(reverse("payments:status", args=[payment.pk]))
    assert WebhookEvent.objects.filter(event_id=event["id"]).count() == 1
    payment.refresh_from_db()
    held.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and held.status == VisitStatus.CONFIRMED
    assert len(receipts()) == 1
    assert Message.objects.filter(visit=held, template="confirmation", channel="email").count() == 1


def test_two_staff_refunding_one_payment_in_full_at_once_refund_it_once(live_server, pat, held):
    from concierge.roles import roles_sync
    from concierge.tests.factories import UserFactory

    roles_sync()
    pat.post(card_page(pat, held), CARD)
    payment = Payment.objects.get(status=PaymentStatus.SUCCEEDED)
    staff = [
        HttpBrowser(live_server.url, UserFactory(role=role, email=f"{role}@example.com"))
        for role in ("staff", "manager")
    ]
    url = reverse("admin:payments_payment_refund", args=[payment.pk])

    responses = http_race(*[lambda b=b: b.post(url, {"amount": "100.00", "reason": "Goodwill"}) for b in staff])

    assert all(r.status_code == 200 for r in responses), shown(responses)
    assert list(Refund.objects.values_list("amount_cents", flat=True)) == [10000]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    texts = [page_text(r) for r in responses]
    print([t[t.find("Refund payment P-", 200) :][:1500] for t in texts])
    assert sum("Refund of $100.00 recorded" in t for t in texts) == 1
    loser = next(t for t in texts if "Refund of $100.00 recorded" not in t)
    # The payment as the refusal found it, not as read before the other refund went through.
    assert "Refunded so far: $100.00" in loser and "There is nothing left to refund on this payment." in loser, loser
