"""The shared New York test world, loaded for every test as a pytest plugin (root conftest.py).

The clock stands on Monday 2 March 2026, 9:00 in New York (14:00 UTC), so "Tuesday" is always
bookable (more than 12 hours ahead) and every expected time can be written down. Maya (the cast's
nurse) serves a New York area with a home infusion and a video evaluation. A test folder whose
conftest defines a fixture of the same name (the nurses' own clock, for example) overrides it.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking.tests import factories as f

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
MONDAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)
WEDNESDAY = date(2026, 3, 4)


def ny(day, hour, minute=0):
    """A New York wall-clock time as an aware datetime in UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=NY).astimezone(UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def infusion(db):
    return f.ServiceFactory()


@pytest.fixture
def evaluation(db):
    return f.EvaluationFactory()


@pytest.fixture
def maya(nurse):
    return f.ProviderFactory(user=nurse)


@pytest.fixture
def nyc(infusion, evaluation, maya):
    return f.ServiceAreaFactory(services=[infusion, evaluation], providers=[maya])


@pytest.fixture
def cleared(clock, patient, nyc):
    """The cast's patient, cleared for six infusions 48 h apart, living at 10001."""
    return f.cleared_patient(patient)


@pytest.fixture
def cleared_too(clock, other_patient, nyc):
    return f.cleared_patient(other_patient)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what the code starts after commit (tasks: refunds, receipts), as a real commit would."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run
