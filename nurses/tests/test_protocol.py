"""The protocol's numbers: warnings exactly past each limit, plausible ranges, the dose arithmetic."""

from decimal import Decimal

import pytest

from nurses import protocol

CALM = {"systolic": 120, "diastolic": 80, "heart_rate": 72, "spo2": 98, "respiratory_rate": 14}


@pytest.mark.parametrize(
    ("field", "at_limit", "past_limit", "code"),
    [
        ("systolic", 180, 181, "systolic_high"),
        ("diastolic", 110, 111, "diastolic_high"),
        ("heart_rate", 130, 131, "heart_rate_high"),
        ("heart_rate", 50, 49, "heart_rate_low"),
        ("spo2", 92, 91, "spo2_low"),
        # Low limits and breathing (issue 14), on by default.
        ("systolic", 90, 89, "systolic_low"),
        ("diastolic", 50, 49, "diastolic_low"),
        ("respiratory_rate", 10, 9, "rr_low"),
        ("respiratory_rate", 24, 25, "rr_high"),
    ],
)
def test_a_limit_warns_only_past_its_value(field, at_limit, past_limit, code):
    assert protocol.vitals_alerts({**CALM, field: at_limit}) == []
    assert protocol.vitals_alerts({**CALM, field: past_limit}) == [code]


def test_a_calm_reading_warns_nothing_and_several_limits_warn_together():
    assert protocol.vitals_alerts(CALM) == []
    reading = {**CALM, "systolic": 190, "diastolic": 115, "spo2": 88}
    assert protocol.vitals_alerts(reading) == ["systolic_high", "diastolic_high", "spo2_low"]
    assert protocol.alert_messages(["systolic_high", "spo2_low"]) == ["Systolic above 180 mmHg", "SpO2 below 92%"]


def test_the_default_limits_are_the_protocol_defaults():
    assert (protocol.SYSTOLIC_MAX, protocol.DIASTOLIC_MAX) == (180, 110)
    assert (protocol.HEART_RATE_MAX, protocol.HEART_RATE_MIN, protocol.SPO2_MIN) == (130, 50, 92)
    assert (protocol.SYSTOLIC_MIN, protocol.DIASTOLIC_MIN) == (90, 50)
    assert (protocol.RESPIRATORY_RATE_MIN, protocol.RESPIRATORY_RATE_MAX) == (10, 24)
    # The baseline's hard stop is the intake's own (one number for both).
    assert protocol.BASELINE_HARD_STOP == (160, 100)
    assert (protocol.OBSERVATION_MINUTES, protocol.VITALS_EVERY_MINUTES) == (30, 15)
    assert (Decimal("1.0"), Decimal("100")) == (protocol.DOSE_MAX_MG_PER_KG, protocol.DOSE_MAX_TOTAL_MG)


def test_a_stored_code_that_a_later_protocol_dropped_still_shows():
    assert protocol.alert_messages(["old_rule"]) == ["old_rule"]


@pytest.mark.parametrize(
    ("weight", "unit", "kg"),
    [
        ("80", "kg", "80.0"),
        ("80.04", "kg", "80.0"),
        ("80.05", "kg", "80.1"),  # half up
        ("180", "lb", "81.6"),  # 81.6466...
        ("150", "lb", "68.0"),  # 68.0388...
        ("165.5", "lb", "75.1"),  # 75.0696...
        ("1", "lb", "0.5"),  # 0.4536
    ],
)
def test_weight_in_kg_from_kg_or_lb_to_one_decimal(weight, unit, kg):
    assert protocol.weight_kg(Decimal(weight), unit) == Decimal(kg)


@pytest.mark.parametrize(
    ("kg", "mg_per_kg", "mg"),
    [
        ("80.0", "0.50", "40.0"),
        ("81.6", "0.50", "40.8"),
        ("68.5", "0.50", "34.3"),  # 34.25 rounds half up
        ("75.1", "0.75", "56.3"),  # 56.325
        ("91.2", "1.00", "91.2"),
        ("64.3", "0.45", "28.9"),  # 28.935
    ],
)
def test_the_dose_is_weight_times_plan_rounded_to_a_tenth_of_a_mg(kg, mg_per_kg, mg):
    assert protocol.dose_mg(Decimal(kg), Decimal(mg_per_kg)) == Decimal(mg)


