"""The nurse's day: the clock stands on Tuesday 3 March 2026, 9:00 in New York (14:00 UTC).

Nia (the cast's nurse, Provider base 10001) has a 10:00 home infusion for Pat (the cast's patient,
10011, 80 kg, plan 0.5 mg/kg over 40 minutes, allergic to latex, treated hypertension).
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from notifications.gateways import sms
from nurses.tests import factories as f

NY = ZoneInfo("America/New_York")
TODAY = date(2026, 3, 3)
NOW = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)


def ny(hour, minute=0, day=TODAY):
    return datetime.combine(day, time(hour, minute), tzinfo=NY).astimezone(UTC)


@pytest.fixture(autouse=True)
def sms_outbox():
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def nia(nurse):
    return f.ProviderFactory(user=nurse)


@pytest.fixture
def plan(patient):
    _user, clearance = f.patient_with_plan(
        patient, hypertension="controlled", has_allergies=True, allergies="Latex (hives)"
    )
    return clearance


@pytest.fixture
def visit(clock, nia, patient, plan):
    return f.visit_for(nia, patient, plan, ny(10))


@pytest.fixture
def nurse_client(client, nurse, nia):
    client.force_login(nurse)
    return client
