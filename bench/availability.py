#!/usr/bin/env python
"""Benchmark: one availability search over big rosters.

    .venv/bin/python bench/availability.py            # SQLite in memory
    DATABASE_URL=postgres://... .venv/bin/python bench/availability.py

For 1, 10, 50 and 200 nurses, each with four visits a day (booking.testing.build_roster), it
times one search for a home infusion at a New York address over 14 and 60 days: the selector's
queries plus the pure availability module, as a page does it. It prints one line per case:

    nurses=50 days=14 median_ms=41.2 queries=8

It works in a throwaway test database (test_<name>, created and dropped here), never in the
database DATABASE_URL names.
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

from booking import selectors  # noqa: E402
from booking.availability import zone  # noqa: E402
from booking.testing import build_roster  # noqa: E402
from concierge.models import User  # noqa: E402

NURSES = (1, 10, 50, 200)
DAYS = (14, 60)
VISITS_PER_DAY = 4


def search(service, patient, place, first_day, days):
    return selectors.availability_for(
        service=service,
        place=place,
        patient=patient,
        first_day=first_day,
        last_day=first_day + timedelta(days=days - 1),
    )


def measure(nurses, days, first_day, place):
    with transaction.atomic():
        service, _ = build_roster(
            nurses=nurses, days=max(DAYS), first_day=first_day, visits_per_day=VISITS_PER_DAY, prefix=f"n{nurses}"
        )
        patient = User.objects.create(email=f"bench-patient-{nurses}-{days}@example.com")
        search(service, patient, place, first_day, days)  # warm up: ZIP table, query plans
        with CaptureQueriesContext(connection) as queries:
            slots = search(service, patient, place, first_day, days)
        runs = 15 if nurses * days <= 3000 else 5
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            search(service, patient, place, first_day, days)
            timings.append((time.perf_counter() - started) * 1000)
        transaction.set_rollback(True)
    assert slots, "the benchmark roster should leave free times"
    return statistics.median(timings), len(queries)


def main():
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        place = selectors.VisitPlace.from_zip("10018", city="New York", address_line1="1 Bench Street")
        first_day = timezone.now().astimezone(zone(place.time_zone)).date() + timedelta(days=1)
        print(f"# {connection.vendor}, {VISITS_PER_DAY} visits a day per nurse, home infusion at {place.zip_code}")
        for nurses in NURSES:
            for days in DAYS:
                median_ms, queries = measure(nurses, days, first_day, place)
                print(f"nurses={nurses} days={days} median_ms={median_ms:.1f} queries={queries}", flush=True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
