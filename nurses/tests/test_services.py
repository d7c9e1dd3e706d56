"""Field work services: on my way, check-in, vitals, dose, discharge, sign-off, amendments, no-show, stop."""

from datetime import timedelta
from decimal import Decimal

import pytest

from booking.models import VisitStatus
from booking.services import visit_transition
from concierge.errors import ApplicationError, InvalidState, NotAllowed
from concierge.tests.factories import UserFactory
from notifications.content import forbidden_words_in, render
from notifications.models import Channel, Message
from nurses import services
from nurses.models import (
    AdverseEvent,
    ChartAmendment,
    ChartEvent,
    ChartOutcome,
    DischargeChecklist,
    DoseRecord,
    ReadingKind,
    VisitChart,
    VitalsReading,
)

from . import factories as f
from .conftest import ny

S = VisitStatus
pytestmark = pytest.mark.django_db


def calm(taken_at, **changes):
    values = {
        "systolic": 124,
        "diastolic": 78,
        "heart_rate": 72,
        "spo2": 98,
        "respiratory_rate": 14,
        "sedation_note": "calm",
    }
    values.update(changes)
    return services.Vitals(taken_at=taken_at, **values)


def check_in(visit, nurse, **changes):
    return services.visit_check_in(
        visit=visit, nurse=nurse, adult_present=True, prep_followed=True, baseline=calm(None, **changes)
    )


def record_dose(visit, nurse, *, weight="80.0", unit="kg", dose="40.0", start=(10, 20), stop=(11, 0), **kwargs):
    return services.dose_record(
        visit=visit,
        nurse=nurse,
        weight=Decimal(weight),
        weight_unit=unit,
        confirmed_dose_mg=Decimal(dose),
        lot_number="KT-2231",
        volume_ml=Decimal("100"),
        started_at=ny(*start),
        stopped_at=ny(*stop) if stop else None,
        **kwargs,
    )


def discharge(visit, nurse, **changes):
    values = {
        "baseline_mental_status": True,
        "vitals_near_baseline": True,
        "adult_present": True,
        "instructions_given": True,
    }
    values.update(changes)
    return services.discharge_record(visit=visit, nurse=nurse, **values)


def ready_to_sign(visit, nurse, clock):
    """A whole visit by the protocol: a 40-minute dose (10:20-11:00) with a reading every 15
    minutes while it ran (3), then 30 minutes' observation with a reading at its end, discharge."""
    clock.move_to(ny(10, 5))
    check_in(visit, nurse)
    clock.move_to(ny(11, 10))
    record_dose(visit, nurse)
    for hour, minute in ((10, 35), (10, 50), (11, 0)):
        services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(hour, minute)))
    clock.move_to(ny(11, 30))
    services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(11, 30)))
    discharge(visit, nurse)


# --- on my way --------------------------------------------------------------------------------


