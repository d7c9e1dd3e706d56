"""Where a provider may practise: the one place that knows the licensure rules.

A visit in a state needs a licence valid there on the visit date: a licence issued by that
state, or a multistate licence under the Nurse Licensure Compact (NLC) when the visit state
takes part in the compact. The compact covers RN and LPN licences only (APRNs and physicians
need a licence from the visit state itself).

COMPACT_STATES lists the states where a multistate licence is honoured today (NCSBN's list,
2025). States that have passed the compact but not implemented it yet (CT, MA, WA at the time
of writing) are NOT in it: a multistate nurse may not practise there until they are. Staff
should check https://www.nursecompact.com when a state's status changes and edit this list.
"""

from datetime import date

COMPACT_STATES = frozenset(
    {
        "AL", "AZ", "AR", "CO", "DE", "FL", "GA", "ID", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MS",
        "MO", "MT", "NE", "NH", "NJ", "NM", "NC", "ND", "OH", "OK", "PA", "SC", "SD", "TN", "TX", "UT",
        "VT", "VA", "WV", "WI", "WY", "GU", "VI",
    }
)  # fmt: skip

COMPACT_LICENCE_TYPES = frozenset({"RN", "LPN"})


def licence_valid_in(
    *, state: str, licence_type: str, multistate: bool, expires_on: date | None, visit_state: str, on_date: date
) -> bool:
    """True when one licence lets its holder practise in `visit_state` on `on_date`.

    Plain values (not a model) so the availability module can call it on already-loaded data.
    """
    if expires_on is None or on_date > expires_on:
        return False
    if state == visit_state:
        return True
    return (
        multistate
        and licence_type in COMPACT_LICENCE_TYPES
        and state in COMPACT_STATES
        and visit_state in COMPACT_STATES
    )
