"""Races over real HTTP (the live server, each request in its own thread and connection): one
winner, a clear page for the loser, never a 500, and the database as one booking would leave it."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from booking import services
from booking.forms import start_param
from booking.models import Series, Visit, VisitStatus
from booking.tests.conftest import TUESDAY, WEDNESDAY, ny
from concierge.testing import HttpBrowser, http_race, page_text
from notifications.models import Message
from payments.gateways import fake
from payments.models import Payment, PaymentStatus, Refund

S = VisitStatus
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def review_url(service):
    return reverse("booking:review", args=[service.code])


def shown(responses):
    return [(r.status_code, r.url, page_text(r)[:400]) for r in responses]


def no_errors(responses):
    assert all(r.status_code < 500 for r in responses), shown(responses)


def pay(browser, visit, *, deliver=True, follow=True):
    """Pay the hold with the test card on the payment page, as the patient would; the page it ends on
    (with `follow=False`, the card page's answer: the way back to the return page)."""
    page = browser.get(reverse("booking:pay", args=[visit.pk]))
    action = re.search(r'<form method="post" action="(/pay/fake/[^"]+)"', page.text).group(1)
    fake.DELIVER_EVENTS = deliver
    try:
        card = {"card_number": "4242 4242 4242 4242", "expiry": "12 / 34", "cvc": "123"}
        return browser.post(action, card, allow_redirects=follow)
    finally:
        fake.DELIVER_EVENTS = True


@pytest.fixture
def pat(live_server, cleared):
    return HttpBrowser(live_server.url, cleared)


@pytest.fixture
def olive(live_server, cleared_too):
    return HttpBrowser(live_server.url, cleared_too)


@pytest.fixture
def booked(pat, cleared, infusion):
    """Pat's visit on Tuesday at 10:00, paid ($100.00 deposit) and confirmed."""
    visit = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    pay(pat, visit)
    visit.refresh_from_db()
    assert visit.status == S.CONFIRMED
    return visit


# --- booking a time ---------------------------------------------------------------------------


def test_two_patients_posting_the_same_time_get_one_visit_and_a_just_taken_page(pat, olive, infusion):
    starts_at = ny(TUESDAY, 10)

    responses = http_race(
        *[lambda b=b: b.post(review_url(infusion), {"starts_at": start_param(starts_at)}) for b in (pat, olive)]
    )

    assert sorted(r.status_code for r in responses) == [200, 409], shown(responses)
    assert Visit.objects.filter(status=S.HELD).count() == 1
    loser = next(r for r in responses if r.status_code == 409)
    assert "That time was just taken. Please choose another time." in page_text(loser)


def test_one_patient_sending_the_booking_form_twice_at_once_holds_once_and_both_tabs_pay_for_it(pat, cleared, infusion):
    starts_at = ny(TUESDAY, 10)

    responses = http_race(
        *[
            lambda t=t: t.post(review_url(infusion), {"starts_at": start_param(starts_at)})
            for t in (pat.tab(), pat.tab())
        ]
    )

    visit = Visit.objects.get(patient=cleared)
    assert visit.status == S.HELD and visit.starts_at == starts_at
    # Not "That time was just taken" about the patient's own hold: both tabs are on its payment page.
    assert [r.status_code for r in responses] == [200, 200], shown(responses)
    assert all(r.url.endswith(reverse("booking:pay", args=[visit.pk])) for r in responses), shown(responses)
    assert all("Pay to book your visit" in page_text(r) for r in responses)
    assert Payment.objects.count() == 1


def series_proposed(browser, first_day=TUESDAY):
    """The series page's proposal from that day, kept in the browser's session (six infusions)."""
    page = browser.get(reverse("booking:series") + f"?first_day={first_day.isoformat()}&part_of_day=")
    assert "Hold these 6 times" in page_text(page), page_text(page)[:500]


def test_a_series_racing_another_patient_for_its_first_time_is_all_or_nothing(pat, olive, cleared, infusion):
    series_proposed(pat)  # Tue Mar 3 8:30 AM first, then every other day
    first = ny(TUESDAY, 8, 30)

    responses = http_race(
        lambda: pat.post(reverse("booking:series")),
        lambda: olive.post(review_url(infusion), {"starts_at": start_param(first)}),
    )

    no_errors(responses)
    series_response, single = responses
    if Series.objects.exists():  # the series won: all six held, Olive told the time was taken
        assert Visit.objects.filter(patient=cleared, status=S.HELD).count() == 6
        assert single.status_code == 409 and "That time was just taken." in page_text(single)
    else:  # Olive won: nothing of the series held, Pat told and offered new times
        assert not Visit.objects.filter(patient=cleared).exists()
        assert "One of those times was just taken. Here are new suggestions." in page_text(series_response)
    assert Visit.objects.filter(starts_at=first, status=S.HELD).count() == 1


def test_one_patient_holding_a_series_from_two_tabs_at_once_gets_one_series(pat, cleared):
    series_proposed(pat)

    responses = http_race(*[lambda t=t: t.post(reverse("booking:series")) for t in (pat.tab(), pat.tab())])

    series = Series.objects.get()
    assert Visit.objects.filter(patient=cleared, series=series, status=S.HELD).count() == 6
    assert not Visit.objects.exclude(series=series).exists()
    # Not "One of those times was just taken" about the patient's own series: both tabs go to pay for it.
    assert [r.status_code for r in responses] == [200, 200], shown(responses)
    assert all(r.url.endswith(reverse("booking:pay_series", args=[series.pk])) for r in responses), shown(responses)
    assert Payment.objects.count() == 1


# --- changing a booked visit -------------------------------------------------------------------


def test_reschedule_and_cancel_of_one_visit_at_once(pat, booked):
    new = ny(WEDNESDAY, 10)
    move = reverse("booking:reschedule_times", args=[booked.pk, WEDNESDAY.isoformat()])

    responses = http_race(
        lambda: pat.tab().post(move, {"starts_at": start_param(new)}),
        lambda: pat.tab().post(reverse("booking:cancel", args=[booked.pk]), {"reason": ""}),
    )

    no_errors(responses)
    booked.refresh_from_db()
    assert booked.status == S.CANCELLED
    assert Refund.objects.get().amount_cents == 10000
    assert not Visit.objects.filter(status__in=[S.HELD, S.CONFIRMED]).exists()
    moved, cancelled = responses
    assert "Your visit is cancelled. We are refunding $100.00" in page_text(cancelled)
    # The cancel came first: the move is refused in words, or (read after it) the cancelled visit's page.
    # Never "Call us to change this visit" about a visit that is already cancelled.
    if moved.status_code == 409:
        assert "That is no longer possible: the record has changed." in page_text(moved), page_text(moved)[:900]
    elif "Your visit has moved" not in page_text(moved):
        assert moved.url.endswith(reverse("booking:visit", args=[booked.pk])), shown([moved])
        assert "Cancelled" in page_text(moved) and "Call us to change" not in page_text(moved)


def test_two_cancels_at_once_refund_once(pat, booked):
    responses = http_race(
        *[
            lambda t=t: t.post(reverse("booking:cancel", args=[booked.pk]), {"reason": ""})
            for t in (pat.tab(), pat.tab())
        ]
    )

    assert [r.status_code for r in responses] == [200, 200], shown(responses)
    assert all("Your visit is cancelled. We are refunding $100.00" in page_text(r) for r in responses)
    booked.refresh_from_db()
    assert booked.status == S.CANCELLED
    refund = Refund.objects.get()
    assert refund.amount_cents == 10000
    assert Payment.objects.get().status == PaymentStatus.REFUNDED
    assert Message.objects.filter(visit=booked, template="cancelled", channel="email").count() <= 1


def test_cancel_while_the_return_page_confirms_the_payment(pat, cleared, infusion):
    visit = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    card_check = pay(pat, visit, deliver=False, follow=False)  # the card passed; no webhook yet
    assert "/pay/return/" in card_check.headers["Location"]

    responses = http_race(
        lambda: pat.tab().get(card_check.headers["Location"]),
        lambda: pat.tab().post(reverse("booking:cancel", args=[visit.pk]), {"reason": ""}),
    )

    assert [r.status_code for r in responses] == [200, 200], shown(responses)
    visit.refresh_from_db()
    payment = Payment.objects.get()
    assert visit.status == S.CANCELLED
    assert payment.status == PaymentStatus.REFUNDED
    assert Refund.objects.get().amount_cents == 10000  # once, whichever came first
    assert len([m for m in mail.outbox if "receipt" in m.subject.lower()]) <= 1
    assert "Your visit is cancelled. We are refunding $100.00" in page_text(responses[1])
