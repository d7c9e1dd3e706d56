"""The schedule board staff see in admin, the visits at risk, and which visits a roster change orphans.

`board_for_day(day=...)` and `board_for_week(first_day=...)` load everything in a fixed number of
queries (providers, licences, weekly shifts, date overrides, time off, visits: six, however many
nurses and visits) and lay each provider's day out in memory: visits, the travel before and after
them (the `blocked_from`/`blocked_until` the booking guard wrote), free working time, time off.
Each provider's row is in their own time zone, on a common wall-clock axis (e.g. 7 AM to 7 PM),
measured in 5-minute columns so that the page can draw it with CSS grid classes (no inline styles:
the admin is under the strict Content Security Policy too).

A visit is "at risk" when it has no provider, when the provider has no valid licence in the
visit's state that day or the licence that covers it expires within BOARD_LICENCE_WARNING_DAYS of
the visit, when it is a hold about to run out (BOARD_HOLD_WARNING_MINUTES), when it lies outside
the provider's working hours (the roster changed after it was booked), or when the provider is
no longer active.

One module per use case:

- hours.py: working time and time labels (plain functions, also used by the reports);
- risks.py: why a visit may not happen as booked;
- day.py: the day's board (loading, rows, layout);
- week.py: the week's board;
- reassign.py: who could take a visit at its time;
- orphans.py: the visits a roster change would leave without a valid place.

Callers import from `staff.board`: the names below are its public API.
"""

from .day import Board, BoardRow, BoardVisit, Segment, board_for_day, board_urls_attach, lay_out
from .hours import (
    COLUMN_MINUTES,
    duration_label,
    minutes_between,
    patient_display_name,
    time_range_label,
    working_windows,
)
from .orphans import Orphan, visits_orphaned_by_roster
from .reassign import reassign_candidates, visit_place
from .risks import visit_risks
from .week import WeekCell, WeekRow, board_for_week

__all__ = [
    "COLUMN_MINUTES",
    "Board",
    "BoardRow",
    "BoardVisit",
    "Orphan",
    "Segment",
    "WeekCell",
    "WeekRow",
    "board_for_day",
    "board_for_week",
    "board_urls_attach",
    "duration_label",
    "lay_out",
    "minutes_between",
    "patient_display_name",
    "reassign_candidates",
    "time_range_label",
    "visit_place",
    "visit_risks",
    "visits_orphaned_by_roster",
    "working_windows",
]
