"""The infusion protocol's numbers, in ONE place: vital-sign limits, plausible ranges, dose rounding.

HOW TO CHANGE THEM (medical director, with an engineer): edit the constants below, keep the tests
in nurses/tests/test_protocol.py at the new edges (each limit has a "just inside" and a "just
past" case), and note the change in the commit message. Readings already charted keep the
warnings they had when they were recorded (stored on each reading).

Warnings: a reading past a limit warns the nurse at once, and the reading is saved only with the
action taken (paused, slowed, stopped, medication given, escalated). A limit is crossed when the
value is strictly ABOVE a maximum or strictly BELOW a minimum: systolic 180 is fine, 181 warns.

Plausible ranges catch typing mistakes (SpO2 150, heart rate 7): such a value is refused with
a message beside the field and nothing is saved.

Dose: weight in kg (pounds converted with the exact factor) rounded to 0.1 kg, half up; dose =
that weight x the plan's mg/kg, rounded to 0.1 mg, half up. Decimal arithmetic throughout.

What a careful nurse checks before and during the infusion (issue 14), each enforced by the chart
services and tested at its edges:

- a BASELINE at or above the intake's hard-stop pressure (patients/triage_rules.BP_HARD_STOP,
  160/100: the one number for both) blocks the start until a clinician's override is recorded
  (who, when, why); a dose is not recorded while the last action taken was "paused" or
  "stopped" without a "resumed" after it;
- LOW limits warn like the high ones: systolic below 90, diastolic below 50, respiratory rate
  below 10 or above 24 (patients on opioids and benzodiazepines are accepted);
- DURATION: a dose given in less than 80 % of the plan's minutes needs a reason;
- VITALS DURING: one reading per 15 minutes of infusion (rounded up: 40 min -> 3) before the
  chart is signed; an OBSERVATION period after the stop (30 min, with a reading at its end)
  before the discharge checklist is accepted;
- DOSE CAP: at most 1.0 mg/kg and 100 mg per infusion (the clearance form refuses a plan above
  them; the dose step refuses a dose above them);
- WEIGHT in the wrong unit: a weight that matches the last recorded one read in the other unit
  (within 5 %) is refused with "did you mean ...?"; a change of more than 10 % needs a tick; a
  weight outside 30-300 kg is refused (weight_refusal, before any dose is worked out).
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from patients.triage_rules import BP_HARD_STOP

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# A number as the forms, the database or a test give it: Decimal arithmetic takes each exactly.
DecimalLike = Decimal | int | str

# --- warning limits (defaults of the clinical protocol) -----------------------------------------
SYSTOLIC_MAX = 180  # mmHg: warn above
DIASTOLIC_MAX = 110  # mmHg: warn above
HEART_RATE_MAX = 130  # beats/min: warn above
HEART_RATE_MIN = 50  # beats/min: warn below
SPO2_MIN = 92  # %: warn below
SYSTOLIC_MIN = 90  # mmHg: warn below
DIASTOLIC_MIN = 50  # mmHg: warn below
# Breathing: on by default (opioids and benzodiazepines are accepted at triage). None turns one off.
RESPIRATORY_RATE_MAX: int | None = 24
RESPIRATORY_RATE_MIN: int | None = 10

# --- before the start -------------------------------------------------------------------------------
# A baseline at or above this (systolic, diastolic), either number, blocks the start until a
# clinician's override is recorded: the intake's own hard stop (patients/triage_rules.py).
BASELINE_HARD_STOP: tuple[int, int] = BP_HARD_STOP
# The actions that stop the drug, and the one that starts it again (ActionTaken values).
PAUSING_ACTIONS = ("paused", "stopped")
RESUMING_ACTION = "resumed"

# --- what a human can type by mistake: refused, not warned -------------------------------------
PLAUSIBLE: dict[str, tuple[int, int]] = {
    "systolic": (50, 300),
    "diastolic": (20, 200),
    "heart_rate": (20, 250),
    "spo2": (50, 100),
    "respiratory_rate": (4, 60),
}
WEIGHT_KG_RANGE = (Decimal("30"), Decimal("300"))
VOLUME_ML_RANGE = (Decimal("1"), Decimal("1000"))

# --- timing ---------------------------------------------------------------------------------------
VITALS_EVERY_MINUTES = 15  # the next reading is due this long after the last one; one per this, during
# A dose given in less than this share of the plan's minutes needs a reason.
MIN_DURATION_SHARE = Decimal("0.8")
# After the infusion stops: observe this long, with a reading at its end, before discharge.
OBSERVATION_MINUTES = 30
# A time the nurse types may be this far ahead of the server clock (phones drift a little).
CLOCK_SKEW_MINUTES = 5
# Today's weight differing from the last recorded one by more than this needs a confirmation tick.
WEIGHT_CHANGE_WARNING = Decimal("0.10")
# Today's weight read in the other unit within this of the last recorded one: the wrong unit.
WEIGHT_WRONG_UNIT_MATCH = Decimal("0.05")

# --- adverse events a clinician reviews before the next infusion -------------------------------------
# Charting one of these (nurses.models.AdverseEventKind) with the dose raises an alert for the
# on-call clinician and holds the patient's next infusions until a clinician has reviewed it
# (patients.services.safety_alert_raise, adverse_event_visit=). The others (nausea, a headache,
# anxiety, dizziness, an IV site problem, "other") are charted and read at the chart review.
ADVERSE_EVENTS_FOR_REVIEW = frozenset(
    {"blood_pressure", "heart_rate", "breathing", "oversedation", "emergence", "allergic"}
)


def adverse_events_for_review(kinds: Iterable[str]) -> list[str]:
    """Those of the charted adverse events that a clinician reviews before the next infusion."""
    return [kind for kind in dict.fromkeys(kinds) if kind in ADVERSE_EVENTS_FOR_REVIEW]


# --- dose cap ---------------------------------------------------------------------------------------
# The medical director's maximums: a plan above DOSE_MAX_MG_PER_KG is refused by the clearance
# form; a dose above either is refused at the door (call the clinician).
DOSE_MAX_MG_PER_KG = Decimal("1.0")
DOSE_MAX_TOTAL_MG = Decimal("100")

# --- dose arithmetic -------------------------------------------------------------------------------
KG_PER_LB = Decimal("0.45359237")  # exact, by definition
WEIGHT_STEP = Decimal("0.1")  # kg
DOSE_STEP = Decimal("0.1")  # mg


@dataclass(frozen=True)
class Limit:
    code: str
    field: str
    kind: str  # "max" or "min"
    value: int
    message: "StrOrPromise"


def _switched_on(*limits: tuple[str, str, str, int | None, "StrOrPromise"]) -> tuple[Limit, ...]:
    """The limits whose value is set (None: that limit is off)."""
    return tuple(
        Limit(code, field, kind, value, message) for code, field, kind, value, message in limits if value is not None
    )


LIMITS = _switched_on(
    ("systolic_high", "systolic", "max", SYSTOLIC_MAX, _("Systolic above %(limit)s mmHg")),
    ("diastolic_high", "diastolic", "max", DIASTOLIC_MAX, _("Diastolic above %(limit)s mmHg")),
    ("heart_rate_high", "heart_rate", "max", HEART_RATE_MAX, _("Heart rate above %(limit)s/min")),
    ("heart_rate_low", "heart_rate", "min", HEART_RATE_MIN, _("Heart rate below %(limit)s/min")),
    ("spo2_low", "spo2", "min", SPO2_MIN, _("SpO2 below %(limit)s%%")),
    ("systolic_low", "systolic", "min", SYSTOLIC_MIN, _("Systolic below %(limit)s mmHg")),
    ("diastolic_low", "diastolic", "min", DIASTOLIC_MIN, _("Diastolic below %(limit)s mmHg")),
    ("rr_high", "respiratory_rate", "max", RESPIRATORY_RATE_MAX, _("Respiratory rate above %(limit)s/min")),
    ("rr_low", "respiratory_rate", "min", RESPIRATORY_RATE_MIN, _("Respiratory rate below %(limit)s/min")),
)
LIMITS_BY_CODE = {limit.code: limit for limit in LIMITS}


def vitals_alerts(reading: Mapping[str, int | None]) -> list[str]:
    """The codes of the limits this reading crosses, in LIMITS order. `reading` maps field -> int."""
    fired = []
    for limit in LIMITS:
        value = reading.get(limit.field)
        if value is None:
            continue
        if (limit.kind == "max" and value > limit.value) or (limit.kind == "min" and value < limit.value):
            fired.append(limit.code)
    return fired


def alert_messages(codes: Iterable[str]) -> list[str]:
    """Words for stored alert codes; a code a later protocol removed shows as itself."""
    out = []
    for code in codes:
        limit = LIMITS_BY_CODE.get(code)
        out.append(str(limit.message % {"limit": limit.value}) if limit else code)
    return out


def weight_kg(value: DecimalLike, unit: str) -> Decimal:
    """Kilograms from a weight typed in kg or lb, rounded to 0.1 kg (half up)."""
    value = Decimal(value)
    kg = value * KG_PER_LB if unit == "lb" else value
    return kg.quantize(WEIGHT_STEP, rounding=ROUND_HALF_UP)


def dose_mg(weight_in_kg: DecimalLike, mg_per_kg: DecimalLike) -> Decimal:
    """The dose in mg: weight (kg) x plan (mg/kg), rounded to 0.1 mg (half up)."""
    return (Decimal(weight_in_kg) * Decimal(mg_per_kg)).quantize(DOSE_STEP, rounding=ROUND_HALF_UP)


def weight_changed_a_lot(today_kg: DecimalLike, last_kg: DecimalLike | None) -> bool:
    """More than WEIGHT_CHANGE_WARNING from the last recorded weight (10 % is fine, more needs a tick)."""
    if not last_kg:
        return False
    return abs(Decimal(today_kg) - Decimal(last_kg)) > Decimal(last_kg) * WEIGHT_CHANGE_WARNING


# --- the careful nurse's checks (issue 14) -------------------------------------------------------


def baseline_blocks_start(systolic: int, diastolic: int) -> bool:
    """A baseline at or above the hard stop (either number): no start without a clinician's override."""
    return systolic >= BASELINE_HARD_STOP[0] or diastolic >= BASELINE_HARD_STOP[1]


