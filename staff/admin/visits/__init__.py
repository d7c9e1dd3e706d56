"""The visits staff run the day with, in admin.

Visits are never edited as a form: every change of time, provider or status goes through the
booking services (the guard) or the staff services in staff/services.py. From a visit
(or the list, or the schedule board) staff can:

- reassign it: only providers who are eligible and free at its time are offered
  (`staff.board.reassign_candidates`), and `visit_reassign` re-checks under lock, so a
  nurse booked meanwhile, or without a licence there, is refused with a message;
- cancel it with a reason (the cancellation policy: a staff cancellation is refunded in full);
- refund it in full with a reason (e.g. a late cancellation or a no-show forgiven);
- send the patient a reminder now; mark it a no-show once its time has passed.

The schedule board (`/admin/booking/visit/board/`, a day; `.../board/week/`) lays out each
provider's day: visits, travel, free time, and the visits at risk.

The modules: visit_admin.py (the list and one visit's page; registers VisitAdmin), pages.py (the
board and the one-visit pages), actions.py (the list's actions), filters.py, summary.py (a
visit's local day, summary, chart and money, for all of them).
"""

from .filters import RiskFilter, WhenFilter, clinic_today
from .summary import visit_local_day, visit_payments, visit_summary
from .visit_admin import VisitAdmin

__all__ = [
    "RiskFilter",
    "VisitAdmin",
    "WhenFilter",
    "clinic_today",
    "visit_local_day",
    "visit_payments",
    "visit_summary",
]
