"""In the browser at phone width (390 x 844): the demo nurse works through a visit from her day list.

The clock is Tuesday 3 March 2026, 8:30 in New York (ticking), so the demo day (9:00 and 12:00) is
ahead and texts are inside their allowed hours.
"""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from booking.models import Visit, VisitStatus
from concierge.demo import DEMO_PASSWORD
from concierge.models import User
from concierge.testing import authenticator_for, browser_login
from conftest import DESKTOP, PHONE
from notifications.content import forbidden_words_in, render
from notifications.models import Message
from nurses.models import DoseRecord, VisitChart, VitalsReading
from patients.tests.factories import screening

NY = ZoneInfo("America/New_York")
START = datetime(2026, 3, 3, 8, 30, tzinfo=NY).astimezone(UTC)


@pytest.fixture
def demo_day(transactional_db):
    with time_machine.travel(START, tick=True) as traveller:
        call_command("seed_demo")
        yield traveller


def hhmm(moment):
    return moment.astimezone(NY).strftime("%H:%M")


def test_the_demo_nurse_charts_a_visit_on_a_phone(live_server, page, axe, demo_day, settings):
    # The protocol's half hour of observation passes in one jump of the clock: stay logged in.
    settings.SESSION_IDLE_TIMEOUT_STAFF = 2 * 60 * 60
    maya = User.objects.get(email="nurse@demo.conciergemd.example")
    authenticator_for(maya)  # her phone's authenticator app (nurses must use the second step)
    browser_login(page, live_server.url, maya, DEMO_PASSWORD, axe=axe)

    # Her day, straight after logging in.
    expect(page).to_have_url(re.compile(r"/nurse/$"))
    axe(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Today")
    expect(page.locator("main")).to_contain_text("9:00 AM EST")
    expect(page.locator("main")).to_contain_text("Latex (hives); adhesive tape (rash)")
    expect(page.locator("main")).to_contain_text("68.5 kg · 0.50 mg/kg · 34.3 mg · 40 min")
    page.get_by_role("button", name="On my way to Taylor").click()

    # On my way: the visit page says what the patient was told.
    axe(page)
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"Text sent to Taylor at .*: arriving"))
    page.get_by_role("link", name="Check in", exact=True).click()

    check_in(page, axe)
    vitals_kept_and_checked(page, axe)
    dose_worked_out_and_recorded(page, axe)
    observed_for_half_an_hour(page, axe, demo_day)
    discharged_and_signed(page, axe)
    chart_as_recorded(maya)

    # The signed chart fits the screen, on the phone and on a laptop.
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        page.reload()
        axe(page)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def check_in(page, axe):
    axe(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check in")
    page.get_by_label("The adult who stays is here").check()
    page.get_by_label("The patient followed the preparation").check()
    page.get_by_label("Systolic").fill("132")
    page.get_by_label("Diastolic").fill("84")
    page.get_by_label("Heart rate").fill("76")
    page.get_by_label("SpO2").fill("98")
    page.get_by_label("Resp. rate").fill("14")
    page.get_by_label("Sedation / dissociation").fill("alert, calm")
    page.get_by_role("button", name="Check in").click()

    axe(page)
    expect(page.get_by_role("status")).to_contain_text("Checked in. Baseline vitals recorded.")
    page.get_by_role("link", name="Vitals", exact=True).click()


def vitals_kept_and_checked(page, axe):
    # Vitals: what is typed survives a reload (the phone lost its connection)...
    axe(page)
    page.get_by_label("Systolic").fill("138")
    page.get_by_label("Diastolic").fill("88")
    page.reload()
    axe(page)
    expect(page.get_by_label("Systolic")).to_have_value("138")
    expect(page.get_by_text("We put back what you had typed")).to_be_visible()
    # ... and an impossible value is refused beside its field, with the rest kept.
    page.get_by_label("Heart rate").fill("82")
    page.get_by_label("SpO2").fill("150")
    page.get_by_label("Resp. rate").fill("16")
    page.get_by_role("button", name="Save the reading").click()
    axe(page)
    spo2 = page.get_by_label("SpO2")
    expect(spo2).to_have_class(re.compile("is-invalid"))
    expect(page.locator("main")).to_contain_text("Enter a value between 50 and 100.")
    expect(page.get_by_label("Systolic")).to_have_value("138")
    expect(page.get_by_label("Heart rate")).to_have_value("82")
    assert VitalsReading.objects.count() == 1
    spo2.fill("97")
    page.get_by_role("button", name="Save the reading").click()

    axe(page)
    expect(page.get_by_role("status")).to_contain_text("Vitals recorded.")
    page.get_by_role("link", name="Record the dose").click()


def dose_worked_out_and_recorded(page, axe):
    # The dose: today's weight (lb, as the profile is kept), worked out, confirmed, recorded.
    axe(page)
    page.get_by_label("Weight today").fill("151")
    page.get_by_role("button", name="Work out the dose").click()
    axe(page)
    expect(page.locator("[data-dose-mg]")).to_have_text("34.3 mg")
    now = timezone.now()
    page.get_by_label("I have checked this dose against the plan").check()
    page.get_by_label("Lot number").fill("KT-2231")
    page.get_by_label("Volume (mL)").fill("100")
    # Started the minute she checked in (no earlier: the page refuses that), stopped a minute from now.
    arrived = VisitChart.objects.filter(arrived_at__isnull=False).latest("arrived_at").arrived_at
    page.get_by_label("Infusion started").fill(hhmm(arrived))
    page.get_by_label("Infusion stopped").fill(hhmm(now + timedelta(minutes=1)))
    page.get_by_role("button", name="Record the dose").click()

    # Two minutes of the plan's 40: the protocol asks why (under 80 %), keeping what was typed.
    axe(page)
    expect(page.locator("main")).to_contain_text("say why it was shorter")
    expect(page.get_by_label("Lot number")).to_have_value("KT-2231")
    page.get_by_label("Why was it shorter than planned?").fill("Taylor asked to stop; the clinician was told.")
    page.get_by_role("button", name="Record the dose").click()

    axe(page)
    expect(page.get_by_role("status")).to_contain_text("Dose recorded.")


def observed_for_half_an_hour(page, axe, clock):
    # The discharge waits for the observation period after the stop, with a reading at its end.
    page.get_by_role("link", name="Discharge checklist").click()
    axe(page)
    discharge_checked(page)
    axe(page)
    expect(page.locator("main")).to_contain_text("Observe the patient for 30 minutes")
    clock.shift(timedelta(minutes=31))
    page.goto(page.url.replace("/discharge/", "/vitals/"))
    axe(page)
    page.get_by_label("Systolic").fill("128")
    page.get_by_label("Diastolic").fill("80")
    page.get_by_label("Heart rate").fill("74")
    page.get_by_label("SpO2").fill("98")
    page.get_by_label("Resp. rate").fill("14")
    page.get_by_role("button", name="Save the reading").click()
    axe(page)
    expect(page.get_by_role("status")).to_contain_text("Vitals recorded.")
    page.get_by_role("link", name="Discharge", exact=True).click()


def discharge_checked(page):
    page.get_by_label("Back to their baseline mental status").check()
    page.get_by_label("Vitals back near the baseline").check()
    page.get_by_label("The adult who stays is present").check()
    page.get_by_label("Instructions given").check()
    page.get_by_role("button", name="Save the checklist").click()


def discharged_and_signed(page, axe):
    axe(page)
    discharge_checked(page)

    axe(page)
    page.get_by_role("link", name="Sign the chart").click()
    axe(page)
    page.get_by_label("Type your full name to sign").fill("Maya Chen")
    page.get_by_label("I confirm this chart is complete and correct").check()
    page.get_by_role("button", name="Sign and finish the visit").click()

    axe(page)
    expect(page.get_by_role("status")).to_contain_text("Chart signed. The visit is complete.")
    expect(page.locator("main")).to_contain_text("Signed by Maya Chen")


def chart_as_recorded(maya):
    visit = Visit.objects.get(patient__email="patient4@demo.conciergemd.example", provider__user=maya)
    assert visit.status == VisitStatus.COMPLETED
    chart = VisitChart.objects.get(visit=visit)
    assert chart.is_locked and chart.signed_by == maya and chart.arrived_at is not None
    assert [r.spo2 for r in VitalsReading.objects.filter(chart=chart).order_by("id")] == [98, 97, 98]
    dose = DoseRecord.objects.get(chart=chart)
    assert (dose.weight_entered, dose.weight_unit, dose.weight_kg, dose.dose_mg) == (
        Decimal("151.0"),
        "lb",
        Decimal("68.5"),
        Decimal("34.3"),
    )
    eta = Message.objects.get(visit=visit, template="on_my_way")
    assert forbidden_words_in(render(eta).text) == []


def test_the_nurse_opens_a_held_visit_sees_the_banner_and_cannot_start(live_server, page, axe, demo_day):
    """Taylor answers PHQ-9 item 9 with 2 the morning of her infusion: Maya's phone stops her."""
    taylor = User.objects.get(email="patient4@demo.conciergemd.example")
    visit = Visit.objects.filter(patient=taylor, status=VisitStatus.CONFIRMED).order_by("starts_at").first()
    assert visit is not None
    screening(taylor, "phq9", answers=[0, 0, 0, 0, 0, 0, 0, 0, 2])  # a real commit: booking holds it
    visit.refresh_from_db()
    assert visit.status == VisitStatus.ON_HOLD

    maya = User.objects.get(email="nurse@demo.conciergemd.example")
    authenticator_for(maya)
    browser_login(page, live_server.url, maya, DEMO_PASSWORD, axe=axe)

    # Her day: the red banner on Taylor's visit, and no "On my way" for it.
    axe(page)
    banner = page.locator(".hold-banner").first
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("On hold — clinician review. Do not start this visit.")
    expect(banner.get_by_role("link", name=re.compile("Call the on-call clinician"))).to_have_attribute(
        "href", re.compile(r"^tel:\+")
    )
    expect(page.get_by_role("button", name="On my way to Taylor")).to_have_count(0)

    # The visit page: the banner, no step to start.
    page.goto(live_server.url + reverse("nurses:visit", args=[visit.pk]))
    axe(page)
    expect(page.locator(".hold-banner")).to_contain_text("Do not start this visit")
    expect(page.get_by_role("button", name="On my way")).to_have_count(0)
    expect(page.get_by_role("link", name="Check in", exact=True)).to_have_count(0)

    # Typing the check-in's address: no form, the way back.
    page.goto(live_server.url + reverse("nurses:check_in", args=[visit.pk]))
    axe(page)
    expect(page.locator(".hold-banner")).to_be_visible()
    expect(page.get_by_role("button", name="Check in")).to_have_count(0)
    expect(page.get_by_role("link", name="Back to the visit")).to_be_visible()

    visit.refresh_from_db()
    assert visit.status == VisitStatus.ON_HOLD and not VitalsReading.objects.filter(chart__visit=visit).exists()


def test_a_late_visit_is_flagged_on_the_day_as_on_its_page(live_server, page, axe, demo_day):
    """10:16 and Taylor's 9:00 visit has not started: her card says so, readably, like her page."""
    demo_day.move_to(datetime(2026, 3, 3, 10, 16, tzinfo=NY))
    maya = User.objects.get(email="nurse@demo.conciergemd.example")
    authenticator_for(maya)
    browser_login(page, live_server.url, maya, DEMO_PASSWORD, axe=axe)

    axe(page)  # colour contrast included
    taylor = page.locator(".visit-card").filter(has_text="Taylor")
    badge = taylor.get_by_text("Late: not started")
    expect(badge).to_be_visible()
    text_colour, background = badge.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent", text_colour)
    expect(page.locator(".visit-card").filter(has_text="Rob").get_by_text("Late: not started")).to_have_count(0)

    taylor.get_by_role("link", name="Open the visit").click()
    axe(page)
    expect(page.get_by_role("status").filter(has_text="Late: due at 9:00 AM EST and not started.")).to_be_visible()