def test_on_my_way_texts_an_arrival_window_and_moves_the_visit_en_route(
    visit, nurse, sms_outbox, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        chart = services.visit_on_my_way(visit=visit, nurse=nurse)

    visit.refresh_from_db()
    assert visit.status == S.EN_ROUTE
    # From the home base 10001 to 10011: the minimum 15 minutes; leaving at 9:00 -> 9:15-9:35.
    assert (chart.eta_from, chart.eta_until) == (ny(9, 15), ny(9, 35))
    assert chart.on_my_way_at == ny(9) and not chart.eta_entered
    message = Message.objects.get(visit=visit, template="on_my_way")
    assert message.channel == Channel.SMS
    text = render(message).text
    assert "9:15-9:35 AM EST" in text and text.startswith("Hi Pat,")
    assert forbidden_words_in(text) == []
    assert [(m.to, m.body) for m in sms_outbox] == [("+12125550143", text)]
    assert ChartEvent.objects.get(chart=chart).kind == "on_my_way"


def test_tapping_on_my_way_twice_sends_one_text(visit, nurse, sms_outbox, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.visit_on_my_way(visit=visit, nurse=nurse)
        clock.shift(timedelta(minutes=2))
        second = services.visit_on_my_way(visit=visit, nurse=nurse)

    assert first.pk == second.pk and second.eta_from == first.eta_from
    assert Message.objects.filter(visit=visit, template="on_my_way").count() == 1
    assert len(sms_outbox) == 1
    assert ChartEvent.objects.filter(kind="on_my_way").count() == 1


def test_undoing_en_route_and_tapping_again_still_sends_one_text(visit, nurse, sms_outbox, clock):
    services.visit_on_my_way(visit=visit, nurse=nurse)
    visit_transition(visit=visit, to=S.CONFIRMED)
    services.visit_on_my_way(visit=visit, nurse=nurse)

    assert Message.objects.filter(visit=visit, template="on_my_way").count() == 1


def test_the_estimate_starts_from_the_previous_stop(visit, nurse, nia, clock, other_patient):
    user, clearance = f.patient_with_plan(other_patient, zip_code="10003")
    earlier = f.visit_for(nia, user, clearance, ny(7), minutes=120)  # ends 9:00, still confirmed

    clock.move_to(ny(8, 30))
    eta_from, eta_until = services.eta_estimate(visit=visit)
    # Leaves 10003 when that visit ends (9:00), not now (8:30); 10003 -> 10011 is the 15-minute minimum.
    assert (eta_from, eta_until) == (ny(9, 15), ny(9, 35))

    f_earlier = earlier
    f_earlier.status = S.COMPLETED
    f_earlier.save()
    assert services.eta_estimate(visit=visit) == (ny(8, 45), ny(9, 5))  # done: leaves now


def test_the_nurse_may_enter_the_window(visit, nurse, clock):
    chart = services.visit_on_my_way(visit=visit, nurse=nurse, eta_from=ny(9, 40), eta_until=ny(10))

    assert (chart.eta_from, chart.eta_until, chart.eta_entered) == (ny(9, 40), ny(10), True)
    message = Message.objects.get(visit=visit, template="on_my_way")
    assert "9:40-10:00 AM EST" in render(message).text


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [((10, 0), (9, 40), "eta_until"), ((9, 0), (11, 30), "eta_until"), ((7, 0), (8, 0), "eta_until")],
)
def test_an_entered_window_must_make_sense(visit, nurse, clock, start, end, field):
    with pytest.raises(services.TimeProblem) as error:
        services.visit_on_my_way(visit=visit, nurse=nurse, eta_from=ny(*start), eta_until=ny(*end))
    assert error.value.extra["field"] == field
    visit.refresh_from_db()
    assert visit.status == S.CONFIRMED and not Message.objects.filter(template="on_my_way").exists()


def test_on_my_way_only_on_the_visit_day_and_only_by_its_nurse(visit, nurse, clock):
    clock.move_to(ny(9) - timedelta(days=1))
    with pytest.raises(services.NotOnVisitDay):
        services.visit_on_my_way(visit=visit, nurse=nurse)
    clock.move_to(ny(9))
    with pytest.raises(NotAllowed):
        services.visit_on_my_way(visit=visit, nurse=UserFactory(role="nurse"))
    assert not VisitChart.objects.exists()


# --- check-in ---------------------------------------------------------------------------------


def test_check_in_records_arrival_confirmations_location_and_baseline(visit, nurse, clock):
    services.visit_on_my_way(visit=visit, nurse=nurse)
    clock.move_to(ny(9, 50))
    chart = services.visit_check_in(
        visit=visit,
        nurse=nurse,
        adult_present=True,
        prep_followed=True,
        baseline=calm(None),
        latitude=Decimal("40.741895"),
        longitude=Decimal("-73.998982"),
        accuracy_m=12,
    )

    visit.refresh_from_db()
    assert visit.status == S.IN_PROGRESS
    assert chart.arrived_at == ny(9, 50) and chart.adult_present and chart.prep_followed
    assert (chart.arrival_latitude, chart.arrival_longitude, chart.arrival_accuracy_m) == (
        Decimal("40.741895"),
        Decimal("-73.998982"),
        12,
    )
    baseline = VitalsReading.objects.get(chart=chart)
    assert (baseline.kind, baseline.taken_at, baseline.systolic, baseline.recorded_by) == (
        ReadingKind.BASELINE,
        ny(9, 50),
        124,
        nurse,
    )
    assert list(chart.events.values_list("kind", flat=True)) == ["on_my_way", "check_in", "vitals"]


def test_check_in_without_on_my_way_sends_no_text_and_twice_is_once(visit, nurse, clock):
    first = check_in(visit, nurse)
    second = check_in(visit, nurse, systolic=150)

    assert first.pk == second.pk
    assert VitalsReading.objects.count() == 1 and VitalsReading.objects.get().systolic == 124
    assert not Message.objects.filter(template="on_my_way").exists()
    visit.refresh_from_db()
    assert visit.status == S.IN_PROGRESS


def test_check_in_needs_the_adult_and_the_prep(visit, nurse, clock):
    with pytest.raises(ApplicationError) as error:
        services.visit_check_in(visit=visit, nurse=nurse, adult_present=False, prep_followed=False, baseline=calm(None))
    assert set(error.value.extra["fields"]) == {"adult_present", "prep_followed"}
    visit.refresh_from_db()
    assert visit.status == S.CONFIRMED and not VisitChart.objects.exists()


def test_a_baseline_past_the_limits_needs_the_action_and_then_keeps_it(visit, nurse, clock):
    with pytest.raises(services.ActionRequired) as error:
        check_in(visit, nurse, systolic=186)
    assert error.value.extra["alerts"] == ["systolic_high"]
    visit.refresh_from_db()
    assert visit.status == S.CONFIRMED and not VitalsReading.objects.exists()  # nothing half-written

    check_in(visit, nurse, systolic=186, action_taken="escalated", action_note="Called Dr Okafor: wait 15 min")
    reading = VitalsReading.objects.get()
    assert (reading.alerts, reading.action_taken) == (["systolic_high"], "escalated")


# --- vitals -----------------------------------------------------------------------------------


def test_vitals_before_check_in_are_refused(visit, nurse, clock):
    with pytest.raises(services.WrongStep):
        services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(9)))


