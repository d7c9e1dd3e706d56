"""Booking pages: who may see what, the flow from service to confirmation, changes, coverage."""

import re
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from booking import services
from booking.forms import parse_start, start_param
from booking.models import Visit, VisitStatus, WaitlistEntry
from booking.tests import factories as f
from booking.tests.conftest import TUESDAY, WEDNESDAY, ny
from concierge.opaque import decode
from concierge.tests.factories import TEST_PASSWORD

S = VisitStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def pat(client, cleared):
    client.force_login(cleared)
    return client


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def days_times(page):
    """{"YYYY-MM-DD": that day's section of the days page} for each day that offers times."""
    return dict(re.findall(r'<section class="day-times" id="times-([\d-]+)"(.*?)</section>', page))


def time_links(html):
    """[(time as shown, where it leads)] of the time buttons in a page or section."""
    return re.findall(r'<a class="[^"]*time-button" href="([^"]+)">([^<]+)</a>', html)


# --- coverage (public) ------------------------------------------------------------------------


def pay_fake(client, visit):
    """Pay on the payment page with the local test gateway's success card, as the patient would."""
    page = client.get(reverse("booking:pay", args=[visit.pk]), follow=True).content.decode()
    action = re.search(r'<form method="post" action="(/pay/fake/[^"]+)"', page).group(1)
    response = client.post(action, {"card_number": "4242 4242 4242 4242", "expiry": "12 / 34", "cvc": "123"})
    assert response.status_code == 302, response.content.decode()[:500]
    client.get(response["Location"])  # the return page confirms (as the webhook would)


def test_coverage_says_yes_with_services_and_base(client, nyc):
    response = client.get(reverse("booking:coverage"), {"zip_code": "10011"})

    page = text(response)
    assert response.status_code == 200
    assert "Good news: we cover New York (10011)." in page
    assert "New York City: our nurses start from New York (10001)." in page
    assert "Home infusion" in page and "Telehealth evaluation" in page


def test_coverage_says_no_and_the_waitlist_keeps_one_entry(client, nyc):
    response = client.get(reverse("booking:coverage"), {"zip_code": "85004"})
    assert "We do not come to 85004 yet." in text(response)
    assert 'name="email"' in text(response)

    for _ in range(2):
        response = client.post(reverse("booking:waitlist"), {"zip_code": "85004", "email": "Ann@Example.com"})
        assert response.status_code == 302
    response = client.get(response["Location"])

    assert "you are on the waitlist" in text(response)
    assert list(WaitlistEntry.objects.values_list("zip_code", "email", "phone")) == [("85004", "ann@example.com", "")]


def test_waitlist_needs_email_or_phone_and_keeps_what_was_typed(client):
    response = client.post(reverse("booking:waitlist"), {"zip_code": "85004", "phone": "12"})

    page = text(response)
    assert response.status_code == 200
    assert "Enter a valid phone number" in page
    assert 'value="12"' in page and 'value="85004"' in page
    response = client.post(reverse("booking:waitlist"), {"zip_code": "85004"})
    assert "Give an email address or a phone number" in text(response)
    response = client.post(reverse("booking:waitlist"), {"zip_code": "85004", "phone": "(602) 555-0100"})
    assert response.status_code == 302
    assert WaitlistEntry.objects.get().phone == "+16025550100"
    assert not WaitlistEntry.objects.filter(zip_code="").exists()


def test_unknown_zip_gets_a_message_beside_the_field(client):
    response = client.get(reverse("booking:coverage"), {"zip_code": "00000"})

    assert "We do not recognise this ZIP code" in text(response)
    assert 'value="00000"' in text(response)


# --- who may book -----------------------------------------------------------------------------


def test_booking_pages_need_a_patient_login(client, nurse, nyc):
    url = reverse("booking:book")
    assert client.get(url)["Location"].startswith(reverse("login"))
    client.force_login(nurse)
    assert client.get(url).status_code == 403


