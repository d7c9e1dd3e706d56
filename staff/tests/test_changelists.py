"""Every admin changelist costs the same queries with a small clinic as with a bigger one.

One test per registered model admin (a newly registered one is tested without being listed
here): its list page as a superuser, with one of everything, then again after more nurses, patients,
visits, payments, refunds, messages, threads, charts and audit rows were added. A list that reads
one more row per line (or per filter choice) shows up as a growing count.
"""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking.models import VisitStatus
from booking.tests import factories as bf
from concierge.models import PatientRecordView
from concierge.testing import VerifiedClient
from concierge.tests.factories import UserFactory
from notifications.tests.factories import MessageFactory
from patients.tests.factories import screening
from payments.models import Payment, PaymentStatus, Refund, RefundReason
from portal.tests.factories import thread_for

pytestmark = pytest.mark.django_db

CHANGELISTS = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model, model_admin in admin.site._registry.items()
    if model_admin.has_module_permission  # every registered admin has a list page
)


def more_of_everything(admin_user, count, prefix):
    """Nurses, cleared patients with visits, payments, refunds, messages, threads, screenings."""
    service = bf.ServiceFactory(code=f"{prefix}-infusion")
    for i in range(count):
        provider = bf.ProviderFactory(user=bf.UserFactory(role="nurse"))  # with a New York licence
        patient = bf.cleared_patient(bf.UserFactory(role="patient"))
        for day in range(2):
            starts_at = timezone.now() + timedelta(days=3 + day, hours=i)
            visit = bf.VisitFactory(patient=patient, provider=provider, service=service, starts_at=starts_at)
            payment = Payment.objects.create(
                patient=patient, visit=visit, amount_cents=10000, gateway="fake", status=PaymentStatus.SUCCEEDED
            )
            Refund.objects.create(
                payment=payment, visit=visit, amount_cents=500, reason_code=RefundReason.STAFF, reason="Sorry"
            )
            MessageFactory(recipient=patient, visit=visit, template="reminder_24h", channel="sms")
        bf.VisitFactory(patient=patient, provider=provider, service=service, status=VisitStatus.COMPLETED)
        MessageFactory(recipient=None, to_address="oncall@example.com")  # a staff alert: no recipient
        thread_for(patient)
        screening(patient)
        PatientRecordView.objects.create(viewer=admin_user, patient=patient, what="profile")


def queries(client, url):
    client.get(url)  # warm: session, content types, permissions
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


@pytest.mark.parametrize(("app_label", "model_name"), CHANGELISTS, ids=[".".join(c) for c in CHANGELISTS])
def test_the_changelist_costs_the_same_queries_as_the_clinic_grows(app_label, model_name):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client = VerifiedClient()
    client.force_login(superuser)
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    more_of_everything(superuser, 1, "small")
    small = queries(client, url)

    more_of_everything(superuser, 3, "large")

    assert queries(client, url) == small


def test_the_visit_list_offers_the_nurses_who_have_visits_by_name():
    superuser = UserFactory(is_staff=True, is_superuser=True)
    busy = bf.ProviderFactory(user=bf.UserFactory(role="nurse", first_name="Ada", last_name="Busy"))
    bf.ProviderFactory(user=bf.UserFactory(role="nurse", first_name="Idle", last_name="Nurse"))
    bf.VisitFactory(provider=busy)
    client = VerifiedClient()
    client.force_login(superuser)

    page = client.get(reverse("admin:booking_visit_changelist")).content.decode()

    assert f"?provider__id__exact={busy.pk}" in page and "Ada Busy" in page
    assert "Idle Nurse" not in page
