"""The first browser test: a patient on a phone logs in from the home page and logs out."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from concierge.demo import DEMO_PASSWORD


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo")


def test_patient_logs_in_and_out_on_a_phone(live_server, page, axe, demo):
    page.goto(live_server.url + "/")
    axe(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("certified nurse")

    page.get_by_role("button", name="Show menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    axe(page)

    page.get_by_label("Email").fill("patient@demo.conciergemd.example")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    expect(page.get_by_label("Email")).to_have_value("patient@demo.conciergemd.example")
    axe(page)

    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello, Alex")
    axe(page)

    page.get_by_role("button", name="Show menu").click()
    log_out = page.get_by_role("button", name="Log out")
    expect(log_out).to_be_visible()  # the menu has finished opening
    with page.expect_navigation():
        log_out.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are logged out")
    axe(page)
    page.goto(live_server.url + "/me/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/me/$"))
    axe(page)