@pytest.mark.parametrize(
    ("changes", "alerts"),
    [
        ({"systolic": 180, "diastolic": 110, "heart_rate": 130, "spo2": 92}, []),
        ({"systolic": 181}, ["systolic_high"]),
        ({"diastolic": 111}, ["diastolic_high"]),
        ({"heart_rate": 131}, ["heart_rate_high"]),
        ({"heart_rate": 49}, ["heart_rate_low"]),
        ({"spo2": 91}, ["spo2_low"]),
    ],
)
def test_readings_at_the_edges_of_the_limits(visit, nurse, clock, changes, alerts):
    check_in(visit, nurse)
    clock.move_to(ny(9, 15))
    if alerts:
        with pytest.raises(services.ActionRequired):
            services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(9, 15), **changes))
        assert VitalsReading.objects.count() == 1  # only the baseline
        changes = {**changes, "action_taken": "slowed"}
    reading = services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(9, 15), **changes))
    assert reading.alerts == alerts and reading.kind == ReadingKind.DURING


def test_implausible_vitals_are_refused_with_the_field(visit, nurse, clock):
    check_in(visit, nurse)
    with pytest.raises(ApplicationError) as error:
        services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(9), spo2=150, diastolic=130))
    assert set(error.value.extra["fields"]) == {"spo2", "diastolic"}


def test_a_form_sent_twice_records_one_reading_and_times_must_be_real(visit, nurse, clock):
    check_in(visit, nurse)
    clock.move_to(ny(9, 20))
    for _ in range(2):
        services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(9, 15)), form_token="tok-1")
    assert VitalsReading.objects.filter(kind=ReadingKind.DURING).count() == 1

    with pytest.raises(services.TimeProblem):
        services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(9, 40)))  # 20 minutes ahead
    with pytest.raises(services.TimeProblem):
        services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(8, 30)))  # before arriving


def test_readings_after_the_dose_stopped_are_after_the_infusion(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(11, 10))
    record_dose(visit, nurse, start=(10, 10), stop=(10, 50))
    services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(10, 30)))
    services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(11, 5)))
    kinds = list(VitalsReading.objects.order_by("taken_at").values_list("kind", flat=True))
    assert kinds == ["baseline", "during", "after"]


# --- dose -------------------------------------------------------------------------------------


def test_the_dose_is_computed_from_todays_weight_in_kg_or_lb(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(11, 10))
    record = record_dose(
        visit,
        nurse,
        weight="180",
        unit="lb",
        dose="40.8",
        adverse_events=["nausea"],
        adverse_event_note="Mild, settled with rest",
    )

    assert (record.weight_entered, record.weight_unit, record.weight_kg) == (Decimal("180.0"), "lb", Decimal("81.6"))
    assert (record.dose_mg_per_kg, record.dose_mg, record.lot_number) == (Decimal("0.50"), Decimal("40.8"), "KT-2231")
    event = AdverseEvent.objects.get()
    assert (event.kind, event.note) == ("nausea", "Mild, settled with rest")


def test_a_dose_that_does_not_match_what_the_nurse_confirmed_is_not_saved(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(11, 10))
    with pytest.raises(services.DoseChanged) as error:
        record_dose(visit, nurse, weight="82", unit="kg", dose="40.0")
    assert error.value.extra["dose_mg"] == Decimal("41.0")
    assert not DoseRecord.objects.exists()
    with pytest.raises(ApplicationError):
        record_dose(visit, nurse, weight="20", unit="kg", dose="10.0")  # not a plausible adult weight


