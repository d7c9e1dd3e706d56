"""The lock order is watched under the tests (concierge.testing.lock_order_watch): a use case that
locks a row of a kind earlier in LOCK_ORDER than one it already holds fails, whatever the path."""

import pytest
from django.db import transaction

from booking.tests import factories as f
from concierge.locking import LockOrderBroken, lock_order_next_use_case, lock_rows
from concierge.models import User
from roster.models import Provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(patient):
    visit = f.VisitFactory(patient=patient)
    return visit, f.ProviderFactory()


def test_a_provider_locked_after_a_visit_fails_and_names_both(rows):
    visit, other = rows

    with pytest.raises(LockOrderBroken) as broken, transaction.atomic():
        lock_rows({Provider: [visit.provider_id], User: [visit.patient_id], "booking.Visit": [visit.pk]})
        lock_rows({Provider: [other.pk]})

    assert "roster.Provider" in str(broken.value) and "booking.Visit" in str(broken.value)


def test_rows_already_held_may_be_asked_for_again_and_each_use_case_starts_afresh(rows):
    visit, other = rows

    with transaction.atomic():
        lock_rows({Provider: [visit.provider_id], User: [visit.patient_id], "booking.Visit": [visit.pk]})
        lock_rows({Provider: [visit.provider_id], "booking.Visit": [visit.pk]})  # held already: fine
    with transaction.atomic():  # the next use case
        lock_rows({"booking.Visit": [visit.pk]})
        lock_order_next_use_case()  # a script's next use case inside one transaction
        lock_rows({Provider: [other.pk]})


def test_the_patients_profile_comes_first(rows, patient):
    from patients import services as patient_services
    from patients.tests.factories import PatientProfileFactory

    PatientProfileFactory(user=patient)
    visit, _other = rows

    with transaction.atomic():
        patient_services.profile_lock(patient_id=patient.pk)
        lock_rows({Provider: [visit.provider_id], User: [patient.pk], "booking.Visit": [visit.pk]})
    with pytest.raises(LockOrderBroken), transaction.atomic():
        lock_rows({"booking.Visit": [visit.pk]})
        patient_services.profile_lock(patient_id=patient.pk)


def test_a_row_lock_written_by_hand_counts_too(rows):
    from booking.models import Visit

    visit, other = rows

    with pytest.raises(LockOrderBroken) as broken, transaction.atomic():
        list(Visit.objects.select_for_update().filter(pk=visit.pk))  # no lock_rows: read from its SQL
        lock_rows({Provider: [other.pk]})

    assert "roster.Provider" in str(broken.value) and "booking.Visit" in str(broken.value)
