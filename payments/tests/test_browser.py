"""The demo patient pays for a held visit on a phone: a declined card, then the success card.

The hold is made through booking's service (the booking pages' "hold" step does exactly this);
the test then follows the page that step will redirect to, `booking:pay` (/pay/<id>/).
"""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from booking import services as booking
from booking.models import Service, Visit, VisitStatus
from booking.testing import first_free_start
from concierge.demo import DEMO_PASSWORD
from concierge.models import User
from concierge.opaque import encode as oid
from payments.gateways import stripe_gateway

from .test_stripe_gateway import FakeStripeHTTP, intent_json


@pytest.fixture
def demo_hold(transactional_db):
    call_command("seed_demo")
    alex = User.objects.get(email="patient@demo.conciergemd.example")
    service = Service.objects.get(code="home-infusion")
    starts_at = first_free_start(patient=alex, service=service, first_day=timezone.localdate() + timedelta(days=20))
    return booking.visit_hold(patient=alex, service=service, starts_at=starts_at)


def fill_card(page, number):
    # Expiry and security code side by side (level) or one above the other, never out of line.
    expiry, cvc = (
        page.get_by_label("Expiry (MM / YY)").bounding_box(),
        page.get_by_label("Security code (CVC)").bounding_box(),
    )
    assert expiry["y"] == cvc["y"] or expiry["x"] == cvc["x"], (expiry, cvc)
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name="Pay $100.00").click()


def test_the_demo_patient_is_declined_then_pays_and_is_booked(live_server, page, axe, demo_hold):
    page.goto(live_server.url + "/accounts/login/")
    axe(page)
    page.get_by_label("Email").fill("patient@demo.conciergemd.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
    axe(page)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(f"{live_server.url}/pay/{oid(demo_hold.pk)}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay to book your visit")
    expect(page.get_by_text("We are holding this time for you until")).to_be_visible()
    expect(page.get_by_text("Home visit")).to_be_visible()
    axe(page)

    fill_card(page, "4000 0000 0000 0002")
    expect(page).to_have_url(re.compile(r"/pay/payment/[0-9a-z]{13}/$"))  # the same payment, to try again
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    expect(page.get_by_role("alert")).to_contain_text("Nothing was charged.")
    axe(page)
    demo_hold.refresh_from_db()
    assert demo_hold.status == VisitStatus.HELD  # still held: the patient can try again

    fill_card(page, "4242 4242 4242 4242")
    expect(page).to_have_url(re.compile(r"/pay/status/[0-9a-z]{13}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your visit is booked")
    expect(page.get_by_text("Thank you. We received $100.00")).to_be_visible()
    axe(page)
    demo_hold.refresh_from_db()
    assert demo_hold.status == VisitStatus.CONFIRMED

    page.goto(live_server.url + "/dashboard/")
    payments = page.get_by_role("region", name="Payments")
    expect(payments).to_contain_text("$100.00")
    axe(page)


def log_in(page, axe, live_server):
    page.goto(live_server.url + "/accounts/login/")
    axe(page)
    page.get_by_label("Email").fill("patient@demo.conciergemd.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
    axe(page)


def test_a_hold_running_out_on_the_page_says_so_and_paying_still_books_a_free_time(live_server, page, axe, demo_hold):
    log_in(page, axe, live_server)
    Visit.objects.filter(pk=demo_hold.pk).update(hold_expires_at=timezone.now() + timedelta(seconds=4))

    page.goto(f"{live_server.url}/pay/{oid(demo_hold.pk)}/")
    axe(page)
    expect(page.get_by_text("Your hold has run out.")).to_be_visible(timeout=10_000)
    axe(page)

    fill_card(page, "4242 4242 4242 4242")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your visit is booked")
    axe(page)
    demo_hold.refresh_from_db()
    assert demo_hold.status == VisitStatus.CONFIRMED


def test_with_stripe_a_card_form_that_cannot_load_says_so(live_server, page, axe, demo_hold, settings, monkeypatch):
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_offline"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_offline"
    monkeypatch.setattr(stripe_gateway, "http_client_factory", lambda: FakeStripeHTTP([(200, intent_json())]))
    page.route("https://js.stripe.com/**", lambda route: route.abort())  # no network here: as if Stripe were down
    axe.expect_console_error("https://js.stripe.com/")  # the refused load is the point of this test
    log_in(page, axe, live_server)

    page.goto(f"{live_server.url}/pay/{oid(demo_hold.pk)}/")
    expect(page.get_by_role("alert")).to_have_text("The card form could not load. Please reload the page, or call us.")
    expect(page.get_by_role("button", name="Pay $100.00")).to_be_disabled()
    axe(page)