def test_recording_the_dose_again_supersedes_and_keeps_the_first(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(10, 30))
    first = record_dose(visit, nurse, start=(10, 10), stop=None, form_token="a")
    record_dose(visit, nurse, start=(10, 10), stop=None, form_token="a")  # the same form again
    clock.move_to(ny(11))
    second = record_dose(visit, nurse, start=(10, 10), stop=(10, 50), form_token="b")

    assert list(DoseRecord.objects.order_by("id")) == [first, second]
    first.refresh_from_db()
    assert first.stopped_at is None and second.stopped_at == ny(10, 50)
    with pytest.raises(ValueError):
        first.save()  # clinical rows are never changed


def test_stop_time_must_follow_start(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(11, 10))
    with pytest.raises(services.TimeProblem) as error:
        record_dose(visit, nurse, start=(10, 30), stop=(10, 20))
    assert error.value.extra["field"] == "stopped_at"


# --- discharge and sign-off -------------------------------------------------------------------


def test_every_discharge_item_is_required(visit, nurse, clock):
    check_in(visit, nurse)
    with pytest.raises(ApplicationError) as error:
        discharge(visit, nurse, instructions_given=False, adult_present=False)
    assert set(error.value.extra["fields"]) == {"instructions_given", "adult_present"}
    assert not DischargeChecklist.objects.exists()


def test_the_chart_cannot_be_signed_before_it_is_complete(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    with pytest.raises(services.ChartIncomplete) as error:
        services.chart_sign(visit=visit, nurse=nurse, signature_name=nurse.get_full_name(), confirm=True)
    assert error.value.extra["missing"] == [
        "Record vitals during or after the infusion.",
        "Record the dose.",
        "Complete the discharge checklist.",
    ]
    clock.move_to(ny(11, 10))
    record_dose(visit, nurse, stop=None)
    services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(11)))
    with pytest.raises(services.ChartIncomplete) as error:
        services.chart_sign(visit=visit, nurse=nurse, signature_name=nurse.get_full_name(), confirm=True)
    assert error.value.extra["missing"] == [
        "Add the time the infusion stopped to the dose.",
        "Complete the discharge checklist.",
    ]
    visit.refresh_from_db()
    assert visit.status == S.IN_PROGRESS


def test_signing_needs_the_nurses_own_name_and_the_confirmation(visit, nurse, clock):
    ready_to_sign(visit, nurse, clock)
    with pytest.raises(services.SignatureMismatch):
        services.chart_sign(visit=visit, nurse=nurse, signature_name="Someone Else", confirm=True)
    with pytest.raises(services.SignatureMismatch):
        services.chart_sign(visit=visit, nurse=nurse, signature_name=nurse.get_full_name(), confirm=False)
    assert VisitChart.objects.get().signed_at is None


def test_signing_locks_the_chart_and_completes_the_visit_once(visit, nurse, clock):
    ready_to_sign(visit, nurse, clock)
    name = f"  {nurse.first_name.lower()}   {nurse.last_name.upper()} "
    chart = services.chart_sign(visit=visit, nurse=nurse, signature_name=name, confirm=True)
    again = services.chart_sign(visit=visit, nurse=nurse, signature_name="whatever", confirm=False)

    visit.refresh_from_db()
    assert visit.status == S.COMPLETED
    assert chart.pk == again.pk and again.signed_at == ny(11, 30) and chart.is_locked
    assert chart.outcome == ChartOutcome.COMPLETED and chart.signed_by == nurse
    assert ChartEvent.objects.filter(kind="signed").count() == 1
    with pytest.raises(services.ChartLocked):
        services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(11, 9)))
    with pytest.raises(services.ChartLocked):
        record_dose(visit, nurse, form_token="new")
    with pytest.raises(services.ChartLocked):
        discharge(visit, nurse)


def test_amendments_after_signing_keep_the_original(visit, nurse, clock):
    ready_to_sign(visit, nurse, clock)
    with pytest.raises(services.WrongStep):
        services.chart_amend(visit=visit, nurse=nurse, section="dose", text="x", reason="y")
    services.chart_sign(visit=visit, nurse=nurse, signature_name=nurse.get_full_name(), confirm=True)
    dose_before = list(DoseRecord.objects.values())
    clock.move_to(ny(15))

    for _ in range(2):
        services.chart_amend(
            visit=visit,
            nurse=nurse,
            section="dose",
            text="Volume was 90 mL, not 100 mL.",
            reason="Typed from the wrong bag label.",
            form_token="amend-1",
        )

    amendment = ChartAmendment.objects.get()
    assert (amendment.amended_by, amendment.amended_at, amendment.section) == (nurse, ny(15), "dose")
    assert list(DoseRecord.objects.values()) == dose_before
    assert ChartEvent.objects.filter(kind="amended").count() == 1
    with pytest.raises(ApplicationError):
        services.chart_amend(visit=visit, nurse=nurse, section="dose", text="", reason="")


