"""The waitlist for freed times (issue 19): a freed time is offered to the waiting patients it fits,
in the order they joined, held for each in turn; offers lapse to the next; the first acceptance
wins through the guard; nobody held or uncleared is offered anything; quiet hours are kept. And the
coverage waitlist is told, once, when an area starts to cover its ZIP.

Nina works Tuesdays 9:00-11:45 only, from the patients' own ZIP: exactly one home infusion fits a
Tuesday (9:30-11:30), so "the time" of these tests is easy to free and to fill.
"""

from datetime import date, time, timedelta

import pytest
from django.urls import reverse

from booking import services
from booking.errors import SlotTaken
from booking.models import (
    BookingOrigin,
    CancelledBy,
    TimeOffer,
    TimeOfferStatus,
    TimeWaitlistEntry,
    TimeWaitlistStatus,
    Visit,
    VisitStatus,
    WaitlistEntry,
)
from booking.tests import factories as f
from concierge.testing import race
from concierge.tests.factories import UserFactory
from notifications.models import Channel, Message
from patients.models import PatientProfile
from roster.models import WeeklyShift

from .conftest import MONDAY, NOW, TUESDAY, WEDNESDAY, ny

pytestmark = pytest.mark.django_db

NEXT_TUESDAY = TUESDAY + timedelta(days=7)
THE_TIME = ny(TUESDAY, 9, 30)


@pytest.fixture
def nina(db):
    return f.ProviderFactory(
        user=UserFactory(role="nurse", first_name="Nina", last_name="Tuesday"), shifts={1: [(time(9), time(11, 45))]}
    )


@pytest.fixture
def area(infusion, nina):
    return f.ServiceAreaFactory(services=[infusion], providers=[nina])


def cleared_person(first_name):
    return f.cleared_patient(UserFactory(role="patient", first_name=first_name))


@pytest.fixture
def ann(clock, area):
    return cleared_person("Ann")


@pytest.fixture
def bob(clock, area):
    return cleared_person("Bob")


@pytest.fixture
def cat(clock, area):
    """Who has the time when the tests begin."""
    return cleared_person("Cat")


def join(patient, service, *, days=(1,), parts=("morning",), first=TUESDAY, last=TUESDAY):
    return services.time_waitlist_join(
        patient=patient, service=service, weekdays=days, parts_of_day=parts, first_day=first, last_day=last
    )


def booked(patient, service, starts_at=THE_TIME):
    visit = services.visit_hold(patient=patient, service=service, starts_at=starts_at)
    return services.visit_confirm(visit=visit)


def open_offer(patient):
    return TimeOffer.objects.filter(entry__patient=patient, status=TimeOfferStatus.OPEN).first()


def offers_to(patient):
    return list(TimeOffer.objects.filter(entry__patient=patient).order_by("created_at", "pk"))


# --- offered in order, held, lapsing ----------------------------------------------------------------


def test_a_cancelled_time_is_offered_to_whoever_joined_first_and_held_for_them(
    ann, bob, cat, infusion, commit, settings
):
    visit = booked(cat, infusion)
    join(ann, infusion)
    join(bob, infusion)
    assert services.waitlist_offers_make() == 0  # nothing fits: the time is taken

    with commit():
        services.visit_cancel(visit=visit, by=CancelledBy.PATIENT, actor=cat)  # the sweep runs after commit

    offer = open_offer(ann)
    assert offer is not None and open_offer(bob) is None
    held = offer.visit
    assert (held.patient, held.starts_at, held.status, held.origin) == (ann, THE_TIME, VisitStatus.HELD, "waitlist")
    assert held.hold_expires_at == offer.expires_at == NOW + timedelta(minutes=settings.WAITLIST_OFFER_MINUTES)
    sent = Message.objects.filter(template="waitlist_offer", recipient=ann)
    assert sorted(sent.values_list("channel", flat=True)) == [Channel.EMAIL, Channel.SMS]
    assert all(m.context["offer_url"].endswith(reverse("booking:offer", args=[offer.pk])) for m in sent)
    # Held: nobody else can take it meanwhile, online or from the list.
    with pytest.raises(SlotTaken):
        services.visit_hold(patient=bob, service=infusion, starts_at=THE_TIME)
    assert services.waitlist_offers_make() == 0


def test_an_offer_that_lapses_passes_to_the_next_and_nobody_gets_it_twice(ann, bob, infusion, clock, commit):
    join(ann, infusion)
    join(bob, infusion)
    services.waitlist_offers_make()
    first = open_offer(ann)

    clock.shift(timedelta(minutes=16))
    services.waitlist_offers_make()

    first.refresh_from_db()
    assert first.status == TimeOfferStatus.LAPSED
    second = open_offer(bob)
    assert second is not None and second.starts_at == THE_TIME
    entry = TimeWaitlistEntry.objects.get(patient=ann)
    assert entry.status == TimeWaitlistStatus.WAITING and entry.lapsed_offers == 1

    clock.shift(timedelta(minutes=16))
    services.waitlist_offers_make()
    assert open_offer(ann) is None and open_offer(bob) is None  # each was offered it once
    assert [o.status for o in offers_to(bob)] == [TimeOfferStatus.LAPSED]