def test_another_patients_visit_is_not_found(client, cleared, cleared_too, infusion):
    visit = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    client.force_login(cleared_too)

    for name in ("booking:visit", "booking:checkout", "booking:visit_ics", "booking:cancel", "booking:reschedule"):
        assert client.get(reverse(name, args=[visit.pk])).status_code == 404, name
    assert client.get(reverse("booking:pay", args=[visit.pk])).status_code == 404
    visit.refresh_from_db()
    assert visit.status == S.HELD


def test_book_page_lists_what_the_patient_may_book(client, clock, patient, nyc):
    f.patient_profile(patient)
    client.force_login(patient)

    page = text(client.get(reverse("booking:book")))

    assert "Infusions can be booked once a clinician has cleared you." in page
    assert reverse("booking:days", args=["evaluation"]) in page
    assert reverse("booking:days", args=["home-infusion"]) not in page
    assert "$450.00" in page and "a $100.00 deposit, charged when you book" in page


# --- the flow ---------------------------------------------------------------------------------


def test_the_whole_flow_from_day_to_confirmation(pat, cleared, infusion, maya):
    days = text(pat.get(reverse("booking:days", args=["home-infusion"])))
    assert "Times are shown in your local time (EST)." in days
    # Tuesday's times are in the days page itself: its cell opens them in place.
    tuesday = days_times(days)[TUESDAY.isoformat()]
    assert 'href="#times-2026-03-03"' in days
    assert "8:30 AM EST" in tuesday and "3:30 PM EST" in tuesday and "4:00 PM EST" not in tuesday
    review_url = reverse("booking:review", args=["home-infusion"]) + "?start=" + start_param(ny(TUESDAY, 10))
    assert f'href="{review_url}"' in tuesday

    review = text(pat.get(review_url))
    for words in (
        "Tuesday, March 3",
        "10:00 AM EST \u2013 12:00 PM EST",  # an en dash between the times
        "350 5th Ave",
        "Robin Example",
        "The visit costs $450.00 in all.",
        "Today: a $100.00 deposit, charged when you book.",
        "The balance, $350.00, is due after your visit",
        "a $50.00 late-cancellation fee is kept",
        "up to 24 hours before your visit",
        "No food for 6 hours before your visit.",
        "Clear liquids only, until 2 hours before your visit.",
        "An adult you trust must be with you",
        "No driving until the next day.",
        "Hold this time for 10 minutes",
    ):
        assert words in review, words

    response = pat.post(reverse("booking:review", args=["home-infusion"]), {"starts_at": start_param(ny(TUESDAY, 10))})
    visit = Visit.objects.get()
    assert response["Location"] == reverse("booking:checkout", args=[visit.pk])
    assert visit.status == S.HELD and visit.provider == maya

    # The hold step hands over to payment; only a successful payment confirms.
    response = pat.get(response["Location"])
    assert response["Location"] == reverse("booking:pay", args=[visit.pk])
    checkout = text(pat.get(response["Location"]))
    assert "We are holding this time for you until 9:10 AM EST." in checkout
    assert "Pay $100.00" in checkout
    visit.refresh_from_db()
    assert visit.status == S.HELD

    pay_fake(pat, visit)
    visit.refresh_from_db()
    assert visit.status == S.CONFIRMED

    confirmation = text(pat.get(reverse("booking:visit", args=[visit.pk]) + "?booked=1"))
    # The confirmation: when with its zone, where, who, how to prepare, money, calendar, changes.
    for words in (
        "Your visit is booked",
        "Tuesday, March 3",
        "10:00 AM EST",
        "350 5th Ave",
        "Your nurse",
        "No food for 6 hours before your visit.",
        "What happens next",
        "Paid when you booked: a $100.00 deposit.",
        "The balance, $350.00, is due",
        "If you cancel now, we refund $100.00, everything you paid",
        "calendar.google.com",
        "outlook.live.com",
        reverse("booking:reschedule", args=[visit.pk]),
        reverse("booking:cancel", args=[visit.pk]),
    ):
        assert words in confirmation, words
    assert reverse("booking:visit_ics", args=[visit.pk]) in confirmation
    ics = pat.get(reverse("booking:visit_ics", args=[visit.pk]))
    assert ics["Content-Type"].startswith("text/calendar")
    body = ics.content.decode()
    assert "SUMMARY:Home visit" in body
    assert "ketamine" not in body.lower() and "infusion" not in body.lower()

    mine = text(pat.get(reverse("booking:visits")))
    assert "Tue, Mar 3, 10:00 AM EST" in mine