def infusion_too_short(minutes_given: Decimal | float, plan_minutes: int) -> bool:
    """Given in less than MIN_DURATION_SHARE of the plan's minutes (32 of 40 is fine, 31.9 is not)."""
    return Decimal(str(minutes_given)) < Decimal(plan_minutes) * MIN_DURATION_SHARE


def readings_needed(minutes_given: Decimal | float) -> int:
    """Readings during an infusion this long: one per VITALS_EVERY_MINUTES, rounded up (40 -> 3), at least 1."""
    return max(1, math.ceil(Decimal(str(minutes_given)) / VITALS_EVERY_MINUTES))


def dose_over_cap(mg_per_kg: DecimalLike, dose: DecimalLike) -> "StrOrPromise | None":
    """Why a dose is above the protocol's maximums (in words for the nurse), or None."""
    if Decimal(mg_per_kg) > DOSE_MAX_MG_PER_KG:
        return _("The plan's %(plan)s mg/kg is above the protocol's maximum of %(max)s mg/kg.") % {
            "plan": mg_per_kg,
            "max": DOSE_MAX_MG_PER_KG,
        }
    if Decimal(dose) > DOSE_MAX_TOTAL_MG:
        return _("%(dose)s mg is above the protocol's maximum of %(max)s mg per infusion.") % {
            "dose": dose,
            "max": DOSE_MAX_TOTAL_MG,
        }
    return None