def test_too_many_unanswered_offers_end_the_place(ann, infusion, clock, settings):
    settings.WAITLIST_MAX_LAPSED_OFFERS = 1
    join(ann, infusion, first=TUESDAY, last=NEXT_TUESDAY)
    services.waitlist_offers_make()
    clock.shift(timedelta(minutes=16))
    services.waitlist_offers_make()

    assert TimeWaitlistEntry.objects.get(patient=ann).status == TimeWaitlistStatus.ENDED
    assert len(offers_to(ann)) == 1  # next Tuesday is not offered to someone who no longer answers


def test_declining_passes_the_time_on_at_once_and_keeps_the_place(ann, bob, infusion, commit):
    join(ann, infusion)
    join(bob, infusion)
    services.waitlist_offers_make()

    with commit():
        services.waitlist_offer_decline(offer=open_offer(ann), patient=ann)

    assert Visit.objects.get(patient=ann).status == VisitStatus.CANCELLED
    assert open_offer(bob).starts_at == THE_TIME
    assert TimeWaitlistEntry.objects.get(patient=ann).status == TimeWaitlistStatus.WAITING


def test_accepting_holds_the_time_to_pay_and_books_like_online(ann, infusion, clock, settings):
    join(ann, infusion)
    services.waitlist_offers_make()
    offer = open_offer(ann)
    clock.shift(timedelta(minutes=5))

    visit = services.waitlist_offer_accept(offer=offer, patient=ann)
    again = services.waitlist_offer_accept(offer=offer, patient=ann)

    assert again.pk == visit.pk == offer.visit_id
    assert visit.status == VisitStatus.HELD
    assert visit.hold_expires_at == NOW + timedelta(minutes=15)  # the offer's own time was longer than 5 + 10
    offer.refresh_from_db()
    assert offer.status == TimeOfferStatus.ACCEPTED
    assert TimeWaitlistEntry.objects.get(patient=ann).status == TimeWaitlistStatus.BOOKED
    confirmed = services.visit_confirm(visit=visit)
    assert confirmed.status == VisitStatus.CONFIRMED


def test_a_late_acceptance_takes_the_time_if_it_is_still_free_and_not_if_it_is_gone(ann, bob, cat, infusion, clock):
    join(ann, infusion)
    services.waitlist_offers_make()
    offer = open_offer(ann)
    clock.shift(timedelta(minutes=20))
    services.waitlist_offers_make()  # lapsed; nobody else waits

    late = services.waitlist_offer_accept(offer=offer, patient=ann)
    assert late.status == VisitStatus.HELD and late.hold_expires_at > NOW + timedelta(minutes=20)

    join(bob, infusion)
    services.waitlist_offers_make()  # Bob is offered nothing: Ann has it
    assert open_offer(bob) is None
    services.visit_cancel(visit=late, by=CancelledBy.PATIENT, actor=ann)
    services.waitlist_offers_make()
    bob_offer = open_offer(bob)
    clock.shift(timedelta(minutes=20))
    booked(cat, infusion)  # freed by the lapse, taken online before Bob answers
    with pytest.raises(SlotTaken):
        services.waitlist_offer_accept(offer=bob_offer, patient=bob)


# --- who is offered, when ---------------------------------------------------------------------------


def test_no_offers_to_patients_on_a_safety_hold_or_not_cleared(ann, bob, infusion, area, clock):
    join(ann, infusion)
    join(bob, infusion)
    PatientProfile.objects.filter(user=ann).update(safety_review_required=True)
    uncleared = UserFactory(role="patient", first_name="Una")
    f.patient_profile(uncleared)
    # Joined while cleared (or by hand): the clearance is what counts when a time frees up.
    TimeWaitlistEntry.objects.create(
        patient=uncleared, service=infusion, weekdays="1", parts_of_day="morning", first_day=TUESDAY, last_day=TUESDAY
    )
    TimeWaitlistEntry.objects.filter(patient=uncleared).update(created_at=NOW - timedelta(days=1))  # first in line

    services.waitlist_offers_make()

    assert offers_to(uncleared) == [] and offers_to(ann) == []
    assert open_offer(bob).starts_at == THE_TIME


