"""The payment pages: who may see them, what they say, the CSP, the card form, the dashboard list."""

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from booking.checkout import checkout_start
from booking.models import VisitStatus
from concierge.errors import TryAgainLater
from concierge.opaque import encode as oid
from concierge.tests.factories import UserFactory
from payments import selectors, services
from payments.gateways import fake, stripe_gateway
from payments.models import Payment, PaymentStatus

from .test_stripe_gateway import FakeStripeHTTP, intent_json


@pytest.fixture
def patient_client(client, patient):
    client.force_login(patient)
    return client


def pay(client, payment, card, expiry="12 / 30", cvc="123"):
    return client.post(f"/pay/fake/{payment.client_secret}/", {"card_number": card, "expiry": expiry, "cvc": cvc})


def test_the_payment_page_shows_what_is_paid_for_and_until_when_it_is_held(patient_client, held):
    response = patient_client.get(f"/pay/{oid(held.pk)}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Home visit" in page
    assert "Tue Mar 3, 10:00 AM EST" in page
    assert "$100.00" in page
    assert "$350.00" in page  # the rest, not charged now
    assert "We are holding this time for you until 9:10 AM EST." in page
    assert "4242 4242 4242 4242" in page
    payment = Payment.objects.get()
    assert f'action="/pay/fake/{payment.client_secret}/"' in page
    assert "infusion" not in page.lower()  # the service's own name is not shown on payment pages


def test_only_the_payment_page_lets_stripe_in(patient_client, held):
    pay_csp = patient_client.get(f"/pay/{oid(held.pk)}/")["Content-Security-Policy"]
    payment = Payment.objects.get()
    again_csp = patient_client.get(f"/pay/payment/{oid(payment.pk)}/")["Content-Security-Policy"]  # to try again
    home_csp = patient_client.get("/")["Content-Security-Policy"]

    assert again_csp == pay_csp

    assert "script-src 'self' https://js.stripe.com https://*.js.stripe.com" in pay_csp
    assert "frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com" in pay_csp
    assert "connect-src 'self' https://api.stripe.com" in pay_csp
    assert "stripe" not in home_csp
    assert "frame-src 'none'" in home_csp


def test_with_stripe_the_page_mounts_stripes_payment_element_without_inline_script(
    patient_client, held, settings, monkeypatch
):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_offline"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_offline"
    monkeypatch.setattr(stripe_gateway, "http_client_factory", lambda: FakeStripeHTTP([(200, intent_json())]))

    page = patient_client.get(f"/pay/{oid(held.pk)}/").content.decode()

    assert 'data-client-secret="pi_3Test_secret_abc"' in page
    assert 'data-publishable-key="pk_test_offline"' in page
    assert f'data-return-url="http://testserver/pay/return/{oid(Payment.objects.get().pk)}/"' in page
    assert '<script src="https://js.stripe.com/v3/" defer></script>' in page
    assert "payments/pay-stripe.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)  # no inline script
    assert "4242" not in page
    assert patient_client.post("/pay/fake/pi_3Test_secret_abc/", {}).status_code == 404


def test_someone_elses_visit_and_payment_are_not_found(client, other_patient, held, patient):
    payment = checkout_start(patient=patient, visit=held)
    client.force_login(other_patient)
    for url in (f"/pay/{oid(held.pk)}/", f"/pay/return/{oid(payment.pk)}/", f"/pay/status/{oid(payment.pk)}/"):
        assert client.get(url).status_code == 404, url
    assert pay(client, payment, fake.SUCCESS_CARD).status_code == 404
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_PAYMENT


def test_the_pages_need_a_login(client, held):
    response = client.get(f"/pay/{oid(held.pk)}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_declined_card_says_so_and_the_patient_can_try_again(patient_client, held):
    patient_client.get(f"/pay/{oid(held.pk)}/")
    payment = Payment.objects.get()

    declined = pay(patient_client, payment, "4000 0000 0000 0002")
    assert declined.status_code == 302
    back = patient_client.get(declined["Location"])
    assert back["Location"] == f"/pay/payment/{oid(payment.pk)}/"  # the same payment, to try again
    page = patient_client.get(back["Location"]).content.decode()
    assert 'role="alert"' in page
    assert "Your card was declined." in page
    assert "Nothing was charged." in page

    paid = pay(patient_client, payment, "4242 4242 4242 4242")
    status_url = patient_client.get(paid["Location"])["Location"]
    assert status_url == f"/pay/status/{oid(payment.pk)}/"
    done = patient_client.get(status_url).content.decode()
    assert "Your visit is booked" in done
    assert "$100.00" in done
    held.refresh_from_db()
    assert held.status == VisitStatus.CONFIRMED


def test_card_form_mistakes_are_shown_beside_the_field_and_the_input_kept(patient_client, held):
    patient_client.get(f"/pay/{oid(held.pk)}/")
    payment = Payment.objects.get()

    response = pay(patient_client, payment, "4242 4242 4242 4242", expiry="13/30", cvc="12")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter the expiry as MM / YY" in page
    assert "Enter the 3 or 4 digits" in page
    assert 'value="4242 4242 4242 4242"' in page or 'value="4242424242424242"' in page

    unknown = pay(patient_client, payment, "1234 5678 9012 3456")
    assert "Your card number is incorrect." in unknown.content.decode()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_PAYMENT


def test_an_expired_hold_says_what_happened(patient_client, held, clock):
    clock.shift(timedelta(minutes=11))
    page = patient_client.get(f"/pay/{oid(held.pk)}/").content.decode()
    assert "We could not hold this time for you any longer." in page
    assert not Payment.objects.exists()


def test_a_paid_visit_goes_to_its_status_page(patient_client, held):
    patient_client.get(f"/pay/{oid(held.pk)}/")
    payment = Payment.objects.get()
    pay(patient_client, payment, fake.SUCCESS_CARD)
    response = patient_client.get(f"/pay/{oid(held.pk)}/")
    assert response["Location"] == f"/pay/status/{oid(payment.pk)}/"


def test_a_processing_payment_page_checks_again_by_itself(patient_client, held):
    patient_client.get(f"/pay/{oid(held.pk)}/")
    payment = Payment.objects.get()
    fake.intent_set(payment.intent_id, status="processing", event_type="payment_intent.processing")
    page = patient_client.get(f"/pay/status/{oid(payment.pk)}/").content.decode()
    assert "Your payment is being processed" in page
    assert '<meta http-equiv="refresh" content="5">' in page


def test_the_dashboard_lists_the_patients_payments_in_three_queries(
    held, patient, other_patient, django_assert_max_num_queries
):
    payment = checkout_start(patient=patient, visit=held)
    fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    services.refund_create(payment=payment, amount_cents=2500, reason="Goodwill", actor=UserFactory(role="manager"))

    with django_assert_max_num_queries(3):
        payments = selectors.payment_list_for_patient(patient=patient)
        [list(p.allocations.all()) + list(p.refunds.all()) for p in payments]
    assert [p.pk for p in payments] == [payment.pk]
    assert selectors.payment_list_for_patient(patient=other_patient) == []

    request = RequestFactory().get("/dashboard/")
    request.user = patient
    with django_assert_max_num_queries(3):  # as the dashboard draws it: nothing more per visit shown
        html = Template('{% include "payments/_dashboard_payments.html" %}').render(Context({"request": request}))
    assert "Payments" in html
    assert '$100.00 <span class="fw-normal small">deposit toward $450.00</span>' in html
    assert "Home visit, Tue Mar 3, 10:00 AM EST" in html
    assert f'reference <span class="text-nowrap">{payment.reference}</span>' in html
    assert "Refund of $25.00: Pending" in html


def test_a_paid_card_never_sees_the_card_form_again_while_our_records_are_busy(patient_client, held, monkeypatch):
    patient_client.get(f"/pay/{oid(held.pk)}/")
    payment = Payment.objects.get()
    fake.DELIVER_EVENTS = False  # Stripe's event is late...
    fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)

    def busy(**kwargs):
        raise TryAgainLater()

    monkeypatch.setattr(services, "payment_sync", busy)  # ...and the row is locked right now
    response = patient_client.get(f"/pay/return/{oid(payment.pk)}/?payment_intent={payment.intent_id}")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Your payment is being processed" in page
    assert f'<meta http-equiv="refresh" content="3;url=/pay/return/{oid(payment.pk)}/?payment_intent=' in page
    assert "Card number" not in page


@pytest.mark.parametrize(
    "language, gateway_says, shown",
    [
        ("es", "Your card was declined.", "Su tarjeta fue rechazada."),
        ("es", "Your card has insufficient funds.", "Su tarjeta no tiene fondos suficientes."),
        ("es", "Your card was declined for making repeated attempts too frequently.", "Su tarjeta fue rechazada."),
        ("en", "Your card has insufficient funds.", "Your card has insufficient funds."),
        ("en", "Your card was declined for making repeated attempts too frequently.", "repeated attempts"),
    ],
)
def test_a_declined_card_is_told_in_the_patients_language(patient_client, patient, held, language, gateway_says, shown):
    # The gateway writes its decline message in English; the record keeps it as it came (for staff).
    patient.language = language
    patient.save(update_fields=["language"])
    payment = checkout_start(patient=patient, visit=held)
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.FAILED, failure_message=gateway_says)

    page = patient_client.get(f"/pay/payment/{oid(payment.pk)}/").content.decode()

    failed = re.search(r'id="payment-failed">(.*?)</div>', page, re.S).group(1)
    assert shown in failed
    if language == "es":
        assert "Your card" not in failed
    assert Payment.objects.get(pk=payment.pk).failure_message == gateway_says
