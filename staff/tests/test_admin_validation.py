"""Admin refuses nonsense beside the field: ZIP lists, dates out of range, money and minutes of zero."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.models import Service, ServiceArea
from booking.tests import factories as bf
from concierge.tests.factories import UserFactory
from concierge.tests.form_data import admin_post_data
from patients.models import Clearance
from roster.models import Licence

from .conftest import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(roles):
    return logged_in(UserFactory(email="boss@example.com", is_staff=True, is_superuser=True))


def errors_after(client, url, **changes):
    page = client.get(url)
    data = {**admin_post_data(page), **changes}
    response = client.post(url, data)
    assert response.status_code == 200, f"saved (or failed) instead of showing the errors: {response.status_code}"
    form = response.context["adminform"].form
    inline_errors = [
        error for inline in response.context["inline_admin_formsets"] for error in inline.formset.errors if error
    ]
    return form.errors, inline_errors, response.content.decode()


def test_a_service_area_refuses_zips_that_are_not_zips_unknown_or_in_another_state(boss):
    service = bf.ServiceFactory()
    url = reverse("admin:booking_servicearea_add")
    base = {"name": "Brooklyn", "state": "NY", "services": [str(service.pk)]}

    for zips, message in (
        ("abcde", "A ZIP code is 5 digits: abcde"),
        ("10001 1234", "A ZIP code is 5 digits: 1234"),
        ("10001 00000", "Not a US ZIP code we know: 00000"),
        ("10001, 90210", "Not in NY: 90210"),
    ):
        errors, _inline, page = errors_after(boss, url, **base, zip_codes=zips)
        assert message in str(errors["zip_codes"]), zips
        assert zips in page  # what was typed is kept
    _errors, _inline, _page = errors_after(boss, url, **base, zip_codes="", base_zip="90210", radius_miles="0")
    assert "Not in NY: 90210" in str(_errors["base_zip"])
    assert "Must be more than zero miles" in str(_errors["radius_miles"])
    assert not ServiceArea.objects.exists()

    saved = boss.post(url, {**admin_post_data(boss.get(url)), **base, "zip_codes": "10001\n10011"})
    assert saved.status_code == 302, saved.context["adminform"].form.errors
    assert ServiceArea.objects.get().zip_list() == {"10001", "10011"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price_cents", "0", "A price must be at least 50 cents"),
        ("deposit_cents", "10", "A deposit must be at least 50 cents"),
        ("duration_minutes", "0", "Must be more than zero minutes"),
        ("setup_minutes", "0", "Must be more than zero minutes"),
        ("default_infusion_minutes", "0", "Must be more than zero minutes"),
        ("observation_minutes", "0", "Must be more than zero minutes"),
        ("observation_minutes", "5000", "Must be at most a day"),
    ],
)
def test_a_service_refuses_zero_money_and_zero_minutes(boss, field, value, message):
    url = reverse("admin:booking_service_add")
    good = {"code": "booster", "name": "Booster", "kind": "booster", "delivered_by": "nurse", "price_cents": "20000"}

    errors, _inline, _page = errors_after(boss, url, **{**good, field: value})

    assert message in str(errors[field])
    assert not Service.objects.filter(code="booster").exists()


def test_a_deposit_of_zero_means_no_deposit(boss):
    url = reverse("admin:booking_service_add")
    data = {**admin_post_data(boss.get(url)), "code": "booster", "name": "Booster", "kind": "booster"}
    data.update(delivered_by="nurse", price_cents="20000", deposit_cents="0")

    assert boss.post(url, data).status_code == 302
    assert Service.objects.get(code="booster").deposit_cents == 0


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31"])
def test_a_licence_expiring_in_year_1_or_9999_is_refused(boss, day):
    provider = bf.ProviderFactory()
    url = reverse("admin:roster_provider_change", args=[provider.pk])
    data = admin_post_data(boss.get(url))
    prefix = next(k for k in data if k.endswith("-TOTAL_FORMS") and "licence" in k).removesuffix("-TOTAL_FORMS")
    first = int(data[f"{prefix}-INITIAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(first + 1)
    data.update(
        {
            f"{prefix}-{first}-state": "NJ",
            f"{prefix}-{first}-licence_type": "RN",
            f"{prefix}-{first}-number": "RN-1",
            f"{prefix}-{first}-expires_on": day,
        }
    )

    response = boss.post(url, data)

    assert response.status_code == 200
    assert "Enter a date between 1900-01-01 and 2199-12-31" in response.content.decode()
    assert not Licence.objects.filter(provider=provider, state="NJ").exists()


@pytest.mark.parametrize(
    ("days", "message"),
    [(-700000, "Enter a date between"), (2900000, "Enter a date between"), (400, "at most 365 days")],
)
def test_a_clearance_expiring_in_year_1_9999_or_years_ahead_is_refused(roles, days, message):
    from patients.tests.factories import PatientProfileFactory

    clinician = UserFactory(role="clinician", email="doc@example.com", is_superuser=True, is_staff=True)
    patient = PatientProfileFactory().user
    client = logged_in(clinician)
    url = reverse("admin:patients_clearance_add")
    value = (timezone.localdate() + timedelta(days=days)).isoformat()
    data = {**admin_post_data(client.get(url)), "patient": str(patient.pk), "decision": "cleared"}
    data.update(diagnosis="ptsd", expires_on=value)

    response = client.post(url, data)

    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors.get("expires_on"))
    assert not Clearance.objects.exists()
