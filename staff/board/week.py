"""The week's board: seven days side by side, per provider and day the visits, booked and working
time and the visits at risk (the same six queries as a day)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from .day import board_data_load, board_day_build, provider_order, visits_by_day


@dataclass
class WeekCell:
    day: date
    visits: int
    booked_minutes: int
    working_minutes: int
    at_risk: int

    @property
    def utilisation(self):
        return round(100 * self.booked_minutes / self.working_minutes) if self.working_minutes else None


@dataclass
class WeekRow:
    provider: object
    name: str
    kind_label: str
    cells: list


def board_for_week(*, first_day, now=None, days=7):
    """Seven days side by side: per provider and day, visits, booked and working time, risks (six queries)."""
    now = now or timezone.now()
    last_day = first_day + timedelta(days=days - 1)
    data = board_data_load(first_day, last_day)
    week_days = [first_day + timedelta(days=i) for i in range(days)]
    grouped = visits_by_day(data)
    boards = [board_day_build(data, day, now, grouped, layout=False) for day in week_days]
    providers = {}
    for board in boards:
        for row in board.rows:
            providers.setdefault(row.provider.pk, row)
    rows = []
    for provider_id, first_row in sorted(providers.items(), key=lambda item: provider_order(item[1].provider)):
        cells = []
        for board in boards:
            row = next((r for r in board.rows if r.provider.pk == provider_id), None)
            if row is None:
                cells.append(WeekCell(board.day, 0, 0, 0, 0))
            else:
                cells.append(
                    WeekCell(
                        board.day,
                        len([v for v in row.visits if v.visit.is_blocking or v.status_code == "completed"]),
                        row.booked_minutes,
                        row.working_minutes,
                        len([v for v in row.visits if v.risks]),
                    )
                )
        rows.append(WeekRow(first_row.provider, first_row.name, first_row.kind_label, cells))
    unassigned = [len(b.unassigned) for b in boards]
    return {"days": week_days, "rows": rows, "unassigned": unassigned}