def test_losing_the_race_shows_nearest_times_not_an_error(pat, cleared, cleared_too, infusion):
    services.visit_hold(patient=cleared_too, service=infusion, starts_at=ny(TUESDAY, 10))

    response = pat.post(reverse("booking:review", args=["home-infusion"]), {"starts_at": start_param(ny(TUESDAY, 10))})

    page = text(response)
    assert response.status_code == 409
    assert "That time was just taken." in page
    assert "Tue, Mar 3, 12:30 PM EST" in page  # the nearest free time after it


def test_a_time_that_is_no_longer_free_is_said_on_the_review_page(pat, cleared_too, infusion):
    services.visit_hold(patient=cleared_too, service=infusion, starts_at=ny(TUESDAY, 10))

    page = text(pat.get(reverse("booking:review", args=["home-infusion"]) + "?start=" + start_param(ny(TUESDAY, 10))))

    assert "That time is no longer free." in page
    assert "Hold this time" not in page


def test_a_garbled_time_goes_back_to_the_calendar(pat, nyc):
    response = pat.get(reverse("booking:review", args=["home-infusion"]) + "?start=next-tuesday")
    assert response["Location"] == reverse("booking:days", args=["home-infusion"])
    assert pat.get("/book/home-infusion/2026-13-45/").status_code == 404
    for edge in ("0001-01-01", "9999-12-31"):
        assert pat.get(f"/book/home-infusion/{edge}/").status_code == 404
        assert pat.get(reverse("booking:days", args=["home-infusion"]) + f"?from={edge}").status_code == 200
    assert pat.get(reverse("booking:days", args=["home-infusion"]) + "?from=2026-13-45").status_code == 200


def test_a_hold_that_ran_out_before_paying_started_asks_for_a_new_time(pat, cleared, infusion, clock):
    visit = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    clock.shift(timedelta(minutes=20))
    services.visit_holds_expire()

    page = text(pat.get(reverse("booking:checkout", args=[visit.pk]), follow=True))

    assert "Please choose a time again." in page
    visit.refresh_from_db()
    assert visit.status == S.EXPIRED


def test_checkout_never_confirms_without_a_payment(pat, cleared, infusion):
    visit = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))

    assert pat.post(reverse("booking:checkout", args=[visit.pk])).status_code == 405
    assert pat.get(reverse("booking:checkout", args=[visit.pk]))["Location"] == reverse("booking:pay", args=[visit.pk])
    visit.refresh_from_db()
    assert visit.status == S.HELD


# --- changes ----------------------------------------------------------------------------------


def test_the_days_page_holds_each_days_times_as_its_one_day_page_offers_them(pat, cleared, infusion):
    """Two weeks of times come from one request: each day shows what its own page would offer."""
    services.visit_confirm(visit=services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10)))
    days = text(pat.get(reverse("booking:days", args=["home-infusion"])))

    sections = days_times(days)
    free_days = re.findall(r'<a class="day-cell day-free" href="#times-([\d-]+)">', days)
    assert free_days == list(sections) and len(free_days) >= 5
    for day, section in sections.items():
        one_day = text(pat.get(reverse("booking:times", args=["home-infusion", day])))
        assert time_links(section) == time_links(one_day) != [], day
    # The day of the booked infusion and the next (48 hours apart) offer nothing, and say why.
    assert TUESDAY.isoformat() not in sections and "You have an infusion this day." in days
    assert "Too close to your infusion on Tue, Mar 3." in days


