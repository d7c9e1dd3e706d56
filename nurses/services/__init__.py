"""Field work: the visit chart, from "on my way" to the signature (the roster is roster/services.py).

One module per step of a visit, in the order the nurse meets them (the rules every step follows,
and the locks, are in chart.py's docstring):

- chart.py: what the steps share: the visit's clock, the locks, the chart row and its history;
- errors.py: the business errors, each a message for the nurse;
- on_my_way.py: the arrival window texted to the patient;
- running_late.py: the next patient told when an earlier visit runs over;
- check_in.py: at the door: arrival, confirmations and baseline vitals, or a no-show;
- vitals.py: vitals during and after the infusion (and the baseline's checks);
- dose.py: the dose from today's weight and the plan, with the adverse events seen;
- discharge.py: the discharge checklist, or the visit stopped early;
- overrides.py: a clinician's override of a protocol stop (a baseline at the hard-stop pressure);
- sign_off.py: what the signature needs, and the signature that locks the chart;
- amendments.py: corrections to a locked chart.

Callers import from `nurses.services`: the names below are its public API.
"""

from .amendments import chart_amend
from .chart import (
    hold_words,
    infusion_step_check,
    local_moment,
    local_text,
    on_visit_day,
    visit_local_date,
    visit_zone,
)
from .check_in import no_show_refusal, visit_check_in, visit_no_show
from .discharge import discharge_record, visit_stop
from .dose import dose_record, dose_worked_out, last_weight_kg
from .errors import (
    ActionRequired,
    ChartIncomplete,
    ChartLocked,
    DoseChanged,
    InfusionNotAllowed,
    NotOnVisitDay,
    ProtocolStop,
    SignatureMismatch,
    TimeProblem,
    WrongStep,
)
from .on_my_way import ETA_WINDOW_MAX_MINUTES, ETA_WINDOW_MINUTES, eta_estimate, visit_on_my_way
from .overrides import protocol_override_record
from .running_late import visits_running_late_notify
from .sign_off import chart_missing, chart_sign
from .vitals import Vitals, vitals_record

__all__ = [
    "ETA_WINDOW_MAX_MINUTES",
    "ETA_WINDOW_MINUTES",
    "ActionRequired",
    "ChartIncomplete",
    "ChartLocked",
    "DoseChanged",
    "InfusionNotAllowed",
    "NotOnVisitDay",
    "ProtocolStop",
    "SignatureMismatch",
    "TimeProblem",
    "Vitals",
    "WrongStep",
    "chart_amend",
    "chart_missing",
    "chart_sign",
    "discharge_record",
    "dose_record",
    "dose_worked_out",
    "eta_estimate",
    "hold_words",
    "infusion_step_check",
    "last_weight_kg",
    "local_moment",
    "local_text",
    "no_show_refusal",
    "on_visit_day",
    "protocol_override_record",
    "visit_check_in",
    "visit_local_date",
    "visit_no_show",
    "visit_on_my_way",
    "visit_stop",
    "visit_zone",
    "visits_running_late_notify",
    "vitals_record",
]
