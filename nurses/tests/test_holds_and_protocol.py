"""The nurse under a hold, and the protocol's careful-nurse checks (issue 14).

Tuesday 3 March 2026, 9:00 in New York: Nia has a 10:00 home infusion for Pat (80 kg, 0.5 mg/kg
over 40 minutes). Each check is tested on both sides of its edge.
"""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from booking.models import SafetyHold, VisitStatus
from concierge.errors import ApplicationError
from concierge.tests.factories import UserFactory
from nurses import services
from nurses.models import ChartEvent, DoseRecord, ProtocolOverride
from patients.models import Clearance
from patients.tests.factories import screening

from .conftest import ny

S = VisitStatus
pytestmark = pytest.mark.django_db
ON_CALL = "(888) 555-0142"


def calm(taken_at, **changes):
    values = {"systolic": 124, "diastolic": 78, "heart_rate": 72, "spo2": 98, "respiratory_rate": 14}
    return services.Vitals(taken_at=taken_at, **{**values, **changes})


def check_in(visit, nurse, **changes):
    return services.visit_check_in(
        visit=visit, nurse=nurse, adult_present=True, prep_followed=True, baseline=calm(None, **changes)
    )


def dose(visit, nurse, *, weight="80.0", unit="kg", mg="40.0", start=(10, 20), stop=None, **kwargs):
    return services.dose_record(
        visit=visit,
        nurse=nurse,
        weight=Decimal(weight),
        weight_unit=unit,
        confirmed_dose_mg=Decimal(mg),
        lot_number="KT-1",
        volume_ml=Decimal("100"),
        started_at=ny(*start),
        stopped_at=ny(*stop) if stop else None,
        **kwargs,
    )


def vitals(visit, nurse, hour, minute, **changes):
    return services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(hour, minute), **changes))


def item_9(patient):
    screening(patient, "phq9", answers=[0, 0, 0, 0, 0, 0, 0, 0, 1])


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


# --- under a hold: nothing starts ----------------------------------------------------------------


def test_a_held_visit_cannot_be_started_and_the_nurse_is_told_why_and_whom_to_call(visit, nurse, patient):
    item_9(patient)
    visit.refresh_from_db()
    assert visit.status == S.ON_HOLD

    for step in (
        lambda: services.visit_on_my_way(visit=visit, nurse=nurse),
        lambda: check_in(visit, nurse),
    ):
        with pytest.raises(services.InfusionNotAllowed) as refused:
            step()
        message = str(refused.value.message)
        assert "on hold for clinician review" in message and "Open safety alert" in message
        assert ON_CALL in message
    visit.refresh_from_db()
    assert visit.status == S.ON_HOLD and not hasattr(visit, "chart")


