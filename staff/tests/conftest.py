"""Staff admin test set-up: a New York area with two nurses (Maya, Priya), a cleared patient, a fixed
clock, and logged-in clients for each admin role.

The clock stands on Monday 2 March 2026, 9:00 in New York (14:00 UTC). Visits are booked for
Tuesday 3 March through booking's own services (the guard), so their travel blocks are real.
"""

import pytest

from booking import services as booking
from booking.demo import demo_visit_pay
from booking.tests import factories as bf
from booking.tests.world import MONDAY, NOW, NY, TUESDAY, ny  # noqa: F401 (tests import them from here)
from concierge.roles import roles_sync
from concierge.testing import VerifiedClient
from concierge.tests.factories import UserFactory


@pytest.fixture
def roles(db):
    roles_sync()


def logged_in(user):
    client = VerifiedClient()
    client.force_login(user)
    return client


@pytest.fixture
def scheduler(roles):
    return UserFactory(role="staff", email="scheduler@example.com", first_name="Sky", last_name="Desk")


@pytest.fixture
def manager(roles):
    return UserFactory(role="manager", email="manager@example.com", first_name="Mo", last_name="Boss")


@pytest.fixture
def clinician_user(roles):
    return UserFactory(role="clinician", email="doc@example.com", first_name="Cleo", last_name="Doc")


@pytest.fixture
def scheduler_client(scheduler):
    return logged_in(scheduler)


@pytest.fixture
def manager_client(manager):
    return logged_in(manager)


@pytest.fixture
def clinician_client(clinician_user):
    return logged_in(clinician_user)


@pytest.fixture
def infusion(db):
    return bf.ServiceFactory()


@pytest.fixture
def maya(nurse):
    nurse.first_name, nurse.last_name = "Maya", "Chen"
    nurse.save()
    return bf.ProviderFactory(user=nurse)


@pytest.fixture
def priya(db):
    return bf.ProviderFactory(
        user=UserFactory(role="nurse", email="priya@example.com", first_name="Priya", last_name="Shah"),
        home_zip="10011",
    )


@pytest.fixture
def nyc(infusion, maya, priya):
    return bf.ServiceAreaFactory(services=[infusion], providers=[maya, priya])


@pytest.fixture
def cleared(clock, patient, nyc):
    """The cast's patient (Pat Example), cleared, living at 10001."""
    return bf.cleared_patient(patient)


@pytest.fixture
def cleared_too(clock, other_patient, nyc):
    return bf.cleared_patient(other_patient)


def book(patient, service, starts_at, provider=None):
    """A confirmed visit through booking's services (hold, then confirm)."""
    visit = booking.visit_hold(patient=patient, service=service, starts_at=starts_at, provider=provider)
    return booking.visit_confirm(visit=visit)


def pay(visit):
    """The visit's deposit, paid by card through the fake gateway (as payments' own demo pays visits)."""
    return demo_visit_pay(visit)
