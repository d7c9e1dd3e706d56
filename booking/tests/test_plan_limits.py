"""The plan's limits on every path (issue 14): its number of infusions, the hours between two of
them and its window hold for single bookings, series, reschedules, staff bookings, reassignments
and late payments; the pages offer nothing the guard would refuse and say why a day is refused.

Monday 2 March 2026, 9:00 in New York; Maya works Monday to Saturday, 8:00-18:00.
"""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from booking import safety, services
from booking.errors import NotEligible
from booking.models import CancelledBy, Visit, VisitStatus
from booking.tests import factories as f
from booking.tests.conftest import NOW, TUESDAY, ny
from patients.models import Clearance

S = VisitStatus
pytestmark = pytest.mark.django_db

THURSDAY, SATURDAY = TUESDAY + timedelta(days=2), TUESDAY + timedelta(days=4)
APRIL_2 = date(2026, 4, 2)  # a Thursday, 30 days after the first infusion


@pytest.fixture
def plan_of_two(clock, patient, nyc):
    """Pat, cleared for two infusions at least 48 hours apart, within 21 days."""
    return f.cleared_patient(patient, infusions_planned=2)


def hold(patient, service, starts_at, **kwargs):
    return services.visit_hold(patient=patient, service=service, starts_at=starts_at, **kwargs)


def booked(patient, service, starts_at):
    return services.visit_confirm(visit=hold(patient, service, starts_at))


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_plan_of_two_refuses_a_third_single_booking(plan_of_two, infusion):
    booked(plan_of_two, infusion, ny(TUESDAY, 10))
    booked(plan_of_two, infusion, ny(THURSDAY, 10))

    with pytest.raises(NotEligible, match="All 2 infusions of your treatment plan are booked or done"):
        hold(plan_of_two, infusion, ny(SATURDAY, 10))
    assert Visit.objects.filter(patient=plan_of_two).count() == 2


def test_a_cancelled_infusion_gives_its_place_back(plan_of_two, infusion):
    booked(plan_of_two, infusion, ny(TUESDAY, 10))
    second = booked(plan_of_two, infusion, ny(THURSDAY, 10))
    services.visit_cancel(visit=second, by=CancelledBy.PATIENT, actor=plan_of_two)

    assert hold(plan_of_two, infusion, ny(SATURDAY, 10)).status == S.HELD


def test_the_window_refuses_an_infusion_30_days_after_the_first(cleared, infusion):
    booked(cleared, infusion, ny(TUESDAY, 10))

    with pytest.raises(NotEligible, match=r"within 21 days: choose a day from .* to Mon, Mar 23"):
        hold(cleared, infusion, ny(APRIL_2, 10))
    # The window's last day is still fine.
    assert hold(cleared, infusion, ny(date(2026, 3, 23), 10)).status == S.HELD


def test_spacing_counts_real_hours_and_says_why(cleared, infusion):
    booked(cleared, infusion, ny(TUESDAY, 10))

    with pytest.raises(NotEligible, match="at least 48 hours apart: this is too close to your infusion on Tue, Mar 3"):
        hold(cleared, infusion, ny(THURSDAY, 9, 30))  # 47.5 hours
    assert hold(cleared, infusion, ny(THURSDAY, 10)).status == S.HELD  # exactly 48


def test_a_series_cannot_book_past_the_plan(plan_of_two, infusion):
    booked(plan_of_two, infusion, ny(TUESDAY, 10))

    with pytest.raises(services.SeriesInvalid, match="1 infusions left"):
        services.series_hold(
            patient=plan_of_two, service=infusion, visits=[(ny(THURSDAY, 10), None), (ny(SATURDAY, 10), None)]
        )


def test_a_reschedule_keeps_the_window_and_the_spacing(cleared, infusion):
    booked(cleared, infusion, ny(TUESDAY, 10))
    second = booked(cleared, infusion, ny(THURSDAY, 10))

    with pytest.raises(NotEligible, match="within 21 days"):
        services.visit_reschedule(visit=second, starts_at=ny(APRIL_2, 10), by=CancelledBy.PATIENT, actor=cleared)
    with pytest.raises(NotEligible, match="48 hours apart"):
        services.visit_reschedule(visit=second, starts_at=ny(TUESDAY, 16), by=CancelledBy.STAFF)
    # Moving it within the plan is fine (it does not count against itself).
    moved = services.visit_reschedule(visit=second, starts_at=ny(SATURDAY, 10), by=CancelledBy.PATIENT, actor=cleared)
    assert moved.starts_at == ny(SATURDAY, 10)


