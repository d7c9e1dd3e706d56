"""The receipt a patient downloads: what an HSA/FSA claim asks for (issue 18)."""

import re

import pytest
from django.urls import reverse

from booking import services
from booking.tests.conftest import WEDNESDAY, ny
from booking.tests.test_views import pay_fake
from payments.models import Payment

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_receipt_names_provider_patient_service_date_and_amount(client, cleared, infusion, settings):
    settings.CLINIC_TAX_ID = "12-3456789"
    client.force_login(cleared)
    visit = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(WEDNESDAY, 10))
    pay_fake(client, visit)
    payment = Payment.objects.get(patient=cleared)

    page = text(client.get(reverse("payments:receipt", args=[payment.pk])))

    for words in (
        f"Receipt {payment.reference}",
        f'Receipt <span class="text-nowrap">{payment.reference}</span>',
        settings.CLINIC_LEGAL_NAME,
        "12-3456789",
        cleared.patient_profile.full_legal_name,
        "Wed Mar 4, 10:00 AM EST",
        "Home infusion",
        "(deposit toward $450.00)",
        "$100.00",
        "Print or save as PDF",
    ):
        assert words in page, words
    dashboard = text(client.get(reverse("portal:dashboard")))
    assert reverse("payments:receipt", args=[payment.pk]) in dashboard
    assert f'reference <span class="text-nowrap">{payment.reference}</span>' in dashboard


def test_someone_elses_receipt_is_not_found(client, cleared, other_patient, infusion):
    client.force_login(cleared)
    visit = services.visit_hold(patient=cleared, service=infusion, starts_at=ny(WEDNESDAY, 10))
    pay_fake(client, visit)
    payment = Payment.objects.get(patient=cleared)
    client.force_login(other_patient)

    assert client.get(reverse("payments:receipt", args=[payment.pk])).status_code == 404