def test_a_warning_sign_after_check_in_stops_the_dose_and_the_vitals_before_it(visit, nurse, patient, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    item_9(patient)  # the visit is under way: not held, but nothing may start
    visit.refresh_from_db()
    assert visit.status == S.IN_PROGRESS and not SafetyHold.objects.exists()

    with pytest.raises(services.InfusionNotAllowed, match=r"Do not start: Open safety alert .* \(888\) 555-0142"):
        dose(visit, nurse, start=(10, 5))
    with pytest.raises(services.InfusionNotAllowed):
        vitals(visit, nurse, 10, 0)
    assert not DoseRecord.objects.exists()
    # The visit can still end properly: stopped, discharged and signed.
    services.visit_stop(visit=visit, nurse=nurse, reason="Safety alert: the on-call clinician said not to start.")


def test_once_the_drug_runs_monitoring_is_never_refused(visit, nurse, patient, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(10, 30))
    dose(visit, nurse, start=(10, 10))
    item_9(patient)

    assert vitals(visit, nurse, 10, 25).kind == "during"
    # Completing the record of the dose already given (its stop time) is never refused either.
    clock.move_to(ny(10, 55))
    assert dose(visit, nurse, start=(10, 10), stop=(10, 50), form_token="stop").stopped_at == ny(10, 50)


def test_a_clearance_that_ran_out_is_refused_at_check_in_before_the_clock_noticed(visit, nurse, plan):
    Clearance.objects.filter(pk=plan.pk).update(expires_on=date(2026, 3, 2))

    with pytest.raises(services.InfusionNotAllowed, match="The clearance ends on March 2, 2026"):
        check_in(visit, nurse)


def test_the_day_list_and_the_visit_page_show_a_red_banner_and_no_start(nurse_client, visit, patient):
    item_9(patient)

    day = text(nurse_client.get(reverse("nurses:today")))
    assert "On hold — clinician review. Do not start this visit." in day
    assert "Open safety alert" in day and f"Call the on-call clinician · {ON_CALL}" in day
    assert reverse("nurses:on_my_way", args=[visit.pk]) not in day
    page = text(nurse_client.get(reverse("nurses:visit", args=[visit.pk])))
    assert "hold-banner" in page and reverse("nurses:check_in", args=[visit.pk]) not in page

    refused = text(
        nurse_client.post(
            reverse("nurses:check_in", args=[visit.pk]),
            {"adult_present": "on", "prep_followed": "on", "systolic": "124", "diastolic": "78",
             "heart_rate": "72", "spo2": "98", "respiratory_rate": "14"},
        )
    )  # fmt: skip
    assert "Do not start" in refused and ON_CALL in refused
    visit.refresh_from_db()
    assert visit.status == S.ON_HOLD


# --- the baseline at the hard stop: a clinician's override ----------------------------------------


@pytest.mark.parametrize(("systolic", "diastolic"), [(160, 90), (150, 100)])
def test_a_baseline_at_the_hard_stop_needs_a_clinicians_override_before_the_dose(
    visit, nurse, clock, systolic, diastolic
):
    clock.move_to(ny(10))
    check_in(visit, nurse, systolic=systolic, diastolic=diastolic)
    clock.move_to(ny(10, 20))

    with pytest.raises(services.ProtocolStop, match="at or above 160/100") as stopped:
        dose(visit, nurse, start=(10, 15))
    assert stopped.value.extra["override"] == "baseline_pressure"
    with pytest.raises(ApplicationError) as refused:
        services.protocol_override_record(visit=visit, nurse=nurse, clinician=UserFactory(role="nurse"), reason=" ")
    assert set(refused.value.extra["fields"]) == {"clinician", "reason"}

    cleo = UserFactory(role="clinician", first_name="Cleo", last_name="Clinician")
    for _ in range(2):
        services.protocol_override_record(
            visit=visit, nurse=nurse, clinician=cleo, reason="Repeat 150/94 after rest; go ahead.", form_token="o1"
        )
    override = ProtocolOverride.objects.get()
    assert (override.clinician, override.recorded_by, override.recorded_at) == (cleo, nurse, ny(10, 20))
    assert ChartEvent.objects.filter(kind="override", summary__contains="Cleo Clinician").count() == 1
    assert dose(visit, nurse, start=(10, 15)).dose_mg == Decimal("40.0")


def test_a_baseline_just_under_the_hard_stop_starts_without_one(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse, systolic=159, diastolic=99)
    clock.move_to(ny(10, 20))
    assert dose(visit, nurse, start=(10, 15)).pk


# --- paused or stopped: no new dose without "resumed" ----------------------------------------------


@pytest.mark.parametrize("action", ["paused", "stopped"])
def test_no_dose_while_the_last_action_was_paused_or_stopped_until_resumed(visit, nurse, clock, action):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(10, 40))
    vitals(visit, nurse, 10, 10, systolic=190, action_taken=action, action_note="BP high")

    with pytest.raises(
        services.ProtocolStop, match=f'last action recorded was "Infusion {action}".*"Infusion resumed"'
    ):
        dose(visit, nurse, start=(10, 20))
    vitals(visit, nurse, 10, 15, action_taken="resumed", action_note="BP 150/90")
    assert dose(visit, nurse, start=(10, 20)).pk


# --- duration: a reason under 80 % of the plan -------------------------------------------------------


def started(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(11, 30))
    dose(visit, nurse, start=(10, 10), form_token="start")


def test_a_dose_of_80_percent_of_the_plan_needs_no_reason(visit, nurse, clock):
    started(visit, nurse, clock)
    assert dose(visit, nurse, start=(10, 10), stop=(10, 42)).stopped_at == ny(10, 42)  # 32 of 40 minutes


def test_a_shorter_dose_needs_a_reason(visit, nurse, clock):
    started(visit, nurse, clock)
    with pytest.raises(services.ProtocolStop, match="ran 31 minutes of the plan's 40") as short:
        dose(visit, nurse, start=(10, 10), stop=(10, 41))
    assert short.value.extra["field"] == "short_reason"
    record = dose(visit, nurse, start=(10, 10), stop=(10, 41), short_reason="Nausea; patient asked to stop.")
    assert record.short_reason == "Nausea; patient asked to stop."


# --- vitals during: one per 15 minutes before the signature ------------------------------------------


