import pytest
from django.core.cache import cache

from .factories import PatientProfileFactory


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # The sign-up rate limit counts in the cache; tests must not share counts.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def profile(patient):
    """The cast's patient, with a complete profile."""
    return PatientProfileFactory(user=patient)


@pytest.fixture
def other_profile(other_patient):
    return PatientProfileFactory(user=other_patient, legal_first_name="Olive")


# --- the care-team portal (issue 10) -----------------------------------------------------------------

# A Tuesday, 10:00 in New York: inside the care team's working hours and the hours texts may go.
PORTAL_NOW = "2026-03-03T15:00:00+00:00"


@pytest.fixture
def daytime():
    import time_machine

    with time_machine.travel(PORTAL_NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def sms_sent():
    """Texts the memory gateway 'sent' in this test (like mail.outbox)."""
    from notifications.gateways import sms

    sms.outbox.clear()
    sms.failures.clear()
    yield sms.outbox
    sms.outbox.clear()
    sms.failures.clear()
