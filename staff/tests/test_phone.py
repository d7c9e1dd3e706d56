"""Booking by phone (issue 19): a scheduler books, moves and cancels for the patient on the line,
through booking's guard; the patient pays a link sent by text and email; what the patient would be
refused online is refused here, with the reason; the audit trail says who booked for whom."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from booking import services as booking
from booking.checkout import checkout_start
from booking.errors import HoldExpired
from booking.models import BookingOrigin, CancelledBy, Series, Visit, VisitStatus
from booking.tests import factories as bf
from concierge import audit
from concierge.errors import NotAllowed
from concierge.tests.factories import UserFactory
from notifications.models import Channel, Message
from patients.models import PatientProfile
from payments.gateways import fake
from payments.models import Refund
from staff import board

from .conftest import NOW, TUESDAY, book, ny, pay

pytestmark = pytest.mark.django_db

PHONE_URL = reverse("admin:booking_visit_phone")
WEDNESDAY = TUESDAY + timedelta(days=1)


def hold_post(client, patient, service, starts_at):
    return client.post(
        PHONE_URL + f"?patient={patient.pk}",
        {"patient": patient.pk, "service": service.code, "starts_at": starts_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
    )


def payment_links(visit):
    return Message.objects.filter(template="payment_link", visit=visit, recipient=visit.patient)


# --- finding the patient and the free times ---------------------------------------------------------


def test_the_scheduler_finds_the_caller_and_sees_the_same_free_times_as_online(
    clock, scheduler_client, cleared, infusion
):
    found = scheduler_client.get(PHONE_URL, {"q": "555-0123"}).content.decode()
    assert f"?patient={cleared.pk}" in found and "pat@example.com" in found

    page = scheduler_client.get(PHONE_URL, {"patient": cleared.pk, "service": infusion.code}).content.decode()
    assert "days with free times" in page
    times = scheduler_client.get(
        PHONE_URL, {"patient": cleared.pk, "service": infusion.code, "day": TUESDAY.isoformat()}
    ).content.decode()
    online = booking.booking_context(patient=cleared, service=infusion).slots(first_day=TUESDAY, last_day=TUESDAY)
    assert online
    for slot in online:
        assert slot.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ") in times
    assert times.count('name="starts_at"') == len(online)
    assert "Never take card numbers on the phone" in times


# --- holding and the payment link ---------------------------------------------------------------------


def test_a_phone_hold_lasts_longer_records_who_booked_and_sends_the_payment_link(
    clock, scheduler_client, scheduler, cleared, infusion, settings
):
    response = hold_post(scheduler_client, cleared, infusion, ny(TUESDAY, 10))

    visit = Visit.objects.get(patient=cleared)
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:booking_visit_change", args=[visit.pk]
    )
    assert visit.status == VisitStatus.HELD
    assert visit.origin == BookingOrigin.PHONE and visit.booked_by == scheduler
    assert (
        visit.hold_expires_at
        == NOW + timedelta(minutes=settings.BOOKING_PHONE_HOLD_MINUTES)
        == NOW + timedelta(minutes=30)
    )
    links = payment_links(visit)
    assert sorted(links.values_list("channel", flat=True)) == [Channel.EMAIL, Channel.SMS]
    assert all(m.context["pay_url"].endswith(reverse("booking:pay", args=[visit.pk])) for m in links)
    assert all(m.context["amount"] == "$100.00" for m in links)
    # The audit trail: the visit was created by the scheduler, for the patient, booked by the scheduler.
    entry = audit.log_entries_for(visit).last()
    assert entry.actor == scheduler and entry.action == entry.Action.CREATE
    assert "booked_by" in entry.changes_dict and entry.changes_dict["patient"][1] == str(cleared.pk)


def test_posting_the_same_hold_twice_holds_one_time(clock, scheduler_client, cleared, infusion):
    hold_post(scheduler_client, cleared, infusion, ny(TUESDAY, 10))
    again = hold_post(scheduler_client, cleared, infusion, ny(TUESDAY, 10))

    # The plan's spacing is asked first (booking/safety.py): the time held a moment ago is an
    # infusion of the plan too close to this one.
    assert again.status_code == 200 and "48 hours apart" in again.content.decode()
    assert Visit.objects.filter(patient=cleared).count() == 1
    assert Message.objects.filter(template="payment_link").count() == 2  # one text, one email


def test_paying_the_link_confirms_the_visit_exactly_as_online(clock, scheduler_client, cleared, infusion, commit):
    from concierge.testing import VerifiedClient

    hold_post(scheduler_client, cleared, infusion, ny(TUESDAY, 10))
    visit = Visit.objects.get(patient=cleared)
    link = payment_links(visit).first().context["pay_url"]

    patient_client = VerifiedClient()
    assert patient_client.get(link.split("testserver")[-1]).status_code == 302  # the patient logs in first
    patient_client.force_login(cleared)
    page = patient_client.get(link.split("testserver")[-1])
    assert page.status_code == 200 and "$100.00" in page.content.decode()
    payment = checkout_start(patient=cleared, visit=visit)
    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)

    visit.refresh_from_db()
    assert visit.status == VisitStatus.CONFIRMED
    assert Message.objects.filter(visit=visit, template="confirmation").count() == 2


def test_the_link_goes_again_once_a_minute_and_never_after_the_hold(
    clock, scheduler, cleared, infusion, scheduler_client
):
    visit = booking.visit_book_by_phone(
        patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10), booked_by=scheduler
    )
    scheduler_client.post(reverse("admin:booking_visit_payment_link", args=[visit.pk]))
    assert payment_links(visit).count() == 2  # the same minute: nothing more

    clock.shift(timedelta(minutes=5))
    scheduler_client.post(reverse("admin:booking_visit_payment_link", args=[visit.pk]))
    assert payment_links(visit).count() == 4

    clock.shift(timedelta(minutes=30))
    with pytest.raises(HoldExpired):
        booking.payment_link_send(visit=visit, actor=scheduler)


def test_only_staff_may_book_for_someone_else(clock, cleared, cleared_too, infusion, nurse):
    for outsider in (cleared_too, nurse):
        with pytest.raises(NotAllowed):
            booking.visit_book_by_phone(
                patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10), booked_by=outsider
            )
        with pytest.raises(NotAllowed):
            booking.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10), booked_by=outsider)
    assert not Visit.objects.exists()


def test_the_board_shows_a_phone_hold_with_who_made_it(clock, scheduler, cleared, infusion):
    booking.visit_book_by_phone(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10), booked_by=scheduler)

    day = board.board_for_day(day=TUESDAY)
    [held] = [v for row in day.rows for v in row.visits]
    assert str(held.hold_note) == "phone hold by Sky Desk, until 9:30 AM EST"


# --- refused as online -------------------------------------------------------------------------------


def test_a_safety_hold_is_refused_by_phone_with_the_patients_reason(clock, scheduler_client, cleared, infusion):
    PatientProfile.objects.filter(user=cleared).update(safety_review_required=True)

    page = scheduler_client.get(PHONE_URL, {"patient": cleared.pk}).content.decode()
    assert "A clinician needs to speak with you before an infusion can be booked." in page
    response = hold_post(scheduler_client, cleared, infusion, ny(TUESDAY, 10))

    assert response.status_code == 200
    assert "A clinician needs to speak with you before an infusion can be booked." in response.content.decode()
    assert not Visit.objects.exists() and not Message.objects.exists()


def test_an_uncleared_patient_cannot_be_booked_an_infusion_by_phone(clock, scheduler_client, patient, nyc, infusion):
    bf.patient_profile(patient)

    response = hold_post(scheduler_client, patient, infusion, ny(TUESDAY, 10))

    assert "Infusions can be booked once a clinician has cleared you." in response.content.decode()
    assert not Visit.objects.exists()


def test_plan_limits_hold_by_phone_too(clock, scheduler, cleared, infusion):
    """The plan's spacing (48 hours here): a second infusion the next day is refused as online
    (the one question, booking/safety.py)."""
    booking.visit_book_by_phone(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10), booked_by=scheduler)
    from booking.errors import NotEligible

    with pytest.raises(NotEligible, match="48 hours apart"):
        booking.visit_book_by_phone(patient=cleared, service=infusion, starts_at=ny(WEDNESDAY, 10), booked_by=scheduler)


# --- the series --------------------------------------------------------------------------------------


def test_a_series_by_phone_holds_the_plan_together_and_sends_one_link(clock, scheduler_client, scheduler, cleared):
    url = reverse("admin:booking_visit_phone_series", args=[cleared.pk])
    proposal = scheduler_client.get(url, {"first_day": TUESDAY.isoformat()}).content.decode()
    assert "6 infusions proposed" in proposal
    starts = re.findall(r'name="start" value="([^"]+)"', proposal)
    assert len(starts) == 6

    response = scheduler_client.post(url, {"start": starts})

    series = Series.objects.get(patient=cleared)
    assert response.status_code == 302
    assert series.booked_by == scheduler
    visits = list(series.visits.order_by("starts_at"))
    assert len(visits) == 6 and all(v.origin == BookingOrigin.PHONE and v.status == VisitStatus.HELD for v in visits)
    [sms] = Message.objects.filter(template="payment_link", channel=Channel.SMS)
    assert sms.visit == visits[0] and sms.context["visits"] == 6 and sms.context["amount"] == "$600.00"


# --- moving and cancelling for the patient -----------------------------------------------------------


def test_cancelling_for_the_patient_applies_their_policy_and_shows_it_first(
    clock, scheduler_client, scheduler, cleared, infusion, commit
):
    visit = book(cleared, infusion, ny(TUESDAY, 10))  # 25 hours ahead: then inside the 24-hour cut-off
    with commit():
        pay(visit)
    clock.shift(timedelta(hours=2))
    url = reverse("admin:booking_visit_cancel_visit", args=[visit.pk])

    page = scheduler_client.get(url).content.decode()
    assert "<strong>$50.00</strong> goes back, $50.00 is kept" in page  # the late fee, before confirming
    assert "Refunded in full: <strong>$100.00</strong>" in page

    with commit():
        scheduler_client.post(url, {"asked_by": "patient", "reason": "Called: feeling unwell"})

    visit.refresh_from_db()
    assert visit.status == VisitStatus.CANCELLED
    assert visit.cancelled_by == CancelledBy.PATIENT and visit.cancelled_by_user == scheduler
    assert [r.amount_cents for r in Refund.objects.all()] == [5000]


def test_moving_for_the_patient_inside_the_cut_off_goes_through_the_guard(
    clock, scheduler_client, scheduler, cleared, cleared_too, infusion, maya, priya
):
    visit = book(cleared, infusion, ny(TUESDAY, 10))
    clock.shift(timedelta(hours=2))  # inside the cut-off: the patient cannot move it online any more
    url = reverse("admin:booking_visit_move", args=[visit.pk])
    page = scheduler_client.get(url, {"day": WEDNESDAY.isoformat()}).content.decode()
    assert "You can reschedule or cancel online up to 24 hours" in page
    # Others take Wednesday 10:00 with both nurses meanwhile: the guard refuses it, nothing moves.
    book(cleared_too, infusion, ny(WEDNESDAY, 10), provider=maya)
    book(bf.cleared_patient(UserFactory(role="patient")), infusion, ny(WEDNESDAY, 10), provider=priya)
    refused = scheduler_client.post(url, {"starts_at": ny(WEDNESDAY, 10).strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert "That time was just taken" in refused.content.decode()

    scheduler_client.post(url, {"starts_at": ny(WEDNESDAY, 13).strftime("%Y-%m-%dT%H:%M:%SZ")})

    visit.refresh_from_db()
    assert visit.starts_at == ny(WEDNESDAY, 13) and visit.status == VisitStatus.CONFIRMED
    assert Message.objects.filter(visit=visit, template="rescheduled").exists()
    entry = audit.log_entries_for(visit).first()
    assert entry.actor == scheduler and "starts_at" in entry.changes_dict


def test_a_patient_still_cannot_change_inside_the_cut_off_online(clock, cleared, infusion):
    from booking.errors import ChangeWindowClosed

    visit = book(cleared, infusion, ny(TUESDAY, 10))
    clock.shift(timedelta(hours=2))
    with pytest.raises(ChangeWindowClosed):
        booking.visit_reschedule(visit=visit, starts_at=ny(WEDNESDAY, 13), by=CancelledBy.PATIENT, actor=cleared)
    with pytest.raises(ChangeWindowClosed):
        booking.visit_cancel(visit=visit, by=CancelledBy.PATIENT, actor=cleared)
