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