def test_from_pounds_to_the_dose_in_decimal_arithmetic():
    # 180 lb = 81.6466 kg -> 81.6 kg; x 0.5 = 40.8 mg (not 40.82 from the unrounded weight).
    kg = protocol.weight_kg(Decimal("180"), "lb")
    assert protocol.dose_mg(kg, Decimal("0.5")) == Decimal("40.8")
    assert isinstance(protocol.dose_mg(kg, Decimal("0.5")), Decimal)


def test_a_weight_far_from_the_profile_is_pointed_out():
    assert not protocol.weight_changed_a_lot(Decimal("88.0"), Decimal("80.0"))  # exactly 10%
    assert protocol.weight_changed_a_lot(Decimal("88.1"), Decimal("80.0"))
    assert protocol.weight_changed_a_lot(Decimal("71.9"), Decimal("80.0"))
    assert not protocol.weight_changed_a_lot(Decimal("71.9"), None)


# --- the careful nurse's checks (issue 14): each edge, both sides ---------------------------------


@pytest.mark.parametrize(
    ("systolic", "diastolic", "blocks"),
    [(159, 99, False), (160, 80, True), (130, 100, True), (159, 100, True), (160, 99, True)],
)
def test_a_baseline_at_the_hard_stop_blocks_the_start(systolic, diastolic, blocks):
    assert protocol.baseline_blocks_start(systolic, diastolic) is blocks


@pytest.mark.parametrize(
    ("minutes", "plan", "too_short"),
    [(32, 40, False), (Decimal("31.9"), 40, True), (40, 40, False), (48, 60, False), (47, 60, True)],
)
def test_a_dose_under_80_percent_of_the_plan_asks_for_a_reason(minutes, plan, too_short):
    assert protocol.infusion_too_short(minutes, plan) is too_short


@pytest.mark.parametrize(("minutes", "needed"), [(15, 1), (16, 2), (30, 2), (40, 3), (45, 3), (46, 4), (5, 1)])
def test_one_reading_per_15_minutes_of_infusion_rounded_up(minutes, needed):
    assert protocol.readings_needed(minutes) == needed


@pytest.mark.parametrize(
    ("mg_per_kg", "dose", "refused"),
    [("1.0", "100.0", None), ("1.01", "50.0", "mg/kg"), ("0.5", "100.1", "100 mg per infusion"), ("0.5", "60", None)],
)
def test_the_dose_cap(mg_per_kg, dose, refused):
    why = protocol.dose_over_cap(Decimal(mg_per_kg), Decimal(dose))
    assert (why is None) if refused is None else (refused in str(why))


@pytest.mark.parametrize(
    ("value", "unit", "last_kg", "suggestion"),
    [
        ("176", "kg", "80.0", ("176", "lb")),  # 176 lb = 79.8 kg: the pounds typed as kg
        ("80", "lb", "80.0", ("80", "kg")),  # the kg typed as pounds
        ("185", "kg", "80.0", ("185", "lb")),  # 83.9 kg: within 5 %
        ("186", "kg", "80.0", None),  # 84.4 kg: more than 5 % away, not a unit slip
        ("167", "kg", "80.0", None),  # 75.7 kg: more than 5 % away
        ("176", "lb", "80.0", None),  # right unit
        ("81", "kg", "80.0", None),
        ("176", "kg", None, None),  # nothing recorded yet
    ],
)
def test_a_weight_in_the_wrong_unit_is_caught(value, unit, last_kg, suggestion):
    found = protocol.wrong_unit_suggestion(Decimal(value), unit, Decimal(last_kg) if last_kg else None)
    assert found == ((Decimal(suggestion[0]), suggestion[1]) if suggestion else None)


@pytest.mark.parametrize(
    ("value", "unit", "refused"),
    [
        ("30", "kg", False),
        ("29.9", "kg", True),
        ("300", "kg", False),
        ("300.1", "kg", True),
        ("66.1", "lb", False),  # 29.98 kg, rounded to 30.0 as the dose uses it
        ("66", "lb", True),  # 29.9 kg
        ("1", "lb", True),  # 0.5 kg: a typing mistake, never a dose
    ],
)
def test_a_weight_outside_30_to_300_kg_is_refused(value, unit, refused):
    refusal = protocol.weight_refusal(Decimal(value), unit, None)
    assert (refusal is not None) == refused
    if refused:
        assert str(refusal) == "Enter a weight between 30 and 300 kg."
