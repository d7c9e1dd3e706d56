"""In the browser, at phone width: the cleared demo patient books and pays for an infusion (declined card, then
the success card) and sees it on the dashboard; a visitor checks coverage; a visit on hold after a danger sign
shows the crisis panel as it should look."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from booking.models import Visit, VisitStatus
from concierge.demo import DEMO_PASSWORD
from concierge.models import User
from concierge.opaque import encode as oid
from concierge.testing import browser_login
from patients.tests.factories import screening


def pay_with_card(page, number):
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name="Pay $100.00").click()
    page.wait_for_load_state("load")


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo")


def test_the_cleared_demo_patient_books_an_infusion_on_a_phone_and_sees_it_on_the_dashboard(
    live_server, page, axe, demo
):
    page.goto(live_server.url + "/accounts/login/")
    axe(page)
    page.get_by_label("Email").fill("patient@demo.conciergemd.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
    axe(page)

    page.goto(live_server.url + "/book/")
    axe(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a visit")
    page.get_by_role("link", name="Book one infusion").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a day")
    axe(page)
    expect(page.locator("a.time-button").first).to_be_hidden()  # no day open yet
    loads = []
    page.on("request", lambda request: loads.append(request.url) if request.is_navigation_request() else None)
    page.locator("a.day-free").first.click()

    # The day's times open in the page: no page load, and only that day's times show.
    opened = page.locator("section.day-times:target")
    expect(opened).to_be_visible()
    assert loads == [] and re.search(r"#times-\d{4}-\d{2}-\d{2}$", page.url), (loads, page.url)
    assert page.locator("a.time-button:visible").count() == opened.locator("a.time-button").count() > 0
    expect(page.locator("a.day-free").first).to_have_attribute("aria-current", "date")  # the open day
    axe(page)
    first_time = opened.locator("a.time-button").first
    time_text = first_time.inner_text()
    assert re.fullmatch(r"\d{1,2}:\d{2} [AP]M E[SD]T", time_text), time_text
    day_heading = opened.get_by_role("heading", level=2).inner_text()  # e.g. "Monday, December 7"
    first_time.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Review your visit")
    axe(page)
    expect(page.locator("main")).to_contain_text(time_text)
    expect(page.locator("main")).to_contain_text("No food for 6 hours before your visit.")
    expect(page.locator("main")).to_contain_text("$100.00 deposit")
    page.get_by_role("button", name=re.compile("Hold this time")).click()

    # The hold step leads straight to payment (the local test gateway; Stripe's form in production).
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay to book your visit")
    expect(page.get_by_text("We are holding this time for you until")).to_be_visible()
    axe(page)
    visit = Visit.objects.filter(patient__email="patient@demo.conciergemd.example").latest("created_at")
    assert visit.status == VisitStatus.HELD

    pay_with_card(page, "4000 0000 0000 0002")  # the decline card
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    axe(page)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.HELD  # still held: try again while the hold lasts

    pay_with_card(page, "4242 4242 4242 4242")  # the success card
    expect(page.get_by_role("heading", level=1)).to_have_text("Your visit is booked")
    axe(page)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CONFIRMED

    page.goto(live_server.url + "/dashboard/")
    axe(page)
    visits = page.get_by_role("region", name="Your visits")
    short_day = re.sub(r"^(\w{3})\w*, (\w{3})\w* (\d+)$", r"\1, \2 \3", day_heading)  # "Mon, Dec 7"
    expect(visits).to_contain_text(f"{short_day}, {time_text}")
    # Its status shows as on the visits page: white on green, not white on the white card.
    expect(visits.locator(".badge.status-confirmed").first).to_have_css("background-color", "rgb(20, 108, 67)")


def test_a_visitor_checks_coverage_and_joins_the_waitlist_on_a_phone(live_server, page, axe, demo):
    page.goto(live_server.url + "/")
    axe(page)
    page.get_by_role("link", name="Check coverage").first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Do we come to you?")
    axe(page)
    page.get_by_label("ZIP code").fill("85012")
    page.get_by_role("button", name="Check my ZIP code").click()
    expect(page.get_by_role("status")).to_contain_text("Good news: we cover Phoenix (85012).")
    expect(page.get_by_role("status")).to_contain_text("our nurses start from Phoenix (85004)")
    axe(page)

    page.get_by_label("ZIP code").fill("60601")
    page.get_by_role("button", name="Check my ZIP code").click()
    expect(page.get_by_role("status")).to_contain_text("We do not come to 60601 yet.")
    axe(page)
    page.get_by_role("button", name="Tell me when you come").click()
    expect(page.locator("#id_email").locator("xpath=..")).to_contain_text("Give an email address or a phone number")
    axe(page)
    page.get_by_label("Email").fill("chicago@example.com")
    page.get_by_role("button", name="Tell me when you come").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: you are on the waitlist")
    axe(page)


def test_a_visit_on_hold_after_a_danger_sign_shows_the_crisis_panel_styled_on_the_visit_page(
    live_server, page, axe, demo
):
    """The crisis panel is patients' template, shown on booking's visit page too: its call
    buttons must look like buttons there (their styles are the site's, not one app's)."""
    patient = User.objects.get(email="patient@demo.conciergemd.example")
    screening(patient, "phq9", answers=[1, 1, 1, 1, 1, 1, 1, 1, 2])  # item 9: a danger sign
    held = Visit.objects.filter(patient=patient, status=VisitStatus.ON_HOLD).order_by("starts_at").first()
    assert held is not None

    browser_login(page, live_server.url, patient, DEMO_PASSWORD, axe=axe)
    axe(page)
    for path in (f"/visits/{oid(held.pk)}/", "/dashboard/"):
        page.goto(live_server.url + path)
        axe(page)
        call = page.get_by_role("link", name="Call 988: thoughts of harming yourself")
        expect(call).to_have_css("background-color", "rgb(11, 90, 122)")  # white on the panel's blue
        expect(page.locator(".crisis-panel")).to_have_css("background-color", "rgb(242, 247, 251)")
