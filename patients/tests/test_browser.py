"""A new patient on a phone signs up, fills in their details, the health questions and the PHQ-9
with item 9 answered "Several days", sees 988 at once, and a clinician sees the alert in admin."""

import re

import pytest
from playwright.sync_api import expect

from concierge.models import User
from concierge.testing import authenticator_for, current_code
from concierge.tests.factories import TEST_PASSWORD
from patients.models import SafetyAlert
from patients.tests.test_signup_and_profile import confirm_link

PASSWORD = "maple-orbit-candle-2026"


@pytest.fixture
def oncall(transactional_db):
    from concierge.tests.factories import UserFactory

    return UserFactory(role="clinician", email="oncall@example.com", first_name="Cleo", last_name="Adeyemi")


def choose(page, question, answer):
    page.get_by_role("group", name=question).get_by_label(answer, exact=True).check()


def save_and_continue(page, axe):
    page.get_by_role("button", name=re.compile("Save and (continue|review)")).click()
    axe(page)


def test_new_patient_on_a_phone_to_the_crisis_panel_and_the_clinician_sees_the_alert(live_server, page, axe, oncall):
    page.goto(live_server.url + "/")
    axe(page)
    page.get_by_role("link", name="Get started: sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your account")
    axe(page)

    # sign-up: a mistake first (under 18), kept input, then right
    page.get_by_label("Email").fill("sam.new@example.com")
    page.get_by_label("Date of birth").fill("2015-01-01")
    page.get_by_label(re.compile(r"^\s*Password\s*\*?\s*$")).fill(PASSWORD)
    page.get_by_label("Type the password again").fill(PASSWORD)
    page.get_by_label("I agree to the terms").check()
    page.get_by_role("button", name="Create my account").click()
    axe(page)
    expect(page.get_by_text("You must be 18 or older to use ConciergeMD")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("sam.new@example.com")
    page.get_by_label("Date of birth").fill("1991-07-30")
    page.get_by_label(re.compile(r"^\s*Password\s*\*?\s*$")).fill(PASSWORD)
    page.get_by_label("Type the password again").fill(PASSWORD)
    page.get_by_label("Text me visit reminders").check()
    page.get_by_role("button", name="Create my account").click()

    # the same answer for every address; the link in the email, then the password again
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    axe(page)
    page.goto(live_server.url + confirm_link("sam.new@example.com"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Finish signing up")
    axe(page)
    page.get_by_label(re.compile(r"^\s*Password\s*\*?\s*$")).fill(PASSWORD)
    page.get_by_role("button", name="Open my account").click()

    # profile
    expect(page.get_by_role("heading", level=1)).to_have_text("Your details")
    axe(page)
    page.get_by_label("Legal first name").fill("Samira")
    page.get_by_label("Legal last name").fill("Novak")
    page.get_by_label("Name you like to be called").fill("Sam")
    page.get_by_label("Date of birth").fill("1991-07-30")
    page.get_by_label("Mobile phone").fill("(212) 555-0199")
    page.get_by_label("Street address").fill("350 W 31st St")
    page.get_by_label("City").fill("New York")
    page.get_by_label("State").select_option("NY")
    page.get_by_label("ZIP code").fill("10001")
    page.get_by_label(re.compile(r"^\s*Weight\s*\*?\s*$")).fill("150")
    page.get_by_label("lb", exact=True).check()
    page.get_by_label("Emergency contact: name").fill("Ana Novak")
    page.get_by_label("Emergency contact: phone").fill("212 555 0123")
    page.get_by_label("Adult who stays with you after each visit: name").fill("Ana Novak")
    page.get_by_label("Their phone").fill("212-555-0123")
    page.get_by_role("button", name="Save my details").click()

    # dashboard: one next step
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Sam")
    axe(page)
    page.get_by_role("link", name="Answer the health questions").click()

    # the intake, part by part
    expect(page.get_by_role("heading", level=1)).to_have_text("Heart, blood pressure and brain")
    axe(page)
    choose(page, "told you that you have high blood pressure", "No")
    for question in ("heart disease", "irregular heartbeat", "a stroke", "a seizure"):
        choose(page, question, "No")
    save_and_continue(page, axe)

    expect(page.get_by_role("heading", level=1)).to_have_text("Mental health and past treatment")
    choose(page, "psychosis", "No")
    choose(page, "bipolar disorder", "No")
    page.get_by_label("How many different medicines").fill("2")
    page.get_by_label("Talking therapy (psychotherapy)").check()
    save_and_continue(page, axe)

    expect(page.get_by_role("heading", level=1)).to_have_text("Alcohol and other substances")
    choose(page, "recreational drugs", "No, never")
    choose(page, "How often do you have a drink", "Monthly or less")
    choose(page, "on a typical day", "1 or 2")
    save_and_continue(page, axe)

    expect(page.get_by_role("heading", level=1)).to_have_text("Pregnancy, liver and past reactions")
    choose(page, "Are you pregnant", "No")
    choose(page, "liver disease", "No")
    choose(page, "Have you had ketamine before", "I have never had ketamine")
    choose(page, "anaesthesia or sedation", "No")
    save_and_continue(page, axe)

    expect(page.get_by_role("heading", level=1)).to_have_text("Medicines and allergies")
    for question in ("benzodiazepine", "opioid", "MAOI", "lamotrigine", "stimulant"):
        choose(page, question, "No")
    page.get_by_label("List every medicine").fill("Sertraline 50 mg daily")
    choose(page, "Do you have any allergies", "No")
    save_and_continue(page, axe)

    expect(page.get_by_role("heading", level=1)).to_have_text("Check and send your answers")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Nothing in your answers stops you booking your evaluation")).to_be_visible()
    axe(page)

    # the PHQ-9, with item 9 answered "Several days"
    page.get_by_role("link", name="Answer the symptom questionnaires").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patient Health Questionnaire (PHQ-9)")
    axe(page)
    for number in range(1, 9):
        page.get_by_role("group", name=re.compile(rf"^{number}\. ")).get_by_label("Several days").check()
    page.get_by_role("group", name=re.compile(r"^9\. Thoughts that you would be better off dead")).get_by_label(
        "Several days"
    ).check()
    page.get_by_role("button", name="Send my answers").click()

    # the very next page: the crisis panel
    expect(page.get_by_role("heading", level=1)).to_have_text("You do not have to go through this alone")
    expect(page.get_by_role("link", name="Call 988")).to_have_attribute("href", "tel:988")
    expect(page.get_by_role("link", name="Text 988")).to_have_attribute("href", "sms:988")
    expect(page.locator("main").get_by_role("link", name="911")).to_have_attribute("href", "tel:911")
    axe(page)
    alert = SafetyAlert.objects.get()
    assert alert.patient.email == "sam.new@example.com"

    page.get_by_role("button", name="Show menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are logged out")
    axe(page)

    # the on-call clinician logs in through /admin/ with the email login and sees the alert
    device = authenticator_for(User.objects.get(email="oncall@example.com"))  # set up on an earlier day
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/admin/")
    axe(page)
    page.get_by_label("Email").fill("oncall@example.com")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # clinicians log in with two steps: the code from their authenticator app
    expect(page).to_have_url(re.compile(r"/accounts/2fa/verify/"))
    axe(page)
    page.get_by_label("Code").fill(current_code(device))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
    axe(page)
    page.get_by_role("link", name="Safety alerts", exact=True).click()
    axe(page)
    row = page.get_by_role("row", name=re.compile("sam.new@example.com"))
    expect(row).to_contain_text("Open")
    row.get_by_role("link", name=f"Safety alert {alert.pk}").click()
    expect(page.get_by_text('Samira Novak ("Sam") (sam.new@example.com)')).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Open this patient's review screen").click()
    expect(page.get_by_role("heading", name="Open safety alert")).to_be_visible()
    axe(page)
