"""What the patient reads about money, the calendar and changes (issue 18).

The clock is Monday 2 March 2026, 9:00 in New York (booking/tests/world.py).
"""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from icalendar import Calendar

from booking import policy, selectors, services
from booking.forms import start_param
from booking.models import CalendarFeed, CancelledBy, Visit, VisitStatus
from booking.tests.conftest import TUESDAY, WEDNESDAY, ny
from booking.tests.test_views import pay_fake
from patients.models import SafetyAlert, SafetyReason

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def pat(client, cleared):
    client.force_login(cleared)
    return client


@pytest.fixture
def booked(pat, cleared, infusion):
    """Pat's Wednesday 10:00 infusion, paid by card ($100 deposit of $450)."""
    visit = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(WEDNESDAY, 10))
    pay_fake(pat, visit)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CONFIRMED
    return visit


# --- money in plain words: one policy function ---------------------------------------------------


def test_money_words_before_booking_name_today_the_balance_and_the_fee(clock, settings):
    words = policy.money_words(price_cents=45000, due_cents=10000, starts_at=ny(WEDNESDAY, 10))

    assert words.today == "Today: a $100.00 deposit, charged when you book."
    assert words.balance.startswith("The balance, $350.00, is due after your visit")
    assert "Less than 24 hours before: a $50.00 late-cancellation fee is kept." in words.late_fee
    assert words.cancel_now == ""  # nothing booked, nothing to cancel


def test_money_words_for_a_full_price_visit_have_no_balance(clock):
    words = policy.money_words(price_cents=15000, due_cents=15000, paid_cents=15000, starts_at=ny(WEDNESDAY, 10))

    assert words.today == "Paid in full when you booked: $150.00."
    assert words.balance == ""
    assert words.refund_cents == 15000 and words.fee_cents == 0


def test_cancelling_inside_the_fee_window_names_the_fee_and_the_refund(clock, settings):
    settings.PAYMENT_FULL_REFUND_HOURS = 72  # the fee window reaches past the online cut-off
    words = policy.money_words(price_cents=45000, due_cents=10000, paid_cents=10000, starts_at=ny(WEDNESDAY, 10))

    assert (words.refund_cents, words.fee_cents) == (5000, 5000)
    assert "we keep the $50.00 late-cancellation fee and refund $50.00 to your card" in words.cancel_now


def test_the_words_and_the_refund_agree(clock, booked, pat, settings, commit):
    """What the cancel page promises is what the cancellation refunds."""
    settings.PAYMENT_FULL_REFUND_HOURS = 72
    promised = selectors.visit_money_for(visit=booked)
    page = text(pat.get(reverse("booking:cancel", args=[booked.pk])))
    assert str(promised.cancel_now) in page

    with commit():
        response = pat.post(reverse("booking:cancel", args=[booked.pk]), {"reason": ""})
    after = text(pat.get(response["Location"]))
    assert f"We are refunding ${promised.refund_cents // 100}.00 to your card" in after
    visit = Visit.objects.get(pk=booked.pk)
    assert visit.status == VisitStatus.CANCELLED
    assert visit.cancelled_by == CancelledBy.PATIENT


def test_the_review_page_warns_inside_the_change_cutoff(pat, infusion):
    soon = ny(TUESDAY, 8, 30)  # 23.5 hours ahead: bookable (12 h notice), not changeable online (24 h)
    page = text(pat.get(reverse("booking:review", args=[infusion.code]) + "?start=" + start_param(soon)))
    assert "This time is less than 24 hours away." in page
    assert "cannot be moved or cancelled online" in page

    later = text(pat.get(reverse("booking:review", args=[infusion.code]) + "?start=" + start_param(ny(WEDNESDAY, 10))))
    assert "less than 24 hours away" not in later


# --- reschedule: a confirm step that shows old -> new ------------------------------------------------


def test_choosing_a_new_time_asks_first_and_moves_nothing(pat, booked):
    url = reverse("booking:reschedule_times", args=[booked.pk, "2026-03-06"])
    new = ny(WEDNESDAY + timedelta(days=2), 10)

    page = text(pat.get(url + "?start=" + start_param(new)))

    assert "Move your visit?" in page
    assert "Wed, Mar 4, 10:00 AM EST" in page  # from
    assert "Fri, Mar 6, 10:00 AM EST" in page  # to
    assert "Moving your visit costs nothing" in page
    booked.refresh_from_db()
    assert booked.starts_at == ny(WEDNESDAY, 10)  # nothing moved yet


def test_confirming_moves_the_visit_and_says_from_and_to(pat, booked):
    url = reverse("booking:reschedule_times", args=[booked.pk, "2026-03-06"])
    new = ny(WEDNESDAY + timedelta(days=2), 10)

    response = pat.post(url, {"starts_at": start_param(new)})
    again = pat.post(url, {"starts_at": start_param(new)})  # a second tap: same place, one move

    assert response.status_code == 302
    booked.refresh_from_db()
    assert booked.starts_at == new
    page = text(pat.get(response["Location"]))
    assert "Your visit has moved from Wed, Mar 4, 10:00 AM EST to Fri, Mar 6, 10:00 AM EST." in page
    assert again.status_code in (302, 409)
    assert Visit.objects.filter(patient=booked.patient, status=VisitStatus.CONFIRMED).count() == 1


# --- the calendar subscription -------------------------------------------------------------------------


