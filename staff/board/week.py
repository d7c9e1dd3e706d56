"""The week's board: seven days side by side, per provider and day the visits, booked and working
time and the visits at risk (the same six queries as a day)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypedDict

from django.utils import timezone

from roster.models import Provider

from .day import BoardRow, board_data_load, board_day_build, provider_order, visits_by_day


@dataclass
class WeekCell:
    day: date
    visits: int
    booked_minutes: int
    working_minutes: int
    at_risk: int

    @property
    def utilisation(self) -> int | None:
        return round(100 * self.booked_minutes / self.working_minutes) if self.working_minutes else None


@dataclass
class WeekRow:
    provider: Provider
    name: str
    kind_label: str
    cells: list[WeekCell]


class Week(TypedDict):
    days: list[date]
    rows: list[WeekRow]
    unassigned: list[int]  # visits without a provider, per day


def board_for_week(*, first_day: date, now: datetime | None = None, days: int = 7) -> Week:
    """Seven days side by side: per provider and day, visits, booked and working time, risks (six queries)."""
    now = now or timezone.now()
    last_day = first_day + timedelta(days=days - 1)
    data = board_data_load(first_day, last_day)
    week_days = [first_day + timedelta(days=i) for i in range(days)]
    grouped = visits_by_day(data)
    boards = [board_day_build(data, day, now, grouped, layout=False) for day in week_days]
    providers: dict[int, BoardRow] = {}
    for board in boards:
        for first_row in board.rows:
            providers.setdefault(first_row.provider.pk, first_row)
    rows: list[WeekRow] = []
    for provider_id, first_row in sorted(providers.items(), key=lambda item: provider_order(item[1].provider)):
        cells: list[WeekCell] = []
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