def test_the_signature_needs_a_reading_every_15_minutes_of_infusion(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(11, 20))
    dose(visit, nurse, start=(10, 10), stop=(10, 50))  # 40 minutes: 3 readings
    vitals(visit, nurse, 10, 25)
    vitals(visit, nurse, 10, 40)
    vitals(visit, nurse, 11, 20)  # after the stop: observation, not during
    services.discharge_record(
        visit=visit,
        nurse=nurse,
        baseline_mental_status=True,
        vitals_near_baseline=True,
        adult_present=True,
        instructions_given=True,
    )
    with pytest.raises(services.ChartIncomplete) as missing:
        services.chart_sign(visit=visit, nurse=nurse, signature_name=nurse.get_full_name(), confirm=True)
    assert missing.value.extra["missing"] == [
        "Record vitals every 15 minutes during the infusion: 3 readings for 40 minutes, 2 recorded."
    ]
    vitals(visit, nurse, 10, 50)  # at the stop: still during
    assert services.chart_sign(visit=visit, nurse=nurse, signature_name=nurse.get_full_name(), confirm=True)


# --- the observation period before discharge ------------------------------------------------------------


def discharge(visit, nurse):
    return services.discharge_record(
        visit=visit,
        nurse=nurse,
        baseline_mental_status=True,
        vitals_near_baseline=True,
        adult_present=True,
        instructions_given=True,
    )


def test_discharge_waits_30_minutes_after_the_stop_with_a_reading_at_the_end(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(11, 19))
    dose(visit, nurse, start=(10, 10), stop=(10, 50))
    vitals(visit, nurse, 11, 19)  # 29 minutes after the stop

    with pytest.raises(services.ProtocolStop, match=r"Observe the patient for 30 minutes .* until 11:20 AM EST"):
        discharge(visit, nurse)
    clock.move_to(ny(11, 20))
    with pytest.raises(services.ProtocolStop):
        discharge(visit, nurse)  # the time has come, but no reading at its end yet
    vitals(visit, nurse, 11, 20)
    assert discharge(visit, nurse).is_complete


def test_a_dose_without_its_stop_time_cannot_be_discharged(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(11))
    dose(visit, nurse, start=(10, 10))
    with pytest.raises(services.ProtocolStop, match="Add the time the infusion stopped"):
        discharge(visit, nurse)


# --- the dose cap -------------------------------------------------------------------------------------


def test_a_dose_above_100_mg_is_refused_at_the_door(visit, nurse, clock, plan):
    Clearance.objects.filter(pk=plan.pk).update(dose_mg_per_kg=Decimal("1.00"))
    visit.refresh_from_db()
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(10, 20))

    assert dose(visit, nurse, weight="80", mg="80.0", start=(10, 10)).dose_mg == Decimal("80.0")
    with pytest.raises(services.ProtocolStop, match=re.escape("100.1 mg is above the protocol's maximum of 100 mg")):
        dose(visit, nurse, weight="100.1", mg="100.1", start=(10, 15), weight_change_confirmed=True)


def test_a_plan_above_the_mg_per_kg_cap_is_refused_at_the_door(visit, nurse, clock, plan):
    Clearance.objects.filter(pk=plan.pk).update(dose_mg_per_kg=Decimal("1.10"))
    clock.move_to(ny(10))
    check_in(visit, nurse)
    with pytest.raises(services.ProtocolStop, match=r"1.10 mg/kg is above the protocol's maximum of 1.0 mg/kg"):
        dose(visit, nurse, mg="88.0", start=(10, 0))


# --- the weight: the wrong unit, and a big change -------------------------------------------------------