def wrong_unit_suggestion(value: DecimalLike, unit: str, last_kg: DecimalLike | None) -> tuple[Decimal, str] | None:
    """(value, the other unit) when `value` read in the other unit matches the last recorded weight.

    180 typed as kg for a patient last weighed at 81.6 kg (180 lb): (180, "lb"), "did you mean 180 lb?".
    """
    if not last_kg:
        return None
    other = "lb" if unit == "kg" else "kg"
    as_typed, as_other = weight_kg(value, unit), weight_kg(value, other)
    last = Decimal(last_kg)
    if abs(as_other - last) <= last * WEIGHT_WRONG_UNIT_MATCH and abs(as_typed - last) > last * WEIGHT_CHANGE_WARNING:
        return Decimal(value), other
    return None


def wrong_unit_message(value: DecimalLike, unit: str, last_kg: DecimalLike | None) -> "StrOrPromise | None":
    """The "did you mean ...?" refusal of a weight typed in the wrong unit (the form's and the dose service's)."""
    suggestion = wrong_unit_suggestion(value, unit, last_kg)
    if suggestion is None:
        return None
    return _("Did you mean %(value)s %(unit)s? The last recorded weight is %(last)s kg.") % {
        "value": suggestion[0],
        "unit": suggestion[1],
        "last": last_kg,
    }


def weight_refusal(value: DecimalLike, unit: str, last_kg: DecimalLike | None) -> "StrOrPromise | None":
    """Why today's weight is refused, or None: outside WEIGHT_KG_RANGE (a typing mistake), or the
    wrong unit. THE check of a weight: the dose page's form (working out the dose and recording
    it) and the dose service both ask it, so no dose is ever shown for a weight that cannot be
    recorded."""
    low, high = WEIGHT_KG_RANGE
    if not low <= weight_kg(value, unit) <= high:
        return _("Enter a weight between %(low)s and %(high)s kg.") % {"low": low, "high": high}
    return wrong_unit_message(value, unit, last_kg)