def test_quiet_hours_wait_for_the_morning(ann, infusion, clock):
    clock.move_to(ny(date(2026, 3, 2), 22))  # Monday 10 PM in New York
    join(ann, infusion, first=NEXT_TUESDAY, last=NEXT_TUESDAY)
    assert services.waitlist_offers_make() == 0

    clock.move_to(ny(TUESDAY, 8, 0))
    assert services.waitlist_offers_make() == 1
    assert open_offer(ann).starts_at == ny(NEXT_TUESDAY, 9, 30)


def test_only_times_that_fit_the_wishes_are_offered(ann, infusion, nina):
    join(ann, infusion, parts=("afternoon",))  # Nina's only Tuesday time is a morning
    assert services.waitlist_offers_make() == 0
    join(ann, infusion, days=(3,), parts=("morning",), first=TUESDAY, last=NEXT_TUESDAY)  # Thursdays
    assert services.waitlist_offers_make() == 0
    assert TimeWaitlistEntry.objects.filter(patient=ann).count() == 1  # the wishes changed, one place


# --- every way time frees up ------------------------------------------------------------------------


def test_a_hold_that_runs_out_frees_the_time_for_the_list(ann, cat, infusion, clock):
    services.visit_hold(patient=cat, service=infusion, starts_at=THE_TIME)  # never paid
    join(ann, infusion)
    assert services.waitlist_offers_make() == 0
    clock.shift(timedelta(minutes=11))
    assert services.waitlist_offers_make() == 1
    assert open_offer(ann).starts_at == THE_TIME


def test_a_reschedule_frees_the_old_time(ann, cat, infusion, commit):
    visit = booked(cat, infusion)
    join(ann, infusion)
    with commit():
        services.visit_reschedule(visit=visit, starts_at=ny(NEXT_TUESDAY, 9, 30), by=CancelledBy.PATIENT, actor=cat)
    assert open_offer(ann).starts_at == THE_TIME


def test_a_new_shift_or_a_new_nurse_is_offered_by_the_minute_sweep(ann, bob, infusion, nina, area):
    join(ann, infusion, days=(2,), first=WEDNESDAY, last=WEDNESDAY)  # nobody works Wednesdays
    join(bob, infusion, days=(4,), first=TUESDAY, last=NEXT_TUESDAY)  # nor Fridays
    assert services.waitlist_offers_make() == 0

    WeeklyShift.objects.create(provider=nina, weekday=2, start_time=time(9), end_time=time(11, 45))
    area.providers.add(
        f.ProviderFactory(user=UserFactory(role="nurse", first_name="Fay"), shifts={4: [(time(9), time(11, 45))]})
    )
    assert services.waitlist_offers_make() == 2

    assert open_offer(ann).starts_at == ny(WEDNESDAY, 9, 30)
    assert open_offer(bob).starts_at == ny(TUESDAY + timedelta(days=3), 9, 30)


def test_leaving_releases_an_offered_time(ann, bob, infusion, commit):
    entry = join(ann, infusion)
    join(bob, infusion)
    services.waitlist_offers_make()
    with commit():
        services.time_waitlist_leave(entry=entry, patient=ann)
        services.time_waitlist_leave(entry=entry, patient=ann)

    assert TimeWaitlistEntry.objects.get(patient=ann).status == TimeWaitlistStatus.LEFT
    assert open_offer(ann) is None and open_offer(bob).starts_at == THE_TIME


def test_only_patients_who_may_book_can_join(patient, infusion, area, clock):
    from booking.errors import NotEligible

    f.patient_profile(patient)
    with pytest.raises(NotEligible):
        join(patient, infusion)


# --- two acceptances at once (PostgreSQL) -------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_late_acceptances_of_one_time_one_wins(ann, bob, infusion, clock):
    join(ann, infusion)
    join(bob, infusion)
    services.waitlist_offers_make()
    clock.shift(timedelta(minutes=16))
    services.waitlist_offers_make()  # Ann's lapsed: Bob's turn
    clock.shift(timedelta(minutes=16))
    services.waitlist_offers_make()  # Bob's lapsed too: the time is free, both may still ask for it
    ann_offer, bob_offer = offers_to(ann)[0], offers_to(bob)[0]

    outcomes = race(
        lambda: services.waitlist_offer_accept(offer=ann_offer, patient=ann),
        lambda: services.waitlist_offer_accept(offer=bob_offer, patient=bob),
    )

    won = [o for o in outcomes if o.error is None]
    lost = [o for o in outcomes if o.error is not None]
    assert len(won) == 1 and len(lost) == 1
    assert isinstance(lost[0].error, SlotTaken)
    assert Visit.objects.filter(starts_at=THE_TIME, status=VisitStatus.HELD).count() == 1


# --- the pages ---------------------------------------------------------------------------------------