def test_a_weight_in_the_wrong_unit_is_refused_with_did_you_mean(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    with pytest.raises(ApplicationError, match=re.escape("Did you mean 176 lb?")) as wrong:
        dose(visit, nurse, weight="176", unit="kg", mg="88.0", start=(10, 0))
    assert wrong.value.extra["field"] == "weight"
    with pytest.raises(ApplicationError, match=re.escape("Did you mean 80 kg?")):
        dose(visit, nurse, weight="80", unit="lb", mg="18.2", start=(10, 0))
    assert dose(visit, nurse, weight="176", unit="lb", mg="39.9", start=(10, 0)).weight_kg == Decimal("79.8")


def test_a_weight_change_over_10_percent_needs_a_tick(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    assert dose(visit, nurse, weight="88.0", mg="44.0", start=(10, 0)).pk  # exactly 10 %: fine
    with pytest.raises(ApplicationError, match="more than 10% from the last recorded") as big:
        dose(visit, nurse, weight="97.0", mg="48.5", start=(10, 1))  # 88 -> 97: over 10 %
    assert big.value.extra["field"] == "weight_change_confirmed"
    record = dose(visit, nurse, weight="97.0", mg="48.5", start=(10, 1), weight_change_confirmed=True)
    assert record.weight_change_confirmed


def test_the_dose_page_asks_did_you_mean_before_showing_a_dose(nurse_client, visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    page = text(
        nurse_client.post(
            reverse("nurses:dose", args=[visit.pk]),
            {"weight": "176", "weight_unit": "kg", "action": "calculate", "form_token": "d"},
        )
    )
    assert "Did you mean 176 lb? The last recorded weight is 80.0 kg." in page and "88.0 mg" not in page


def test_the_nurse_sees_the_last_recorded_weight(nurse_client, visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    assert "Last recorded weight: 80.0 kg." in text(nurse_client.get(reverse("nurses:dose", args=[visit.pk])))


def test_the_chart_list_counts_each_charts_readings_past_limits(visit, nurse, clock):
    from concierge.testing import VerifiedClient

    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(11, 5))
    vitals(visit, nurse, 10, 30, systolic=190, action_taken="slowed")
    vitals(visit, nurse, 10, 45, heart_rate=140, action_taken="slowed")
    vitals(visit, nurse, 11, 0)
    client = VerifiedClient()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:nurses_visitchart_changelist")).content.decode()

    assert '<td class="field-alerts_count">2</td>' in page


# --- a serious adverse event holds the next infusion -----------------------------------------------


def next_infusion(nia, patient, plan):
    """Pat's next infusion, Friday at 10:00 (the plan keeps 48 hours between two), confirmed."""
    from nurses.tests import factories as f

    return f.visit_for(nia, patient, plan, ny(10, day=date(2026, 3, 6)))


@pytest.mark.parametrize("kind", sorted(__import__("nurses.protocol").protocol.ADVERSE_EVENTS_FOR_REVIEW))
def test_a_serious_adverse_event_charted_with_the_dose_holds_the_next_infusion_for_a_clinician(
    visit, nurse, nia, patient, plan, clock, kind, mailoutbox, settings, django_capture_on_commit_callbacks
):
    from patients.models import PatientProfile, SafetyAlert, SafetyReason

    settings.ONCALL_CLINICIAN_EMAIL = "oncall@clinic.example"
    later = next_infusion(nia, patient, plan)
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(10, 30))

    with django_capture_on_commit_callbacks(execute=True):
        dose(visit, nurse, adverse_events=[kind, "nausea"], adverse_event_note="Settled after stopping")

    alert = SafetyAlert.objects.get()
    assert (alert.patient, alert.adverse_event_visit, alert.reason) == (patient, visit, SafetyReason.ADVERSE_EVENT)
    assert alert.matched_words == [kind] and alert.source_text == "Settled after stopping"
    assert PatientProfile.objects.get(user=patient).safety_review_required
    later.refresh_from_db()
    assert later.status == S.ON_HOLD
    hold = SafetyHold.objects.get(visit=later)
    assert hold.safety is False  # a clinical event, not a danger sign: no crisis panel for the patient
    [email] = [m for m in mailoutbox if m.to == ["oncall@clinic.example"]]
    assert email.subject == "Urgent: a patient needs a safety review"
    assert kind not in email.body and "Settled" not in email.body
    # Today's infusion is under way: its monitoring and its dose's stop time are never refused.
    visit.refresh_from_db()
    assert visit.status == S.IN_PROGRESS
    clock.move_to(ny(10, 50))
    vitals(visit, nurse, 10, 45)
    clock.move_to(ny(11, 10))
    dose(visit, nurse, stop=(11, 0), adverse_events=[kind])  # recorded again: the one alert
    assert SafetyAlert.objects.count() == 1


def test_a_serious_adverse_event_holds_an_infusion_booked_with_another_nurse_too(
    visit, nurse, nia, patient, plan, clock
):
    """The alert's holds lock the other nurse's row after this visit's: taken first, in the one
    lock order (watched under the tests)."""
    from nurses.tests import factories as f

    later = f.visit_for(f.ProviderFactory(), patient, plan, ny(10, day=date(2026, 3, 6)))
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(10, 30))

    dose(visit, nurse, adverse_events=["breathing"])

    later.refresh_from_db()
    assert later.status == S.ON_HOLD


def test_mild_adverse_events_are_charted_without_holding_anything(visit, nurse, nia, patient, plan, clock):
    from patients.models import SafetyAlert

    later = next_infusion(nia, patient, plan)
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(10, 30))

    dose(visit, nurse, adverse_events=["nausea", "headache", "anxiety", "dizziness", "iv_site", "other"])

    assert not SafetyAlert.objects.exists()
    later.refresh_from_db()
    assert later.status == S.CONFIRMED
