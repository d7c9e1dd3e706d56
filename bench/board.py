#!/usr/bin/env python
"""Benchmark: the staff schedule board (a day, and a week) over big rosters.

    .venv/bin/python bench/board.py            # SQLite in memory
    DATABASE_URL=postgres://... .venv/bin/python bench/board.py

For 1, 10, 50 and 200 nurses, each with four visits a day (booking.testing.build_roster), it times
`booking.board.board_for_day` and `board_for_week` (the queries plus laying out every row, as the
admin page does before rendering) and prints one line per case:

    nurses=50 view=day median_ms=35.0 queries=6

It works in a throwaway test database (test_<name>, created and dropped here).
"""

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concierge.settings.test")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from booking.availability import zone  # noqa: E402
from booking.testing import build_roster  # noqa: E402
from staff.board import board_for_day, board_for_week  # noqa: E402

NURSES = (1, 10, 50, 200)


def timed(work, runs):
    work()  # warm up
    with CaptureQueriesContext(connection) as queries:
        work()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), len(queries)


def main():
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        first_day = timezone.now().astimezone(zone("America/New_York")).date() + timedelta(days=1)
        print(f"# {connection.vendor}, 4 visits a day per nurse")
        for nurses in NURSES:
            with transaction.atomic():
                build_roster(nurses=nurses, days=7, first_day=first_day, visits_per_day=4, prefix=f"n{nurses}")
                runs = 15 if nurses <= 50 else 5
                day_ms, day_queries = timed(lambda: board_for_day(day=first_day), runs)
                week_ms, week_queries = timed(lambda: board_for_week(first_day=first_day), runs)
                transaction.set_rollback(True)
            print(f"nurses={nurses} view=day median_ms={day_ms:.1f} queries={day_queries}", flush=True)
            print(f"nurses={nurses} view=week median_ms={week_ms:.1f} queries={week_queries}", flush=True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
