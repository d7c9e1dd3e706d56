"""Booking tests use the shared New York world (booking/tests/world.py, loaded for every test):
Maya's NYC area with a home infusion and a video evaluation, cleared patients and a fixed clock on
Monday 2 March 2026, 9:00 in New York."""

from booking.tests.world import MONDAY, NOW, NY, TUESDAY, WEDNESDAY, ny  # noqa: F401 (tests import them from here)