def test_the_patient_joins_from_the_booking_pages_and_answers_an_offer(client, ann, bob, infusion):
    client.force_login(ann)
    url = reverse("booking:time_waitlist", args=[infusion.code])
    assert url in client.get(reverse("booking:days", args=[infusion.code])).content.decode()

    response = client.post(
        url,
        {"weekdays": ["1"], "parts_of_day": ["morning"], "first_day": TUESDAY.isoformat(), "last_day": TUESDAY},
    )
    assert response.status_code == 302
    assert TimeWaitlistEntry.objects.get(patient=ann).weekdays == "1"
    services.waitlist_offers_make()
    offer = open_offer(ann)

    page = client.get(reverse("booking:offer", args=[offer.pk])).content.decode()
    assert "We are holding this time for you until" in page and "Take this time and pay" in page
    taken = client.post(reverse("booking:offer", args=[offer.pk]), {"answer": "accept"})
    assert taken.status_code == 302 and taken["Location"] == reverse("booking:checkout", args=[offer.visit_id])

    client.force_login(bob)
    assert client.get(reverse("booking:offer", args=[offer.pk])).status_code == 404


def test_an_offer_taken_by_someone_else_says_so(client, ann, cat, infusion, clock):
    join(ann, infusion)
    services.waitlist_offers_make()
    offer = open_offer(ann)
    clock.shift(timedelta(minutes=20))
    booked(cat, infusion)
    client.force_login(ann)

    response = client.post(reverse("booking:offer", args=[offer.pk]), {"answer": "accept"})

    assert response.status_code == 409
    assert "someone else took this time first" in response.content.decode()


# --- the coverage waitlist ---------------------------------------------------------------------------


def test_a_new_area_tells_the_coverage_waitlist_once(infusion, clock, commit):
    waiting = services.waitlist_join(zip_code="85004", email="sam@example.com", phone="+16025550100", language="es")
    elsewhere = services.waitlist_join(zip_code="99501", email="al@example.com")
    assert services.coverage_waitlist_notify() == 0

    f.ServiceAreaFactory(name="Phoenix", state="AZ", zip_codes="85004", services=[infusion])
    assert services.coverage_waitlist_notify() == 1
    assert services.coverage_waitlist_notify() == 0

    told = Message.objects.filter(template="coverage_open")
    assert sorted(told.values_list("channel", "to_address")) == [
        (Channel.EMAIL, "sam@example.com"),
        (Channel.SMS, "+16025550100"),
    ]
    assert all(m.context["language"] == "es" and m.context["zip_code"] == "85004" for m in told)
    waiting.refresh_from_db()
    elsewhere.refresh_from_db()
    assert waiting.contacted_at is not None and elsewhere.contacted_at is None
    assert WaitlistEntry.objects.filter(contacted_at__isnull=True).count() == 1


def test_the_origin_of_an_offered_hold_is_the_waitlist(ann, infusion):
    join(ann, infusion)
    services.waitlist_offers_make()
    assert Visit.objects.get(patient=ann).origin == BookingOrigin.WAITLIST


def test_the_waitlist_dates_show_and_save_in_spanish(client, ann, infusion):
    # <input type="date"> takes only yyyy-mm-dd: a Spanish "06/12/2026" shows an empty box.
    ann.language = "es"
    ann.save(update_fields=["language"])
    client.force_login(ann)
    url = reverse("booking:time_waitlist", args=[infusion.code])

    page = client.get(url).content.decode()
    assert "Desde" in page
    assert f'type="date" name="first_day" value="{MONDAY.isoformat()}"' in page  # today (the clock)

    response = client.post(
        url,
        {"weekdays": ["1"], "parts_of_day": ["morning"], "first_day": TUESDAY.isoformat(), "last_day": TUESDAY},
    )
    assert response.status_code == 302
    entry = TimeWaitlistEntry.objects.get(patient=ann)
    assert (entry.first_day, entry.last_day) == (TUESDAY, TUESDAY)
    page = client.get(url).content.decode()
    assert f'value="{TUESDAY.isoformat()}"' in page and "/" + str(TUESDAY.year) not in page


def test_the_service_is_named_in_the_patients_language(client, ann, infusion):
    infusion.name_es = "Infusión en casa"
    infusion.save(update_fields=["name_es"])
    visit = booked(ann, infusion)
    client.force_login(ann)
    pages = [
        reverse("booking:book"),
        reverse("booking:time_waitlist", args=[infusion.code]),
        reverse("booking:visit", args=[visit.pk]),
        reverse("booking:visits"),
    ]

    for language, shown, not_shown in (
        ("es", "Infusión en casa", "Home infusion"),
        ("en", "Home infusion", "Infusión"),
    ):
        ann.language = language
        ann.save(update_fields=["language"])
        for url in pages:
            page = client.get(url).content.decode()
            assert shown in page and not_shown not in page, (language, url)
