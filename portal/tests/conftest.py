import pytest

from patients.tests.conftest import daytime, other_profile, profile, sms_sent  # noqa: F401  (shared fixtures)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
