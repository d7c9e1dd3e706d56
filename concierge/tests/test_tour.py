"""The tour: every role's pages on the demo data, as a person opens them, at phone and desktop width
(admin at a laptop's 1,280 px and a tablet's 820 px).

Each page is checked with axe (serious and critical violations fail; WCAG 2.2 target size on the
patients' and nurses' pages), its console must stay free of errors (the `axe` fixture), and the
admin must fit a 1,280 px screen without scrolling sideways.

With CONCIERGE_SCREENSHOTS=<folder> it also saves a screenshot of each page at each width: that is
how docs/tour/ is refreshed (bin/screenshots).
"""

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.utils.http import urlencode

from booking.forms import start_param
from booking.models import Visit, VisitStatus
from concierge.models import User
from concierge.opaque import encode as oid
from concierge.testing import browser_login
from conftest import DESKTOP, PHONE
from patients.models import ScreeningResponse
from payments.models import Payment

NY = ZoneInfo("America/New_York")
# A Tuesday, 11:30 in New York: Taylor's 9:00 visit is late (not started), Rob's 12:00 is ahead.
NOW = datetime(2026, 3, 3, 11, 30, tzinfo=NY).astimezone(UTC)
TABLET = {"width": 820, "height": 1180}
SHOTS = os.environ.get("CONCIERGE_SCREENSHOTS", "")
# The pages docs/tour.md shows (every page is checked; these are also photographed).
TOUR = {
    "patient-dashboard",
    "patient-confirmation",
    "patient-today",
    "patient-cancel",
    "patient-reschedule-confirm",
    "patient-review-inside-cutoff",
    "patient-receipt",
    "patient-questionnaire",
    "patient-checkin",
    "nurse-today",
    "nurse-visit",
    "admin-home",
    "admin-board",
    "admin-visits",
    "admin-review",
    "outbox",
}
DEMO_PASSWORD = "demo-pass-2026"


@pytest.fixture
def demo(transactional_db):
    with time_machine.travel(NOW, tick=True):
        call_command("seed_demo", verbosity=0)
        yield


def user(email):
    return User.objects.get(email=email)