def test_staff_booking_for_a_nurse_keeps_the_plan(plan_of_two, infusion, maya):
    booked(plan_of_two, infusion, ny(TUESDAY, 10))
    booked(plan_of_two, infusion, ny(THURSDAY, 10))

    with pytest.raises(NotEligible, match="All 2 infusions"):
        hold(plan_of_two, infusion, ny(SATURDAY, 10), provider=maya)


def test_a_reassignment_of_a_visit_the_plan_refuses_is_refused(plan_of_two, infusion, nyc, maya):
    clearance = Clearance.objects.get(patient=plan_of_two)
    # Three infusions booked before the limits held on every path (written directly).
    visits = [
        f.VisitFactory(patient=plan_of_two, service=infusion, provider=maya, clearance=clearance, starts_at=ny(day, 10))
        for day in (TUESDAY, THURSDAY, SATURDAY)
    ]
    priya = f.ProviderFactory(home_zip="10001")
    nyc.providers.add(priya)

    with pytest.raises(NotEligible, match="All 2 infusions"):
        services.visit_reassign(visit=visits[2], provider=priya)
    assert Visit.objects.get(pk=visits[2].pk).provider == maya
    # The one question says the same for the nurse at the door.
    assert safety.infusion_permission_for(patient=plan_of_two, at=visits[2].starts_at, visit=visits[2]).codes == [
        safety.PLAN_USED_UP
    ]


def test_a_late_payment_for_a_hold_that_ran_out_is_refused_when_the_plan_filled_meanwhile(plan_of_two, infusion, clock):
    booked(plan_of_two, infusion, ny(TUESDAY, 10))
    late = hold(plan_of_two, infusion, ny(THURSDAY, 10))
    clock.shift(timedelta(minutes=11))
    services.visit_holds_expire()
    booked(plan_of_two, infusion, ny(SATURDAY, 10))  # the plan's second infusion, booked meanwhile

    with pytest.raises(NotEligible, match="All 2 infusions"):
        services.visit_confirm(visit=late)
    assert Visit.objects.get(pk=late.pk).status == S.EXPIRED


# --- the pages offer nothing the guard refuses, and say why -------------------------------------------


def day_cell(page, day_label):
    """A day's cell on the days page (text() of it), by its "Mar 3" label."""
    return next(li for li in page.split("<li")[1:] if f'<span class="day-date">{day_label}</span>' in li)


def test_the_days_page_explains_a_day_refused_by_the_spacing(client, cleared, infusion):
    booked(cleared, infusion, ny(TUESDAY, 10))
    client.force_login(cleared)

    page = text(client.get(reverse("booking:days", args=["home-infusion"])))

    assert "You have an infusion this day." in day_cell(page, "Mar 3")
    assert "Too close to your infusion on Tue, Mar 3." in day_cell(page, "Mar 4")
    assert "Too close to your infusion on Tue, Mar 3." in day_cell(page, "Mar 2")  # the day before
    wednesday = text(client.get(reverse("booking:times", args=["home-infusion", "2026-03-04"])))
    assert "Too close to your infusion on Tue, Mar 3." in wednesday
    assert "10:00 AM EST" in text(client.get(reverse("booking:times", args=["home-infusion", "2026-03-05"])))


def test_the_days_page_offers_no_day_outside_the_window(client, cleared, infusion):
    booked(cleared, infusion, ny(TUESDAY, 10))
    client.force_login(cleared)

    page = text(client.get(reverse("booking:days", args=["home-infusion"]) + "?from=2026-03-20"))

    assert 'href="#times-2026-03-23"' in page
    assert "2026-03-24" not in page and "Later dates" not in page  # the window ends on the 23rd
    assert not any(
        s.local_start.date() > date(2026, 3, 23)
        for s in services.booking_context(patient=cleared, service=infusion).slots(
            first_day=date(2026, 3, 20), last_day=date(2026, 3, 30), now=NOW
        )
    )


def test_a_full_plan_offers_no_day_and_says_why(client, plan_of_two, infusion):
    booked(plan_of_two, infusion, ny(TUESDAY, 10))
    booked(plan_of_two, infusion, ny(THURSDAY, 10))
    client.force_login(plan_of_two)

    page = text(client.get(reverse("booking:days", args=["home-infusion"])))

    assert "All 2 infusions of your treatment plan are booked or done." in page
    assert "#times-" not in page and "?start=" not in page