# --- the other endings --------------------------------------------------------------------------


def test_a_stopped_visit_still_needs_discharge_and_signature_and_ends_completed_as_stopped(visit, nurse, clock):
    clock.move_to(ny(10))
    check_in(visit, nurse)
    clock.move_to(ny(10, 30))
    record_dose(visit, nurse, start=(10, 10), stop=None)
    services.visit_stop(visit=visit, nurse=nurse, reason="Severe nausea; patient asked to stop.")
    services.visit_stop(visit=visit, nurse=nurse, reason="again")  # twice: once

    chart = VisitChart.objects.get()
    assert (chart.stopped_at, chart.stop_reason) == (ny(10, 30), "Severe nausea; patient asked to stop.")
    with pytest.raises(services.ChartIncomplete) as error:
        services.chart_sign(visit=visit, nurse=nurse, signature_name=nurse.get_full_name(), confirm=True)
    assert "Add the time the infusion stopped to the dose." in error.value.extra["missing"]
    services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(10, 20)))
    record_dose(visit, nurse, start=(10, 10), stop=(10, 25), short_reason="Severe nausea.", form_token="stop")
    clock.move_to(ny(10, 55))
    services.vitals_record(visit=visit, nurse=nurse, vitals=calm(ny(10, 55)))
    discharge(visit, nurse)
    chart = services.chart_sign(visit=visit, nurse=nurse, signature_name=nurse.get_full_name(), confirm=True)

    visit.refresh_from_db()
    assert visit.status == S.COMPLETED and chart.outcome == ChartOutcome.STOPPED
    assert ChartEvent.objects.filter(kind="stopped").count() == 1


def test_no_show_from_the_start_time_with_a_reason_locks_the_chart(visit, nurse, clock):
    services.visit_on_my_way(visit=visit, nurse=nurse)
    with pytest.raises(InvalidState):
        services.visit_no_show(visit=visit, nurse=nurse, reason="Nobody home")  # 9:00, visit at 10:00
    clock.move_to(ny(10, 20))
    with pytest.raises(ApplicationError):
        services.visit_no_show(visit=visit, nurse=nurse, reason="  ")
    chart = services.visit_no_show(visit=visit, nurse=nurse, reason="Nobody answered; called twice.")
    services.visit_no_show(visit=visit, nurse=nurse, reason="again")

    visit.refresh_from_db()
    assert visit.status == S.NO_SHOW
    assert chart.outcome == ChartOutcome.NO_SHOW and chart.is_locked
    assert chart.no_show_reason == "Nobody answered; called twice."
    assert ChartEvent.objects.filter(kind="no_show").count() == 1


def test_a_started_visit_cannot_be_a_no_show(visit, nurse, clock):
    check_in(visit, nurse)
    clock.move_to(ny(10, 30))
    with pytest.raises(services.WrongStep):
        services.visit_no_show(visit=visit, nurse=nurse, reason="x")


def test_every_change_is_in_the_history_with_who_and_when(visit, nurse, clock):
    services.visit_on_my_way(visit=visit, nurse=nurse)
    ready_to_sign(visit, nurse, clock)
    services.chart_sign(visit=visit, nurse=nurse, signature_name=nurse.get_full_name(), confirm=True)

    events = list(ChartEvent.objects.values_list("kind", "actor", "at"))
    assert [kind for kind, _, _ in events] == [
        "on_my_way",
        "check_in",
        "vitals",
        "dose",
        "vitals",
        "vitals",
        "vitals",
        "vitals",
        "discharge",
        "signed",
    ]
    assert {actor for _, actor, _ in events} == {nurse.pk}
    assert events[0][2] == ny(9) and events[-1][2] == ny(11, 30)


def test_an_infusion_starts_after_the_check_in_and_not_in_the_future(visit, nurse, clock):
    clock.move_to(ny(10, 16))
    check_in(visit, nurse)
    for start, why in (((10, 15), "cannot be before 10:16 AM EST"), ((10, 22), "cannot be in the future")):
        with pytest.raises(services.TimeProblem, match=why) as error:
            record_dose(visit, nurse, start=start, stop=None)
        assert (error.value.code, error.value.extra["field"]) == ("time_problem", "started_at")
    assert record_dose(visit, nurse, start=(10, 16), stop=None).started_at == ny(10, 16)
