"""Payments test set-up: a New York nurse, a cleared patient with a held visit, and a fixed clock.

The clock stands on Monday 2 March 2026, 9:00 in New York (14:00 UTC); the held visit is on
Tuesday 3 March at 10:00. Gateway: the fake (settings.test), webhooks signed with the test secret.
"""

import pytest

from booking import services as booking
from booking.tests.world import NOW, NY, TUESDAY, ny  # noqa: F401 (tests import them from here)
from payments.gateways import fake


@pytest.fixture
def held(cleared, infusion):
    """The patient's visit on Tuesday at 10:00, held (deposit $100.00 of $450.00)."""
    return booking.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))


@pytest.fixture(autouse=True)
def fake_delivers_events():
    fake.DELIVER_EVENTS = True
    yield
    fake.DELIVER_EVENTS = True