def test_the_feed_lists_the_patients_visits_without_saying_why(client, pat, booked):
    feed = services.calendar_feed_for(patient=booked.patient)
    response = client.get(reverse("booking:calendar_feed", args=[feed.token]))

    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert [str(e["summary"]) for e in events] == ["Home visit"]
    assert str(events[0]["uid"]) == f"visit-{booked.pk}@conciergemd"
    body = response.content.decode().lower()
    assert "ketamine" not in body and "infusion" not in body


def test_a_rescheduled_visit_keeps_its_uid_so_calendars_move_it(client, pat, booked):
    feed = services.calendar_feed_for(patient=booked.patient)
    services.visit_reschedule(visit=booked, starts_at=ny(WEDNESDAY + timedelta(days=2), 10), by=CancelledBy.PATIENT)

    events = list(
        Calendar.from_ical(client.get(reverse("booking:calendar_feed", args=[feed.token])).content).walk("VEVENT")
    )

    assert len(events) == 1
    assert str(events[0]["uid"]) == f"visit-{booked.pk}@conciergemd"
    assert events[0].decoded("dtstart") == ny(WEDNESDAY + timedelta(days=2), 10)


def test_a_new_address_revokes_the_old_one(client, pat, booked):
    old = services.calendar_feed_for(patient=booked.patient).token

    response = pat.post(reverse("booking:calendar_feed_reset"), {"visit": booked.pk})

    assert response.status_code == 302
    new = CalendarFeed.objects.get(patient=booked.patient).token
    assert new != old
    assert client.get(reverse("booking:calendar_feed", args=[old])).status_code == 404
    assert client.get(reverse("booking:calendar_feed", args=[new])).status_code == 200


def test_a_closed_account_s_feed_finds_nothing(client, pat, booked):
    token = services.calendar_feed_for(patient=booked.patient).token
    type(booked.patient).objects.filter(pk=booked.patient.pk).update(is_active=False)

    assert client.get(reverse("booking:calendar_feed", args=[token])).status_code == 404


def test_an_unknown_token_finds_nothing(client, db):
    assert client.get(reverse("booking:calendar_feed", args=["not-a-token"])).status_code == 404


def test_the_visit_page_links_every_calendar(pat, booked):
    page = text(pat.get(reverse("booking:visit", args=[booked.pk])))
    feed = CalendarFeed.objects.get(patient=booked.patient)

    assert "calendar.google.com/calendar/render?action=TEMPLATE" in page
    assert "outlook.live.com/calendar/0/deeplink/compose" in page
    assert reverse("booking:visit_ics", args=[booked.pk]) in page
    assert f"webcal://testserver/calendar/{feed.token}/visits.ics" in page


# --- late visits -----------------------------------------------------------------------------------


def test_a_visit_not_started_after_its_start_is_late(booked):
    assert not policy.visit_is_late(booked, now=booked.starts_at + timedelta(minutes=10))
    assert policy.visit_is_late(booked, now=booked.starts_at + timedelta(minutes=16))
    booked.status = VisitStatus.IN_PROGRESS
    assert not policy.visit_is_late(booked, now=booked.starts_at + timedelta(hours=3))


# --- the reason for cancelling is read like any other words a patient writes to us ---------------


@pytest.mark.parametrize(
    "reason",
    ["I can't do this anymore. I want to end my life.", "Ya no quiero vivir, perdón."],
    ids=["english", "spanish"],
)
def test_a_reason_for_cancelling_that_suggests_danger_shows_988_alerts_the_clinician_and_holds_the_rest(
    clock, booked, pat, cleared, infusion, settings, commit, mailoutbox, reason
):
    settings.ONCALL_CLINICIAN_EMAIL = "oncall@clinic.example"
    later = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(WEDNESDAY + timedelta(days=2), 10))
    pay_fake(pat, later)

    with commit():
        response = pat.post(reverse("booking:cancel", args=[booked.pk]), {"reason": reason})

    assert response["Location"] == reverse("booking:cancel_support", args=[booked.pk])
    page = text(pat.get(response["Location"]))
    assert 'href="tel:988"' in page and 'href="tel:911"' in page and "Your visit is cancelled" in page
    assert page.index('href="tel:988"') < page.index("Your visit is cancelled")  # the panel before anything else
    booked.refresh_from_db()
    assert booked.status == VisitStatus.CANCELLED and booked.cancellation_reason == reason
    alert = SafetyAlert.objects.get()
    assert (alert.patient, alert.cancelled_visit, alert.reason) == (cleared, booked, SafetyReason.CANCELLATION)
    assert alert.matched_words and alert.source_text == reason
    later.refresh_from_db()
    assert later.status == VisitStatus.ON_HOLD  # every other infusion waits for a clinician
    urgent = [m for m in mailoutbox if m.to == ["oncall@clinic.example"]]
    assert len(urgent) == 1 and urgent[0].subject == "Urgent: a patient needs a safety review"
    assert "cancelling" in urgent[0].body and reason not in urgent[0].body


def test_an_everyday_reason_for_cancelling_goes_to_the_visits_with_no_alert(clock, booked, pat, commit):
    with commit():
        response = pat.post(reverse("booking:cancel", args=[booked.pk]), {"reason": "Work is killing me this week"})

    assert response["Location"] == reverse("booking:visits")
    assert not SafetyAlert.objects.exists()
    assert pat.get(reverse("booking:cancel_support", args=[booked.pk]))["Location"] == reverse("booking:visits")