def test_moving_a_visit_shows_each_days_times_leading_to_the_move(pat, cleared, infusion):
    visit = services.visit_confirm(
        visit=services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    )
    days = text(pat.get(reverse("booking:reschedule", args=[visit.pk])))

    tuesday = days_times(days)[TUESDAY.isoformat()]
    move_url = reverse("booking:reschedule_times", args=[visit.pk, TUESDAY.isoformat()])
    assert (f"{move_url}?start={start_param(ny(TUESDAY, 10))}", "10:00 AM EST") in time_links(tuesday)
    assert "you confirm the move on the next page" in tuesday
    one_day = text(pat.get(move_url))
    assert time_links(tuesday) == time_links(one_day)


def test_reschedule_and_cancel_pages(pat, cleared, infusion):
    visit = services.visit_confirm(
        visit=services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    )
    detail = text(pat.get(reverse("booking:visit", args=[visit.pk])))
    assert reverse("booking:reschedule", args=[visit.pk]) in detail
    assert reverse("booking:cancel", args=[visit.pk]) in detail

    times_url = reverse("booking:reschedule_times", args=[visit.pk, TUESDAY.isoformat()])
    times = text(pat.get(times_url))
    assert "10:00 AM EST" in times  # its own time counts as free when moving it
    response = pat.post(times_url, {"starts_at": start_param(ny(TUESDAY, 14))})
    assert response["Location"] == reverse("booking:visit", args=[visit.pk])
    visit.refresh_from_db()
    assert visit.starts_at == ny(TUESDAY, 14)

    response = pat.post(reverse("booking:cancel", args=[visit.pk]), {"reason": "Feeling better"})
    assert response["Location"] == reverse("booking:visits")
    visit.refresh_from_db()
    assert (visit.status, visit.cancellation_reason) == (S.CANCELLED, "Feeling better")


def test_inside_the_cut_off_the_pages_show_the_policy_and_phone(pat, cleared, infusion, clock):
    visit = services.visit_confirm(
        visit=services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    )
    clock.move_to(ny(TUESDAY, 10) - timedelta(hours=20))

    detail = text(pat.get(reverse("booking:visit", args=[visit.pk])))
    assert "less than 24 hours away" in detail and "(888) 555-0142" in detail
    assert reverse("booking:cancel", args=[visit.pk]) not in detail
    for name in ("booking:cancel", "booking:reschedule"):
        page = text(pat.get(reverse(name, args=[visit.pk])))
        assert "Please call us to change this visit" in page and "tel:+18885550142" in page
    pat.post(reverse("booking:cancel", args=[visit.pk]))
    visit.refresh_from_db()
    assert visit.status == S.CONFIRMED


# --- series -----------------------------------------------------------------------------------


def test_series_pages_propose_adjust_hold_and_confirm(pat, cleared, infusion):
    page = text(pat.get(reverse("booking:series"), {"first_day": TUESDAY.isoformat(), "part_of_day": ""}))
    assert "6 are left to book." in page
    assert "Tue, Mar 3, 8:30 AM EST" in page and "Thu, Mar 5, 8:30 AM EST" in page
    assert "Hold these 6 times" in page

    change = text(pat.get(reverse("booking:series_change", args=[5])))
    assert "Change infusion 6" in change
    assert "Thursday, March 12" not in change  # less than 48 hours after the fifth (Wed 11, 9:30 AM)
    assert "Friday, March 13" in change and "Monday, March 23" in change  # up to the 21-day window
    assert "Tuesday, March 24" not in change
    friday = ny(TUESDAY + timedelta(days=10), 14)
    response = pat.post(reverse("booking:series_change", args=[5]), {"starts_at": start_param(friday)})
    assert response["Location"].endswith("?keep=1")
    assert "Fri, Mar 13, 2:00 PM EDT" in text(pat.get(response["Location"]))
    # A time that breaks the spacing is refused, and the proposal stays as it was.
    pat.post(reverse("booking:series_change", args=[5]), {"starts_at": start_param(ny(TUESDAY + timedelta(days=9), 9))})
    assert "Fri, Mar 13, 2:00 PM EDT" in text(pat.get(reverse("booking:series") + "?keep=1"))

    response = pat.post(reverse("booking:series"))
    series_pk = decode(response["Location"].rstrip("/").split("/")[-2])
    assert Visit.objects.filter(series_id=series_pk, status=S.HELD).count() == 6
    pay_page = pat.get(response["Location"])
    assert pay_page["Location"] == reverse("booking:pay_series", args=[series_pk])
    assert "Pay $600.00" in text(pat.get(pay_page["Location"]))
    assert Visit.objects.filter(series_id=series_pk, status=S.CONFIRMED).count() == 0

    pay_fake(pat, Visit.objects.filter(series_id=series_pk).first())
    assert Visit.objects.filter(series_id=series_pk, status=S.CONFIRMED).count() == 6


