"""Payments test set-up: a New York nurse, a cleared patient with a held visit, and a fixed clock.

The clock stands on Monday 2 March 2026, 9:00 in New York (14:00 UTC); the held visit is on
Tuesday 3 March at 10:00. Gateway: the fake (settings.test), webhooks signed with the test secret.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking import services as booking
from booking.payments.gateways import fake
from booking.tests import factories as bf

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
TUESDAY = date(2026, 3, 3)


def ny(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=NY).astimezone(UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def infusion(db):
    return bf.ServiceFactory()


@pytest.fixture
def maya(nurse):
    return bf.ProviderFactory(user=nurse)


@pytest.fixture
def nyc(infusion, maya):
    return bf.ServiceAreaFactory(services=[infusion], providers=[maya])


@pytest.fixture
def cleared(clock, patient, nyc):
    return bf.cleared_patient(patient)


@pytest.fixture
def cleared_too(clock, other_patient, nyc):
    return bf.cleared_patient(other_patient)


@pytest.fixture
def held(cleared, infusion):
    """The patient's visit on Tuesday at 10:00, held (deposit $100.00 of $450.00)."""
    return booking.appointment_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what the code starts after commit (tasks: refunds, receipts), as a real commit would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture(autouse=True)
def fake_delivers_events():
    fake.DELIVER_EVENTS = True
    yield
    fake.DELIVER_EVENTS = True
