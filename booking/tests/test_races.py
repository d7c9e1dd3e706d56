"""Races with real threads on PostgreSQL: one winner, clean refusals, never an error."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction

from booking import services
from booking.errors import SlotTaken
from booking.models import CancelledBy, Visit, VisitStatus
from booking.tests import factories as f
from booking.tests.conftest import TUESDAY, ny
from concierge.errors import TryAgainLater
from concierge.testing import race
from concierge.tests.factories import UserFactory
from roster.models import Provider

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race_kinds(*workers):
    """concierge.testing.race, each outcome named: ("ok", value), or ("taken" | "busy" | "error", exception)."""
    return [_kind(outcome) for outcome in race(*workers)]


def _kind(outcome):
    if outcome.ok:
        return ("ok", outcome.value)
    if isinstance(outcome.error, SlotTaken):
        return ("taken", outcome.error)
    if isinstance(outcome.error, TryAgainLater):
        return ("busy", outcome.error)
    return ("error", outcome.error)  # anything else is a bug the assertions show


def test_twenty_patients_booking_one_time_get_one_success_and_nineteen_refusals(clock, infusion, nyc):
    patients = [f.cleared_patient(UserFactory(role="patient")) for _ in range(20)]
    starts_at = ny(TUESDAY, 10)

    results = race_kinds(
        *[lambda p=p: services.visit_hold(patient=p, service=infusion, starts_at=starts_at) for p in patients]
    )

    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["ok"] + ["taken"] * 19, results
    assert Visit.objects.filter(status=VisitStatus.HELD).count() == 1
    for kind, exc in results:
        if kind == "taken":
            assert str(exc) == "That time was just taken. Please choose another time."
            assert starts_at not in exc.nearest and exc.nearest


def test_one_patient_in_ten_tabs_with_ten_free_nurses_gets_one_visit(clock, infusion, nyc):
    nyc.providers.add(*[f.ProviderFactory(home_zip="10011") for _ in range(9)])
    patient = f.cleared_patient(UserFactory(role="patient"))

    results = race_kinds(
        *[lambda: services.visit_hold(patient=patient, service=infusion, starts_at=ny(TUESDAY, 10))] * 10
    )

    # Every tab gets the one hold (not "taken" by the patient's own other tab).
    visit = Visit.objects.get(patient=patient)
    assert results == [("ok", visit)] * 10, results


def test_two_runners_expiring_holds_and_a_late_payment_confirming_one_act_once(clock, infusion, nyc):
    patients = [f.cleared_patient(UserFactory(role="patient")) for _ in range(3)]
    visits = [
        services.visit_hold(patient=p, service=infusion, starts_at=ny(TUESDAY + timedelta(days=i), 10))
        for i, p in enumerate(patients)
    ]
    clock.shift(timedelta(minutes=11))

    results = race_kinds(
        services.visit_holds_expire,
        services.visit_holds_expire,
        lambda: services.visit_confirm(visit=visits[0]),
    )

    assert all(kind == "ok" for kind, _ in results), results
    statuses = [Visit.objects.get(pk=v.pk).status for v in visits]
    assert statuses[0] == VisitStatus.CONFIRMED  # the time was still free: taken again
    assert statuses[1:] == [VisitStatus.EXPIRED] * 2
    assert sum(r for kind, r in results[:2]) in (2, 3)  # each hold expired once (the paid one maybe first)


def test_a_nurse_locked_too_long_gives_try_again_later_not_an_error(clock, infusion, nyc, maya, settings):
    settings.LOCK_TIMEOUT_MS = 200
    patient = f.cleared_patient(UserFactory(role="patient"))
    locked, release = threading.Event(), threading.Event()

    def hold_the_nurse():
        with transaction.atomic():
            Provider.objects.select_for_update().get(pk=maya.pk)
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_nurse)
    holder.start()
    locked.wait(10)
    try:
        with pytest.raises(TryAgainLater):
            services.visit_hold(patient=patient, service=infusion, starts_at=ny(TUESDAY, 10))
    finally:
        release.set()
        holder.join()
    assert not Visit.objects.exists()
    # Once the other transaction is done, the same booking goes through.
    assert services.visit_hold(patient=patient, service=infusion, starts_at=ny(TUESDAY, 10)).pk


def test_cancel_and_rebook_racing(clock, infusion, nyc):
    first, second = (f.cleared_patient(UserFactory(role="patient")) for _ in range(2))
    visit = services.visit_confirm(
        visit=services.visit_hold(patient=first, service=infusion, starts_at=ny(TUESDAY, 10))
    )

    results = race_kinds(
        lambda: services.visit_cancel(visit=visit, by=CancelledBy.PATIENT, actor=first),
        lambda: services.visit_hold(patient=second, service=infusion, starts_at=ny(TUESDAY, 10)),
    )

    assert results[0][0] == "ok"
    assert results[1][0] in ("ok", "taken"), results
    blocking = Visit.objects.filter(status__in=["held", "confirmed"])
    assert blocking.count() == (1 if results[1][0] == "ok" else 0)


def test_a_cancellation_in_words_of_danger_and_a_phq9_item_9_at_once_both_go_through(clock, infusion, nyc, monkeypatch):
    """The two paths to a safety alert that touch schedule rows: a patient cancelling one visit in
    words that suggest danger (visit rows, then the alert) and the same patient's PHQ-9 with item 9
    above 0 (the alert, whose holds then lock the visits). The profile comes first in the one lock
    order, so they queue instead of deadlocking. The hooks make the bad interleaving happen: the
    questionnaire, holding the profile, waits until the cancellation holds its visit (or 2 s)."""
    from patients import services as patient_services
    from patients.models import PatientProfile, SafetyAlert, SafetyReason
    from patients.tests.factories import screening

    patient = f.cleared_patient(UserFactory(role="patient"))
    cancelled, other = (
        services.visit_confirm(
            visit=services.visit_hold(patient=patient, service=infusion, starts_at=ny(TUESDAY + timedelta(days=d), 10))
        )
        for d in (1, 3)
    )
    visit_locked_by_cancel = threading.Event()
    original_locked, original_announce = services.visits.visit_locked, patient_services.infusion_safety_announce

    def locked_then_tell(visit):
        current = original_locked(visit)
        if threading.current_thread().name == "cancel":
            visit_locked_by_cancel.set()
        return current

    def announce_after_the_cancel_has_its_visit(**kwargs):
        if threading.current_thread().name == "phq9":
            visit_locked_by_cancel.wait(2)
        return original_announce(**kwargs)

    monkeypatch.setattr(services.visits, "visit_locked", locked_then_tell)
    monkeypatch.setattr(patient_services, "infusion_safety_announce", announce_after_the_cancel_has_its_visit)

    def cancel():
        threading.current_thread().name = "cancel"
        return services.visit_cancel(
            visit=cancelled, by=CancelledBy.PATIENT, reason="I can't go on, I want to end my life.", actor=patient
        )

    def phq9():
        threading.current_thread().name = "phq9"
        return screening(patient, "phq9", answers=[2, 2, 2, 2, 2, 2, 2, 2, 2])

    results = race_kinds(cancel, phq9)

    assert [kind for kind, _ in results] == ["ok", "ok"], results
    assert Visit.objects.get(pk=cancelled.pk).status == VisitStatus.CANCELLED
    assert Visit.objects.get(pk=other.pk).status == VisitStatus.ON_HOLD
    assert sorted(SafetyAlert.objects.filter(patient=patient).values_list("reason", flat=True)) == sorted(
        [SafetyReason.CANCELLATION, SafetyReason.PHQ9_ITEM9]
    )
    assert PatientProfile.objects.get(user=patient).safety_review_required