def test_holding_a_series_without_a_proposal_or_with_a_time_just_taken_goes_back_to_choosing(
    pat, cleared_too, infusion
):
    response = pat.post(reverse("booking:series"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("booking:series")
    assert "Please choose your times again." in text(response)

    pat.get(reverse("booking:series"), {"first_day": TUESDAY.isoformat(), "part_of_day": "morning"})
    fourth = pat.session["booking_series_proposal"]["visits"][3][0]
    services.visit_hold(patient=cleared_too, service=infusion, starts_at=parse_start(fourth))
    response = pat.post(reverse("booking:series"))
    assert response["Location"] == reverse("booking:series") + f"?first_day={TUESDAY.isoformat()}&part_of_day=morning"
    assert "One of those times was just taken." in text(pat.get(response["Location"]))
    assert not Visit.objects.filter(series__isnull=False).exists()


def test_the_dashboard_snippet_lists_upcoming_visits(pat, cleared, infusion):
    services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    html = re.sub(r"\s+", " ", render_to_string("booking/_upcoming_visits.html", {"user": cleared}))

    assert "Your visits" in html and "Tue, Mar 3, 10:00 AM EST" in html and "Held" in html


def test_login_with_password_then_book_page(client, cleared, nyc):
    assert client.login(username=cleared.email, password=TEST_PASSWORD)
    assert client.get(reverse("booking:book")).status_code == 200


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_time_grid_words_each_time_as_the_visit_pages_do(language):
    """The grid words a clock time once per language; it must read as visit_time reads it."""
    from types import SimpleNamespace

    from django.utils import translation

    from booking.templatetags.booking_tags import visit_time
    from booking.views.common import time_choices

    starts = [ny(TUESDAY, hour, minute) for hour in range(7, 20) for minute in (0, 30)]
    starts += [ny(TUESDAY + timedelta(days=130), 9)]  # summer: EDT
    with translation.override(language):
        for tz in ("America/New_York", "America/Phoenix", "America/Los_Angeles"):
            slots = [SimpleNamespace(starts_at=s) for s in starts]
            shown = time_choices(slots, time_zone=tz, choose_url="/x/")
            assert [label for label, _ in shown] == [visit_time(s, tz) for s in starts]
            assert [href for _, href in shown] == [f"/x/?start={start_param(s)}" for s in starts]


def test_moving_a_video_evaluation_speaks_of_the_video_not_the_address(pat, cleared, infusion, evaluation, nyc):
    nyc.providers.add(f.clinician_provider())
    video = services.visit_confirm(
        visit=services.visit_hold(patient=cleared, service=evaluation, starts_at=ny(WEDNESDAY, 8))
    )
    home = services.visit_confirm(
        visit=services.visit_hold(patient=cleared, service=infusion, starts_at=ny(WEDNESDAY, 14))
    )

    def confirm_page(visit, hour):
        url = reverse("booking:reschedule_times", args=[visit.pk, WEDNESDAY.isoformat()])
        return text(pat.get(f"{url}?start={start_param(ny(WEDNESDAY, hour))}"))

    video_page = confirm_page(video, 11)
    assert "Still a video visit. We keep the same clinician" in video_page and "Same address" not in video_page
    home_page = confirm_page(home, 14)
    assert "Same address. We keep the same nurse" in home_page and "video" not in home_page


def test_after_moving_house_the_dashboard_asks_to_call_about_visits_booked_at_the_old_address(
    pat, cleared, infusion, evaluation, nyc
):
    from patients import services as patients_services

    nyc.providers.add(f.clinician_provider())
    services.visit_confirm(visit=services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10)))
    services.visit_confirm(visit=services.visit_hold(patient=cleared, service=evaluation, starts_at=ny(WEDNESDAY, 8)))
    notice = "booked at your old address, and the nurse goes where a visit was booked"
    assert notice not in text(pat.get(reverse("portal:dashboard")))
    # The same address, written differently, is not a move.
    patients_services.profile_update(patient=cleared, address_line1="350  5TH AVE")
    assert notice not in text(pat.get(reverse("portal:dashboard")))

    patients_services.profile_update(patient=cleared, address_line1="75 9th Ave", zip_code="10011")
    page = text(pat.get(reverse("portal:dashboard")))

    assert notice in page
    assert "Tue, Mar 3, 10:00 AM EST: 350 5th Ave, 10001" in page
    assert "Wed, Mar 4" not in page.split(notice)[1].split("</div>")[0]  # the video visit has no address
    assert "Please call us to change where:" in page and "tel:+18885550142" in page


