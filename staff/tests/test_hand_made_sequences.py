"""Hand-made sequences (the outside review): a cleared patient books a whole series, then shows a
warning sign in one of the ways a patient does: a portal message, a text to the clinic's number, a
check-in with PHQ-9 item 9 at 2, or a check-in's own words. Every upcoming infusion goes on hold;
the nurse cannot start or dose one; the patient cannot move one back into being active; the
clinician sees why; once the clinician has dealt with it and releases, they go ahead again.

The clock stands on Monday 2 March 2026, 9:00 in New York. Pat's first infusion was on Friday.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from booking import safety
from booking import services as booking
from booking.errors import NotEligible
from booking.models import CancelledBy, SafetyHold, Visit, VisitStatus
from booking.tests import factories as bf
from concierge.errors import ApplicationError
from notifications.services.twilio_hooks import sms_inbound_handle
from nurses import services as nursing
from patients import services as patient_services
from patients.models import SafetyAlert
from portal import checkins, messaging
from portal.models import ThreadTopic

from .conftest import MONDAY, NY, TUESDAY, ny

S = VisitStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def series(clock, cleared, infusion, maya):
    """Friday's infusion given; the rest of the plan (five more, 48 hours apart) booked and confirmed."""
    bf.VisitFactory(
        patient=cleared,
        provider=maya,
        service=infusion,
        clearance=cleared.clearances.get(),
        status=S.COMPLETED,
        starts_at=ny(MONDAY - timedelta(days=3), 10),
        ends_at=ny(MONDAY - timedelta(days=3), 12),
    )
    proposal = booking.series_propose(patient=cleared, service=infusion, first_day=TUESDAY)
    held = booking.series_hold(
        patient=cleared, service=infusion, visits=[(v.starts_at, v.provider_id) for v in proposal.visits]
    )
    visits = booking.series_confirm(series=held)
    assert len(visits) == 5 and {v.status for v in visits} == {S.CONFIRMED}
    return sorted(visits, key=lambda v: v.starts_at)


def portal_message(patient):
    messaging.thread_start(
        patient=patient,
        topic=ThreadTopic.HEALTH,
        subject="Next week",
        body="honestly there's no point in going on, I wrote a goodbye letter",
        form_token="seq-message",
    )


def text_message(patient):
    reply = sms_inbound_handle(
        message_sid="SM" + "1" * 32,
        from_number=str(patient.patient_profile.mobile_phone),
        body="thinking about sewerslide",
    )
    assert "988" in reply and "911" in reply


def _checkin(patient, **fields):
    given = patient.visits.get(status=S.COMPLETED)
    return checkins.checkin_submit(patient=patient, visit=given, feeling=2, **fields)


def checkin_item_9(patient):
    answers = checkins.ScreeningAnswers(item_answers=[1, 1, 1, 1, 1, 1, 1, 1, 2], form_token="seq-phq9")
    _checkin(patient, screenings={"phq9": answers})


def checkin_words(patient):
    _checkin(
        patient,
        side_effects=["other"],
        side_effect_severity="moderate",
        other_side_effect="my heart is racing and I can't catch my breath",
    )


SIGNS = {
    "a portal message": portal_message,
    "a text to the clinic's number": text_message,
    "PHQ-9 item 9 at 2 on a check-in": checkin_item_9,
    "a check-in's own words": checkin_words,
}


