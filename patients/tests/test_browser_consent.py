"""In the browser, at phone width (issue 15): a cleared patient who has not signed the consent is
sent to sign it from the booking page, signs (legal name + tick), and then books an infusion."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from booking.models import Visit, VisitStatus
from concierge.demo import DEMO_PASSWORD
from patients.models import ConsentSignature

ALEX = "patient@demo.conciergemd.example"


@pytest.fixture
def demo_unsigned(transactional_db):
    call_command("seed_demo")
    ConsentSignature.objects.filter(patient__email=ALEX).delete()  # Alex has not signed yet


def test_a_cleared_patient_signs_the_consent_on_a_phone_then_books(live_server, page, axe, demo_unsigned):
    page.goto(live_server.url + "/accounts/login/")
    axe(page)
    page.get_by_label("Email").fill(ALEX)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
    axe(page)

    page.goto(live_server.url + "/book/")
    axe(page)
    expect(page.get_by_role("status").first).to_contain_text("Please read and sign the consent form")
    expect(page.get_by_role("link", name="Book one infusion")).to_have_count(0)
    page.get_by_role("link", name="Read and sign the consent form").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Consent to ketamine infusions at home")
    axe(page)
    expect(page.locator("main")).to_contain_text("off-label")
    page.get_by_label("Type your full legal name to sign").fill("Alex Morgan")
    page.get_by_label(re.compile("I have read this consent form")).check()
    page.get_by_role("button", name="Sign the consent form").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Book a visit")
    axe(page)
    signature = ConsentSignature.objects.get(patient__email=ALEX)
    assert signature.typed_name == "Alex Morgan" and signature.ip_address == "127.0.0.1"
    page.get_by_role("link", name="Book one infusion").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a day")
    axe(page)
    page.locator("a.day-free").first.click()
    axe(page)
    page.locator("a.time-button").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your visit")
    axe(page)
    page.get_by_role("button", name=re.compile("Hold this time")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Pay to book your visit")
    axe(page)
    visit = Visit.objects.filter(patient__email=ALEX).latest("created_at")
    assert visit.status == VisitStatus.HELD
