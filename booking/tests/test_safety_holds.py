"""Safety holds (issue 14): a warning sign stops the next infusion, wherever and whenever it was booked.

The world: Monday 2 March 2026, 9:00 in New York. Pat (cleared, six infusions 48 h apart) has a
paid, confirmed home infusion with Maya on Tuesday at 10:00, booked before anything happened.
"""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from booking import policy, safety, services
from booking.checkout import checkout_start
from booking.errors import NotEligible
from booking.models import CancelledBy, HoldOutcome, SafetyHold, Visit, VisitStatus
from booking.tests import factories as f
from booking.tests.conftest import NOW, TUESDAY, ny
from concierge.errors import NotAllowed
from concierge.tests.factories import UserFactory
from notifications.content import forbidden_words_in, render
from notifications.models import Message, MessageStatus
from patients import selectors as patient_selectors
from patients import services as patient_services
from patients.models import Clearance, SafetyAlert
from patients.tests.factories import screening, sent_intake
from payments.gateways import fake
from payments.models import Refund
from portal import messaging
from portal.models import ThreadTopic

S = VisitStatus
pytestmark = pytest.mark.django_db

REMINDERS = ("reminder_24h", "reminder_2h", "checkin")


@pytest.fixture
def booked(cleared, infusion, maya, commit):
    """Pat's Tuesday 10:00 infusion, held, paid by card (the $100 deposit) and confirmed."""
    visit = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    payment = checkout_start(patient=cleared, visit=visit)
    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    visit.refresh_from_db()
    assert visit.status == S.CONFIRMED
    assert set(pending(visit)) >= set(REMINDERS)
    return visit


def pending(visit):
    return list(
        Message.objects.filter(visit=visit, status=MessageStatus.PENDING).values_list("template", flat=True).distinct()
    )


def clinician():
    return UserFactory(role="clinician", first_name="Cleo", last_name="Clinician")


# The warning signs, each through the service a person uses (the patient, a clinician, the clock).


def item_9(patient):
    screening(patient, "phq9", answers=[1, 1, 1, 1, 1, 1, 1, 1, 2])


def danger_words(patient):
    messaging.thread_start(
        patient=patient,
        topic=ThreadTopic.HEALTH,
        subject="Tonight",
        body="I can't go on, I want to kill myself.",
        form_token="danger",
    )


def danger_words_in_the_health_questions(patient):
    sent_intake(patient, treatment_details="Nothing helps. I have a plan to kill myself.")


def pregnancy(patient):
    sent_intake(patient, pregnancy="pregnant")


def needs_review(patient):
    # The clearance was decided on the intake sent before it (as clearance_record records it).
    Clearance.objects.filter(patient=patient).update(intake=patient_selectors.intake_latest_sent(patient=patient))
    sent_intake(patient, pregnancy="breastfeeding")


def declined(patient):
    patient_services.clearance_record(
        patient=patient,
        clinician=clinician_licensed(),
        diagnosis="ptsd",
        decision="declined",
        note="New heart rhythm problem: cardiology first.",
    )


def revoked(patient):
    clearance = Clearance.objects.get(patient=patient)
    patient_services.clearance_revoke(clearance=clearance, clinician=clinician(), reason="Started an MAOI.")


def clinician_licensed():
    from patients.tests.factories import licensed

    user = clinician()
    licensed(user, "NY")
    return user


SIGNALS = {
    "PHQ-9 item 9": (item_9, safety.SAFETY_ALERT, True),
    "danger words in a message": (danger_words, safety.SAFETY_ALERT, True),
    "danger words in the health questions": (danger_words_in_the_health_questions, safety.SAFETY_ALERT, True),
    "a new pregnancy in an updated intake": (pregnancy, safety.TRIAGE_NOT_ELIGIBLE, False),
    "an updated intake for clinician review": (needs_review, safety.TRIAGE_REVIEW, False),
    "a clinician declined": (declined, safety.CLEARANCE_DECLINED, False),
    "a clearance revoked": (revoked, safety.CLEARANCE_REVOKED, False),
}


@pytest.mark.postgres
@pytest.mark.parametrize("signal", SIGNALS, ids=list(SIGNALS))
def test_each_warning_sign_holds_the_infusion_booked_before_it(booked, cleared, signal, commit):
    fire, code, danger = SIGNALS[signal]

    with commit():
        fire(cleared)

    visit = Visit.objects.get(pk=booked.pk)
    assert visit.status == S.ON_HOLD
    assert visit.get_status_display() == "On hold — clinician review"
    hold = SafetyHold.objects.get(visit=visit)
    assert hold.is_open and code in hold.reasons and hold.safety is danger
    assert hold.previous_status == S.CONFIRMED
    # Its reminders are withheld; one neutral notice (email and text) says the care team will call.
    assert not set(pending(visit)) & set(REMINDERS)
    notices = Message.objects.filter(visit=visit, template="care_team_call")
    assert sorted(notices.values_list("channel", flat=True)) == ["email", "sms"]
    for notice in notices:
        rendered = render(notice)
        assert forbidden_words_in(rendered.text) == [] and forbidden_words_in(rendered.subject) == []
        assert "your care team" in rendered.text and "call" in rendered.text
    # New bookings stop too, with the reason in the patient's words.
    with pytest.raises(NotEligible):
        services.visit_hold(patient=cleared, service=visit.service, starts_at=ny(TUESDAY + timedelta(days=3), 10))


