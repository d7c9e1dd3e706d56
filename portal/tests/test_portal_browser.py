"""In the browser at phone width: the demo patient writes to the care team, the demo clinician answers on
the staff inbox page, the patient reads the answer, and the notice in the outbox says nothing clinical."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from concierge.demo import DEMO_PASSWORD
from concierge.models import User
from concierge.testing import authenticator_for, browser_login
from notifications import content
from notifications.models import Message
from portal.models import MessageThread

QUESTION = "Since my last infusion my blood pressure reads 150/95 in the evenings. Should I still come on Friday?"
ANSWER = "Thanks Alex. Please take a reading before Friday's visit; below 160/100 we go ahead. I will call you today."


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo")


def test_the_demo_patient_asks_on_a_phone_the_clinician_answers_and_the_notice_holds_nothing_clinical(
    live_server, page, axe, demo
):
    alex = User.objects.get(email="patient@demo.conciergemd.example")
    dana = User.objects.get(email="clinician@demo.conciergemd.example")

    # The patient writes from the dashboard.
    browser_login(page, live_server.url, alex, DEMO_PASSWORD, axe=axe)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alex")
    axe(page)
    page.get_by_role("link", name="Write to your care team").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write to your care team")
    axe(page)
    page.get_by_label("My health or treatment").check()
    page.get_by_label("Subject").fill("Blood pressure before Friday")
    page.get_by_label("Your message").fill(QUESTION)
    page.get_by_role("button", name="Send my message").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Blood pressure before Friday")
    axe(page)
    expect(page.get_by_text("Your message is sent.")).to_be_visible()
    expect(page.locator(".message-list")).to_contain_text(QUESTION)
    thread = MessageThread.objects.get(patient=alex, subject="Blood pressure before Friday")
    assert thread.waiting_since is not None and not thread.urgent

    # The clinician answers on the staff inbox page (two-step login, with the app on their phone).
    authenticator_for(dana)
    page.context.clear_cookies()
    browser_login(page, live_server.url, dana, DEMO_PASSWORD, axe=axe, next_path="/staff/messages/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Patient messages")
    axe(page)
    page.get_by_role("link", name="Blood pressure before Friday").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Blood pressure before Friday")
    axe(page)
    expect(page.locator(".message-list")).to_contain_text(QUESTION)
    page.get_by_label("Your reply").fill(ANSWER)
    page.get_by_role("button", name="Send the answer").click()
    expect(page.get_by_text("Your answer is sent.")).to_be_visible()
    axe(page)
    thread.refresh_from_db()
    assert thread.waiting_since is None and thread.answered_by == dana

    # The notice to the patient: "You have a new message" and a login link, nothing clinical.
    notice = Message.objects.filter(recipient=alex, template="portal_message").latest("created_at")
    rendered = content.render(notice)
    for text in (rendered.subject, rendered.text, notice.subject, notice.body, str(notice.context)):
        assert content.forbidden_words_in(text) == []
        assert "160/100" not in text and "blood pressure" not in text.lower() and "Friday" not in text
    assert "you have a new message from ConciergeMD" in rendered.text.lower().replace("conciergemd", "ConciergeMD")
    staff_notice = Message.objects.filter(template="staff_alert", unique_key__contains="thread-message").latest(
        "created_at"
    )
    assert "150/95" not in str(staff_notice.context) and "Blood pressure" not in str(staff_notice.context)

    # The patient logs in again and reads the answer.
    page.context.clear_cookies()
    browser_login(page, live_server.url, alex, DEMO_PASSWORD, axe=axe)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alex")
    axe(page)
    expect(page.get_by_role("status").filter(has_text="new answers from your care team")).to_be_visible()
    page.get_by_role("link", name="Blood pressure before Friday").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Blood pressure before Friday")
    axe(page)
    expect(page.locator(".message-list")).to_contain_text(ANSWER)
    expect(page.locator(".message-list")).to_contain_text("Dana, care team")
