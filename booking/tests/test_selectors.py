"""Reads: coverage, the constant query count of availability, a patient's visits."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking import selectors, services
from booking.testing import build_roster
from booking.tests import factories as f
from booking.tests.conftest import TUESDAY, ny
from concierge.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PLACE = selectors.VisitPlace(
    zip_code="10001", state="NY", time_zone="America/New_York", city="New York", address_line1="350 5th Ave"
)


def search(patient, service, days):
    return selectors.availability_for(
        service=service, place=PLACE, patient=patient, first_day=TUESDAY, last_day=TUESDAY + timedelta(days=days - 1)
    )


def count_queries(patient, service, days):
    search(patient, service, days)  # the ZIPs, as a process that has searched before knows them
    with CaptureQueriesContext(connection) as queries:
        slots = search(patient, service, days)
    return len(queries), slots


def test_availability_costs_the_same_queries_for_1_nurse_and_1_day_as_for_50_nurses_and_14_days(clock):
    patient = UserFactory(role="patient")
    service, _ = build_roster(nurses=1, days=1, first_day=TUESDAY, prefix="one")
    small, small_slots = count_queries(patient, service, days=1)

    build_roster(nurses=49, days=14, first_day=TUESDAY, prefix="many")
    large, large_slots = count_queries(patient, service, days=14)

    assert small == large <= 8
    assert small_slots and large_slots
    assert len({c.provider_id for s in large_slots for c in s.candidates}) == 50


def test_availability_query_count_with_django_assert(clock, django_assert_max_num_queries):
    patient = UserFactory(role="patient")
    service, _ = build_roster(nurses=50, days=14, first_day=TUESDAY, prefix="assert")
    # A process that has looked up no ZIP yet: two more, the place's and then every ZIP of the
    # routes at once (never one per nurse or visit).
    with django_assert_max_num_queries(10):
        search(patient, service, days=14)
    with django_assert_max_num_queries(8):
        search(patient, service, days=14)


@pytest.mark.parametrize(
    ("zip_code", "covered", "area_name"),
    [
        ("10001", True, "New York City"),
        ("10463", True, "New York City"),  # the Bronx, about 11 miles from the base
        ("07030", False, None),  # Hoboken is close, but in New Jersey
        ("12601", False, None),  # Poughkeepsie, New York: too far from the base
        ("99999", False, None),  # not a ZIP code
    ],
)
def test_coverage_by_radius_and_state(nyc, zip_code, covered, area_name):
    coverage = selectors.coverage_for_zip(zip_code=zip_code)

    assert coverage.covered is covered
    assert [a.area.name for a in coverage.areas] == ([area_name] if area_name else [])
    if covered:
        assert [s.code for s in coverage.services] == ["evaluation", "home-infusion"]
        assert coverage.areas[0].base.city.lower() == "new york"


def test_coverage_by_zip_list(infusion):
    f.ServiceAreaFactory(
        name="Phoenix", state="AZ", base_zip="", radius_miles=None, zip_codes="85004, 85003\n85012", services=[infusion]
    )

    assert selectors.coverage_for_zip(zip_code="85003").covered
    assert not selectors.coverage_for_zip(zip_code="85001").covered


def test_inactive_areas_and_services_do_not_count(nyc, infusion, evaluation):
    infusion.is_active = False
    infusion.save()
    assert [s.code for s in selectors.coverage_for_zip(zip_code="10001").services] == ["evaluation"]
    nyc.is_active = False
    nyc.save()
    assert not selectors.coverage_for_zip(zip_code="10001").covered


def test_a_patients_visit_lists(cleared, cleared_too, infusion, clock):
    mine = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    services.visit_hold(patient=cleared_too, service=infusion, starts_at=ny(TUESDAY, 12, 30))
    later = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY + timedelta(days=3), 10))
    services.visit_cancel(visit=later, by="patient", actor=cleared)

    assert list(selectors.visit_list_for_patient(patient=cleared, upcoming=True)) == [mine]
    assert list(selectors.visit_list_for_patient(patient=cleared, upcoming=False)) == [later]
    assert selectors.visit_get_for_patient(patient=cleared_too, pk=mine.pk) is None
    assert selectors.visit_get_for_patient(patient=cleared, pk=mine.pk) == mine