def test_the_hold_is_audited_and_a_second_signal_adds_nothing_but_reasons(booked, cleared, commit):
    with commit():
        item_9(cleared)
        services.safety_holds_place(patient=cleared)  # the same answer asked again: one hold, one notice
    with commit():
        revoked(cleared)

    hold = SafetyHold.objects.get(visit=booked)
    assert hold.reasons == [safety.SAFETY_ALERT, safety.CLEARANCE_REVOKED] and hold.safety
    assert Message.objects.filter(visit=booked, template="care_team_call").count() == 2  # email + text, once
    from auditlog.models import LogEntry

    assert LogEntry.objects.get_for_object(hold).exists()


def test_a_visit_not_refused_is_not_held_and_video_evaluations_never_are(cleared, infusion, evaluation, maya, commit):
    clinician_provider = f.clinician_provider()
    maya.areas.first().providers.add(clinician_provider)
    video = services.visit_confirm(
        visit=services.visit_hold(patient=cleared, service=evaluation, starts_at=ny(TUESDAY, 14))
    )
    services.safety_holds_place(patient=cleared)
    assert Visit.objects.get(pk=video.pk).status == S.CONFIRMED  # nothing refuses: nothing held

    with commit():
        item_9(cleared)

    # The clinician's video visit is how the patient is seen: it is not an infusion, never held.
    assert Visit.objects.get(pk=video.pk).status == S.CONFIRMED


def test_a_hold_not_paid_yet_is_held_too_and_its_payment_is_refused(cleared, infusion, maya, commit):
    visit = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    payment = checkout_start(patient=cleared, visit=visit)
    with commit():
        item_9(cleared)
    assert Visit.objects.get(pk=visit.pk).status == S.ON_HOLD

    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)

    visit.refresh_from_db()
    assert visit.status == S.ON_HOLD  # not confirmed: the money goes back in full
    assert Refund.objects.get(payment=payment).amount_cents == payment.amount_cents


# --- release ----------------------------------------------------------------------------------


def resolve_alerts(patient, user):
    for alert in SafetyAlert.objects.filter(patient=patient, resolved_at__isnull=True):
        patient_services.safety_alert_resolve(alert=alert, clinician=user, note="Spoke with Pat: safe, plan agreed.")


def test_only_a_clinician_releases_and_only_once_the_question_says_yes(booked, cleared, staff_user, commit):
    with commit():
        item_9(cleared)
    cleo = clinician()

    with pytest.raises(NotAllowed):
        services.safety_hold_release(visit=booked, clinician=staff_user, note="ok")
    with pytest.raises(services.HoldNotReleasable, match="still may not have this infusion: Open safety alert"):
        services.safety_hold_release(visit=booked, clinician=cleo, note="Called her")
    with pytest.raises(Exception, match="Say what was done"):
        services.safety_hold_release(visit=booked, clinician=cleo, note="  ")
    assert Visit.objects.get(pk=booked.pk).status == S.ON_HOLD
    # Resolving the alert does not release the visit by itself.
    resolve_alerts(cleared, cleo)
    assert Visit.objects.get(pk=booked.pk).status == S.ON_HOLD


def test_release_restores_the_visit_and_its_reminders_once(booked, cleared, commit, clock):
    with commit():
        item_9(cleared)
    cleo = clinician()
    resolve_alerts(cleared, cleo)
    clock.shift(timedelta(hours=2))  # 11:00 on Monday: the 24-hour reminder (10:00) has passed meanwhile

    with commit():
        visit = services.safety_hold_release(visit=booked, clinician=cleo, note="Spoke with Pat; go ahead.")

    assert visit.status == S.CONFIRMED
    hold = SafetyHold.objects.get(visit=visit)
    assert (hold.outcome, hold.ended_by, hold.note) == (HoldOutcome.RELEASED, cleo, "Spoke with Pat; go ahead.")
    # The reminders still ahead are planned again (the 24-hour one's time has passed).
    assert set(pending(visit)) & set(REMINDERS) == {"reminder_2h", "checkin"}
    with pytest.raises(services.HoldNotReleasable):
        services.safety_hold_release(visit=visit, clinician=cleo, note="again")  # twice: one effect
    assert Message.objects.filter(visit=visit, template="reminder_2h", status=MessageStatus.PENDING).count() == 1
    # And the nurse may start it again.
    assert safety.infusion_permission_for(patient=cleared, at=visit.starts_at, visit=visit).allowed