@pytest.mark.parametrize("sign", SIGNS, ids=list(SIGNS))
def test_a_warning_sign_holds_every_upcoming_infusion_of_the_series_until_a_clinician_releases_it(
    sign, series, cleared, maya, nurse, clock, clinician_user, clinician_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        SIGNS[sign](cleared)

    # One alert for the on-call clinician, and every upcoming infusion on hold, with a danger sign.
    alert = SafetyAlert.objects.get(patient=cleared, resolved_at__isnull=True)
    assert alert.notified_at is not None
    visits = [Visit.objects.get(pk=v.pk) for v in series]
    assert {v.status for v in visits} == {S.ON_HOLD}
    holds = SafetyHold.objects.filter(visit__in=visits)
    assert holds.count() == 5 and all(h.is_open and h.safety and safety.SAFETY_ALERT in h.reasons for h in holds)
    first = visits[0]

    # The patient cannot move a held visit back into being active, nor book another.
    with pytest.raises(ApplicationError):
        booking.visit_reschedule(
            visit=first, starts_at=first.starts_at + timedelta(days=1), by=CancelledBy.PATIENT, actor=cleared
        )
    with pytest.raises(NotEligible):
        booking.visit_hold(patient=cleared, service=first.service, starts_at=ny(TUESDAY + timedelta(days=20), 10))
    assert Visit.objects.get(pk=first.pk).status == S.ON_HOLD

    # The clinician sees why on the visit's page, and the app refuses to release while the alert is open.
    page = clinician_client.get(reverse("admin:booking_visit_release_hold", args=[first.pk])).content.decode()
    assert "Why it is on hold" in page and "Open safety alert" in page
    with pytest.raises(booking.HoldNotReleasable):
        booking.safety_hold_release(visit=first, clinician=clinician_user, note="Called Pat")

    # On the day, the nurse cannot set off, check in or dose: the reason is in words, with the on-call number.
    clock.move_to(first.starts_at - timedelta(hours=1))
    with pytest.raises(nursing.InfusionNotAllowed):
        nursing.visit_on_my_way(visit=first, nurse=nurse)
    with pytest.raises(nursing.InfusionNotAllowed):
        nursing.visit_check_in(
            visit=first,
            nurse=nurse,
            adult_present=True,
            prep_followed=True,
            baseline=nursing.Vitals(None, 124, 78, 72, 98, 14),
        )
    assert Visit.objects.get(pk=first.pk).status == S.ON_HOLD

    # Dealt with and released: the visits go ahead, and the nurse may start them.
    patient_services.safety_alert_resolve(alert=alert, clinician=clinician_user, note="Spoke with Pat: safe.")
    with django_capture_on_commit_callbacks(execute=True):
        for visit in visits:
            booking.safety_hold_release(visit=visit, clinician=clinician_user, note="Spoke with Pat; go ahead.")
    assert {Visit.objects.get(pk=v.pk).status for v in visits} == {S.CONFIRMED}
    nursing.visit_on_my_way(visit=first, nurse=nurse)
    assert Visit.objects.get(pk=first.pk).status == S.EN_ROUTE


def test_everyday_words_in_a_message_or_a_text_hold_nothing(series, cleared, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        messaging.thread_start(
            patient=cleared,
            topic=ThreadTopic.HEALTH,
            subject="Tuesday",
            body="this traffic is killing me, I'd die for a coffee. Dead tired but fine!",
            form_token="seq-quiet",
        )
        sms_inbound_handle(message_sid="SM" + "2" * 32, from_number="+12125550123", body="me muero de hambre jaja")

    assert not SafetyAlert.objects.filter(patient=cleared).exists()
    assert {Visit.objects.get(pk=v.pk).status for v in series} == {S.CONFIRMED}


def test_a_clearance_that_runs_out_mid_series_holds_the_infusions_after_it_by_the_clock_alone(
    series, cleared, clock, nurse, django_capture_on_commit_callbacks
):
    from patients.tasks import clearances_expired_announce

    # The clearance's last day is the series' second infusion (as set when it was decided).
    last_day = series[1].starts_at.astimezone(NY).date()
    cleared.clearances.update(expires_on=last_day)
    clock.move_to(ny(last_day + timedelta(days=1), 7))

    with django_capture_on_commit_callbacks(execute=True):
        clearances_expired_announce()  # the hourly clock: nothing else is called

    later = [Visit.objects.get(pk=v.pk) for v in series[2:]]
    assert {v.status for v in later} == {S.ON_HOLD}
    assert all(safety.CLEARANCE_EXPIRED in h.reasons for h in SafetyHold.objects.filter(visit__in=later))
    clock.move_to(later[0].starts_at - timedelta(hours=1))
    with pytest.raises(nursing.InfusionNotAllowed):
        nursing.visit_on_my_way(visit=later[0], nurse=nurse)


def test_a_plan_used_up_refuses_one_more_infusion_in_the_patients_words(series, cleared, infusion):
    with pytest.raises(NotEligible, match="All 6 infusions of your treatment plan are booked or done"):
        booking.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY + timedelta(days=14), 10))
