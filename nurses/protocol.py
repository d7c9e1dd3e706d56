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
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

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
# Off by default (None); set a number to warn on breathing too.
RESPIRATORY_RATE_MAX: int | None = None
RESPIRATORY_RATE_MIN: int | None = None

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
VITALS_EVERY_MINUTES = 15  # the next reading is due this long after the last one
# A time the nurse types may be this far ahead of the server clock (phones drift a little).
CLOCK_SKEW_MINUTES = 5
# Today's weight differing from the profile by more than this is pointed out (check the scale).
WEIGHT_CHANGE_WARNING = Decimal("0.10")

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


def weight_changed_a_lot(today_kg: DecimalLike, profile_kg: DecimalLike | None) -> bool:
    if not profile_kg:
        return False
    return abs(Decimal(today_kg) - Decimal(profile_kg)) > Decimal(profile_kg) * WEIGHT_CHANGE_WARNING