def test_a_revoked_clearance_is_released_under_the_new_one(booked, cleared, commit):
    with commit():
        revoked(cleared)
    cleo = clinician()
    with pytest.raises(services.HoldNotReleasable, match="clearance was revoked"):
        services.safety_hold_release(visit=booked, clinician=cleo, note="x")
    renewed = f.clearance(cleared, infusions_planned=4)

    visit = services.safety_hold_release(visit=booked, clinician=cleo, note="Re-cleared at a lower plan.")

    assert visit.status == S.CONFIRMED and visit.clearance == renewed


# --- cancelling a held visit: a full refund, whatever the policy says -----------------------------


def test_staff_cancelling_a_held_visit_refund_it_in_full_even_inside_the_cut_off(booked, cleared, staff_user, commit):
    with commit():
        item_9(cleared)

    with commit():
        services.visit_cancel(visit=booked, by=CancelledBy.STAFF, reason="Patient asked to stop.", actor=staff_user)

    visit = Visit.objects.get(pk=booked.pk)
    assert visit.status == S.CANCELLED
    refund = Refund.objects.get(visit=visit)
    assert refund.amount_cents == 10000 and "safety_hold" in refund.reason
    hold = SafetyHold.objects.get(visit=visit)
    assert (hold.outcome, hold.ended_by, hold.note) == (HoldOutcome.CANCELLED, staff_user, "Patient asked to stop.")
    # Twice: one refund, one cancellation.
    services.visit_cancel(visit=booked, by=CancelledBy.STAFF, actor=staff_user)
    assert Refund.objects.filter(visit=visit).count() == 1


def test_the_policy_refunds_a_held_visit_in_full_where_it_would_keep_the_late_fee():
    visit = Visit(
        status=S.CANCELLED,
        cancelled_by=CancelledBy.PATIENT,
        starts_at=NOW + timedelta(hours=2),
        cancelled_at=NOW,
    )
    assert policy.cancellation_refund(visit=visit, paid_cents=10000).refund_cents == 5000  # late: the fee is kept
    held = policy.cancellation_refund(visit=visit, paid_cents=10000, on_hold=True)
    assert (held.rule, held.refund_cents, held.kept_cents) == (policy.Rule.SAFETY_HOLD, 10000, 0)


def test_releasing_a_visit_whose_time_has_passed_cancels_it_with_a_full_refund(booked, cleared, commit, clock):
    with commit():
        item_9(cleared)
    cleo = clinician()
    resolve_alerts(cleared, cleo)
    clock.move_to(ny(TUESDAY, 13))

    with commit():
        visit = services.safety_hold_release(visit=booked, clinician=cleo, note="Reached her on Tuesday.")

    assert visit.status == S.CANCELLED and visit.cancelled_by == CancelledBy.CLINIC
    assert Refund.objects.get(visit=visit).amount_cents == 10000
    assert SafetyHold.objects.get(visit=visit).outcome == HoldOutcome.CANCELLED


# --- time: a clearance that runs out ---------------------------------------------------------------


def test_the_clock_holds_visits_of_a_clearance_that_ran_out_once(booked, cleared, commit, clock):
    clearance = Clearance.objects.get(patient=cleared)
    Clearance.objects.filter(pk=clearance.pk).update(expires_on=date(2026, 3, 2))  # ends tonight
    assert patient_services.clearances_expired_announce() == 0
    assert Visit.objects.get(pk=booked.pk).status == S.CONFIRMED

    clock.move_to(ny(TUESDAY, 0, 30))
    with commit():
        assert patient_services.clearances_expired_announce() == 1
        assert patient_services.clearances_expired_announce() == 0  # once

    hold = SafetyHold.objects.get(visit=booked)
    assert hold.reasons == [safety.CLEARANCE_EXPIRED]
    assert Message.objects.filter(visit=booked, template="care_team_call").count() == 2


def test_the_clock_task_is_scheduled(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["patients-clearances-expired"]
    assert schedule["task"] == "patients.tasks.clearances_expired_announce"


# --- what the patient sees ------------------------------------------------------------------------


@pytest.mark.parametrize(("signal", "crisis"), [("PHQ-9 item 9", True), ("a clinician declined", False)])
def test_the_patients_pages_say_what_happens_next_and_988_only_after_a_danger_sign(
    client, booked, cleared, commit, signal, crisis
):
    with commit():
        SIGNALS[signal][0](cleared)
    client.force_login(cleared)

    for url in ("/dashboard/", reverse("booking:visit", args=[booked.pk])):
        page = " ".join(client.get(url).content.decode().split())
        assert "Your visit is on hold." in page, url
        assert "We will call you; you do not need to do anything now." in page
        assert "refunded" in page
        # The crisis panel (988 and 911 as buttons) only after a danger sign (the footer's 988 is on every page).
        assert ('class="crisis-panel"' in page) is crisis, url
        assert ("Call 988: thoughts of harming yourself" in page) is crisis, url
        # No clinical word on the page's notice: the reason stays with the care team.
        notice = page.split("Your visit is on hold.")[1].split("You can also call us")[0]
        assert forbidden_words_in(notice) == []
    # The crisis panel says what now happens (no longer "booking infusions is paused").
    if crisis:
        assert "booking infusions is paused" not in page
        assert "any infusion you have already booked is on hold" in page