def shoot(page, name, width_name):
    if not SHOTS or name not in TOUR or width_name not in ("phone", "desktop"):
        return
    folder = Path(SHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    # The whole page, but the outbox (a long list of messages) only as far as the screen shows.
    full_page = name != "outbox"
    # Admin's sticky sidebar lands mid-page in a full-page picture (the picture's "screen" is the
    # whole page); in the browser it sits at the top. Unstick it for the picture (CSSOM: no CSP issue).
    page.evaluate(
        "document.querySelectorAll('.sticky')"
        ".forEach(e => { e.style.position = 'static'; e.style.maxHeight = 'none'; })"
    )
    page.screenshot(path=str(folder / f"{name}-{width_name}.jpg"), full_page=full_page, type="jpeg", quality=70)


def visit_pages(page, axe, base, pages, *, widths, fits=None):
    """Open each (name, path) at each width; axe, console (fixture), fit, screenshot."""
    for width_name, viewport in widths:
        page.set_viewport_size(viewport)
        for name, path in pages:
            response = page.goto(base + path)
            assert response is not None and response.status < 400, f"{path}: {response and response.status}"
            axe(page)
            if fits and width_name in fits:
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{path} at {width_name}: {overflow}px wider than the screen"
            shoot(page, name, width_name)


def test_the_patient_pages(live_server, page, axe, demo):
    alex = user("patient@demo.conciergemd.example")
    visit = Visit.objects.filter(patient=alex, status=VisitStatus.CONFIRMED).order_by("starts_at").first()
    payment = Payment.objects.filter(patient=alex).first()
    browser_login(page, live_server.url, alex, DEMO_PASSWORD, axe=axe)
    axe(page)
    day = visit.starts_at.astimezone(NY).date().isoformat()
    pages = [
        ("patient-dashboard", "/dashboard/"),
        ("patient-visits", "/visits/"),
        ("patient-confirmation", f"/visits/{oid(visit.pk)}/?booked=1"),
        ("patient-cancel", f"/visits/{oid(visit.pk)}/cancel/"),
        ("patient-reschedule", f"/visits/{oid(visit.pk)}/reschedule/"),
        ("patient-book", "/book/"),
        ("patient-days", "/book/home-infusion/"),
        ("patient-receipt", f"/pay/receipt/{oid(payment.pk)}/"),
        ("patient-messages", "/dashboard/messages/"),
        ("patient-questionnaire", "/questionnaires/phq9/"),
    ]
    visit_pages(page, axe, live_server.url, pages, widths=[("phone", PHONE), ("desktop", DESKTOP)], fits=("phone",))

    # The reschedule confirmation (old -> new and the money), from the first free time of the day.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/visits/{oid(visit.pk)}/reschedule/{day}/")
    axe(page)
    times = page.locator(".time-grid a")
    if times.count():
        times.first.click()
        axe(page)
        shoot(page, "patient-reschedule-confirm", "phone")


def test_the_patient_on_the_day(live_server, page, axe, demo):
    """Taylor's visit today: the live status on her visit page, and the review warning inside the cut-off."""
    taylor = user("patient4@demo.conciergemd.example")
    visit = Visit.objects.get(patient=taylor, status=VisitStatus.CONFIRMED)
    browser_login(page, live_server.url, taylor, DEMO_PASSWORD, axe=axe)
    axe(page)
    tomorrow = datetime(2026, 3, 4, 10, 0, tzinfo=NY)
    review = "/book/home-infusion/review/?" + urlencode({"start": start_param(tomorrow)})
    pages = [("patient-today", f"/visits/{oid(visit.pk)}/"), ("patient-review-inside-cutoff", review)]
    visit_pages(page, axe, live_server.url, pages, widths=[("phone", PHONE), ("desktop", DESKTOP)], fits=("phone",))
    page.goto(f"{live_server.url}/visits/{oid(visit.pk)}/")
    axe(page)
    assert page.locator("#live-status").count() == 1


def test_the_check_in_in_parts(live_server, page, axe, demo):
    """The check-in after an infusion, a few questions a screen: answered in the browser, with axe on each."""
    alex = user("patient@demo.conciergemd.example")
    visit = Visit.objects.filter(patient=alex, status=VisitStatus.CONFIRMED).order_by("starts_at").first()
    ends = NOW - timedelta(hours=20)  # as if it had been yesterday's infusion
    shift = visit.ends_at - ends
    Visit.objects.filter(pk=visit.pk).update(
        status=VisitStatus.COMPLETED,
        starts_at=visit.starts_at - shift,
        ends_at=ends,
        blocked_from=visit.blocked_from - shift,
        blocked_until=visit.blocked_until - shift,
    )
    # A questionnaire is due (the demo's last answers, a month older), so the check-in has several parts.
    for response in ScreeningResponse.objects.filter(patient=alex):
        ScreeningResponse.objects.filter(pk=response.pk).update(submitted_at=response.submitted_at - timedelta(days=30))
    browser_login(page, live_server.url, alex, DEMO_PASSWORD, axe=axe)
    axe(page)
    page.goto(f"{live_server.url}/dashboard/check-in/{oid(visit.pk)}/")
    axe(page)
    shoot(page, "patient-checkin", "phone")
    progress = page.locator("label[for=form-progress]")
    total = int(progress.inner_text().split(" of ")[1].split(":")[0])
    page.get_by_label("Good", exact=True).check()
    for part in range(1, total + 1):
        assert progress.inner_text().startswith(f"Part {part} of {total}")
        for group in page.locator("fieldset.item").all():
            options = group.locator("input[type=radio]")
            if options.count() and not group.locator("input:checked").count():
                options.first.check()
        page.get_by_role("button", name="Send my check-in" if part == total else "Next").click()
        page.wait_for_load_state("load")
        axe(page)
    assert "Thank you for checking in" in page.content()


def test_the_nurse_pages(live_server, page, axe, demo):
    maya = user("nurse@demo.conciergemd.example")
    first = Visit.objects.filter(provider__user=maya).order_by("starts_at").first()
    browser_login(page, live_server.url, maya, DEMO_PASSWORD, axe=axe)
    axe(page)
    pages = [
        ("nurse-today", "/nurse/"),
        ("nurse-week", "/nurse/week/"),
        ("nurse-visit", f"/nurse/visits/{oid(first.pk)}/"),
        ("nurse-on-my-way", f"/nurse/visits/{oid(first.pk)}/on-my-way/"),
    ]
    visit_pages(page, axe, live_server.url, pages, widths=[("phone", PHONE), ("desktop", DESKTOP)], fits=("phone",))
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/nurse/")
    axe(page)
    assert page.get_by_text("Late: not started").count() >= 1
    page.goto(f"{live_server.url}/nurse/visits/{oid(first.pk)}/")
    axe(page)
    assert page.locator("a.oncall-call[href^='tel:']").count() >= 1


def test_the_admin_pages(live_server, page, axe, demo):
    admin_user = user("admin@demo.conciergemd.example")
    visit = Visit.objects.filter(status=VisitStatus.CONFIRMED).order_by("starts_at").first()
    payment = Payment.objects.first()
    profile = alex_profile = user("patient@demo.conciergemd.example").patient_profile
    assert alex_profile is profile
    page.set_viewport_size(DESKTOP)
    browser_login(page, live_server.url, admin_user, DEMO_PASSWORD, axe=axe)
    axe(page)
    pages = [
        ("admin-home", "/admin/"),
        ("admin-board", "/admin/booking/visit/board/"),
        ("admin-board-week", "/admin/booking/visit/board/week/"),
        ("admin-visits", "/admin/booking/visit/"),
        ("admin-visit", f"/admin/booking/visit/{visit.pk}/change/"),
        ("admin-queues", "/admin/queues/"),
        ("admin-reports", "/admin/reports/"),
        ("admin-patients", "/admin/patients/patientprofile/"),
        ("admin-patient", f"/admin/patients/patientprofile/{profile.pk}/change/"),
        ("admin-intakes", "/admin/patients/intakeresponse/"),
        ("admin-safety", "/admin/patients/safetyalert/"),
        ("admin-payments", "/admin/payments/payment/"),
        ("admin-payment", f"/admin/payments/payment/{payment.pk}/change/"),
        ("admin-charts", "/admin/nurses/visitchart/"),
        ("admin-users", "/admin/concierge/user/"),
        ("admin-messages", "/admin/notifications/message/"),
        ("admin-providers", "/admin/roster/provider/"),
        ("admin-audit", "/admin/auditlog/logentry/"),
        ("admin-inbox", "/staff/messages/"),
        ("admin-evaluations", "/staff/evaluations/"),
        ("outbox", "/outbox/"),
    ]
    visit_pages(page, axe, live_server.url, pages, widths=[("desktop", DESKTOP), ("tablet", TABLET)], fits=("desktop",))
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/admin/")
    axe(page)
    sections = page.locator("#content-main caption, #content-main .module h2").all_inner_texts()
    assert not [s for s in sections if re.search(r"\b(AXES|OTP_STATIC|OTP_TOTP)\b", s, re.IGNORECASE)], sections


def test_the_clinician_pages(live_server, page, axe, demo):
    """The clinician's review: the queue and the review screen (the summary beside the decision)."""
    clinician = user("clinician@demo.conciergemd.example")
    alex = user("patient@demo.conciergemd.example")
    page.set_viewport_size(DESKTOP)
    browser_login(page, live_server.url, clinician, DEMO_PASSWORD, axe=axe)
    axe(page)
    pages = [
        ("admin-review-queue", "/admin/patients/reviewqueueentry/"),
        ("admin-review", f"/admin/patients/clearance/add/?patient={alex.pk}"),
        ("admin-checkins", "/admin/portal/followupcheckin/"),
        ("admin-clinician-queues", "/admin/queues/"),
    ]
    visit_pages(page, axe, live_server.url, pages, widths=[("desktop", DESKTOP), ("tablet", TABLET)], fits=("desktop",))
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/admin/patients/clearance/add/?patient={alex.pk}")
    axe(page)
    # The decision is reached without scrolling past every intake answer first (they fold away).
    assert page.locator("#id_decision").bounding_box()["y"] < 1600