def test_a_spanish_patient_reads_every_date_day_first_in_spanish(pat, cleared, infusion):
    """Dates with names are written in the reader's order (concierge/formats): the series' times,
    a day's heading and a form's refusal, not "Tue, Mar 3" or "Friday, March 13" in Spanish."""
    cleared.language = "es"
    cleared.save(update_fields=["language"])
    page = text(pat.get(reverse("booking:series"), {"first_day": TUESDAY.isoformat(), "part_of_day": ""}))
    assert "mar 3 mar, 8:30 AM EST" in page and "jue 5 mar, 8:30 AM EST" in page
    assert "Tue, Mar 3" not in page

    change = text(pat.get(reverse("booking:series_change", args=[5])))
    assert "Viernes 13 de marzo" in change and "Friday, March 13" not in change

    too_early = (TUESDAY - timedelta(days=40)).isoformat()
    refused = text(pat.get(reverse("booking:series"), {"first_day": too_early, "part_of_day": ""}))
    assert re.search(r"elija una fecha a partir del \d{1,2} (feb|mar)\.", refused), refused[-3000:]


def test_spanish_weekdays_are_lower_case_in_a_sentence_and_capitalised_where_a_line_starts(
    pat, cleared, infusion, clock
):
    """Spanish writes weekdays in lower case ("su visita del martes"); Django's catalogue does too,
    and the weekday choices of the forms ("Lunes") have their own context so they no longer
    capitalise every date. A line that starts with a date capitalises it (|capfirst)."""
    cleared.language = "es"
    cleared.save(update_fields=["language"])
    visit = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    pay_fake(pat, visit)

    page = text(pat.get(reverse("booking:visit", args=[visit.pk])))
    assert "<strong>Martes 3 de marzo</strong>" in page

    clock.move_to(ny(TUESDAY, 1))
    pat.force_login(cleared)  # a night later: a new session
    closed = text(pat.get(reverse("booking:cancel", args=[visit.pk])))
    assert "su visita del martes 3 de marzo a las 10:00 AM" in closed, closed[-3000:]
    assert "Martes 3" not in closed

    from django.utils import translation

    from booking.forms import TimeWaitlistForm

    with translation.override("es"):
        choices = str(TimeWaitlistForm()["weekdays"])
    assert "Lunes" in choices and "Domingo" in choices  # a form's choices are not dates in a sentence
