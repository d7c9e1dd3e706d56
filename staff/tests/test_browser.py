"""In the browser on a laptop: a scheduler logs in (two steps), opens today's board, gives a visit to
another nurse who is free, and sees it on that nurse's row.

The clock is Tuesday 3 March 2026, 8:30 in New York (ticking): the 11:00 visit is still ahead.
"""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from booking import services as booking
from booking.checkout import checkout_start
from booking.models import Visit
from booking.tests import factories as bf
from concierge.roles import roles_sync
from concierge.testing import authenticator_for, browser_login
from concierge.tests.factories import TEST_PASSWORD, UserFactory
from payments.gateways import fake

NY = ZoneInfo("America/New_York")
START = datetime(2026, 3, 3, 8, 30, tzinfo=NY).astimezone(UTC)
LAPTOP = {"width": 1280, "height": 900}


@pytest.fixture
def today(transactional_db):
    with time_machine.travel(START, tick=True):
        roles_sync()
        service = bf.ServiceFactory()
        maya = bf.ProviderFactory(user=UserFactory(role="nurse", first_name="Maya", last_name="Chen"))
        priya = bf.ProviderFactory(
            user=UserFactory(role="nurse", first_name="Priya", last_name="Shah"), home_zip="10011"
        )
        bf.ServiceAreaFactory(services=[service], providers=[maya, priya])
        patient = bf.cleared_patient(UserFactory(role="patient", first_name="Pat", email="pat@example.com"))
        starts = datetime(2026, 3, 3, 11, 0, tzinfo=NY).astimezone(UTC)
        # Booked by the patient yesterday (12 hours' notice), through the booking services.
        with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=NY), tick=False):
            visit = booking.visit_confirm(
                visit=booking.visit_hold(patient=patient, service=service, starts_at=starts, provider=maya)
            )
        scheduler = UserFactory(role="staff", email="desk@example.com", first_name="Sky", last_name="Desk")
        authenticator_for(scheduler)
        yield {"visit": visit, "maya": maya, "priya": priya, "scheduler": scheduler}


def test_a_scheduler_reassigns_a_visit_from_todays_board(live_server, page, axe, today):
    page.set_viewport_size(LAPTOP)
    browser_login(page, live_server.url, today["scheduler"], TEST_PASSWORD, axe=axe)

    # Staff land on admin, where today's board is one click away.
    expect(page).to_have_url(re.compile(r"/admin/$"))
    axe(page)
    page.get_by_role("link", name="Today's schedule board").click()

    axe(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Schedule for Tuesday, March 3, 2026")
    maya_row = page.locator(f"section[aria-labelledby='row-{today['maya'].pk}']")
    priya_row = page.locator(f"section[aria-labelledby='row-{today['priya'].pk}']")
    expect(maya_row).to_contain_text("11:00 AM-1:00 PM EST")
    expect(maya_row).to_contain_text("Pat Example")
    expect(priya_row).not_to_contain_text("Pat Example")
    maya_row.get_by_role("link", name="Reassign Pat Example, 11:00 AM-1:00 PM EST").click()

    # Only who is free and licensed is offered: Priya.
    axe(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Reassign a visit")
    expect(page.get_by_role("radio")).to_have_count(1)
    page.get_by_role("radio", name=re.compile("Priya Shah")).check()
    page.get_by_role("button", name="Reassign").click()

    # Back on the board: the visit is on Priya's row now.
    axe(page)
    expect(page.get_by_text("The visit now goes to Priya Shah.")).to_be_visible()
    expect(priya_row).to_contain_text("Pat Example")
    expect(priya_row).to_contain_text("11:00 AM-1:00 PM EST")
    expect(maya_row).not_to_contain_text("Pat Example")
    assert Visit.objects.get(pk=today["visit"].pk).provider == today["priya"]


def test_a_payments_status_is_in_view_on_the_payments_list_at_a_laptops_width(live_server, page, today):
    with time_machine.travel(START, tick=True):
        patient = bf.cleared_patient(
            UserFactory(role="patient", first_name="Alexandra", email="alexandra.morgan-whitfield@example.com")
        )
        held = booking.visit_hold(
            patient=patient, service=today["visit"].service, starts_at=datetime(2026, 3, 4, 10, 0, tzinfo=NY)
        )
        payment = checkout_start(patient=patient, visit=held)
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    page.set_viewport_size(LAPTOP)
    browser_login(page, live_server.url, today["scheduler"], TEST_PASSWORD)

    page.goto(live_server.url + "/admin/payments/payment/")

    # With the navigation open, the list has ~670 px: the status comes before the columns that scroll.
    status = page.locator("#result_list td.field-status").first
    expect(status).to_have_text("Paid")
    shown = page.locator("#changelist .results").bounding_box()
    cell = status.bounding_box()
    assert cell["x"] + cell["width"] <= shown["x"] + shown["width"]
