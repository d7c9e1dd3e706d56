"""Roster and booking in admin (staff only), and the demo data."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from booking import services
from booking.models import Service, ServiceArea, Visit, VisitStatus
from booking.tests.conftest import TUESDAY, ny
from concierge.roles import roles_sync
from concierge.tests.factories import UserFactory
from roster.models import Licence, Provider, WeeklyShift

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, db):
    roles_sync()
    user = UserFactory(role="staff", email="desk@example.com")
    client.force_login(user)
    return client


def test_staff_see_the_roster_and_booking_in_admin(staff, maya, nyc, cleared, infusion):
    services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    for name in (
        "admin:roster_provider_changelist",
        "admin:booking_service_changelist",
        "admin:booking_servicearea_changelist",
        "admin:booking_visit_changelist",
        "admin:booking_waitlistentry_changelist",
    ):
        assert staff.get(reverse(name)).status_code == 200, name
    page = staff.get(reverse("admin:roster_provider_change", args=[maya.pk])).content.decode()
    assert "Weekly shifts" in page and "Licences" in page and "Time off" in page
    # Visits are read-only: no adding, and the change form has nothing to save.
    assert staff.get(reverse("admin:booking_visit_add")).status_code == 403


def test_staff_cancel_visits_with_the_admin_action(staff, cleared, infusion, clock):
    visit = services.visit_confirm(
        visit=services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))
    )

    response = staff.post(
        reverse("admin:booking_visit_changelist"),
        {"action": "cancel_by_staff", "_selected_action": [visit.pk]},
    )

    assert response.status_code == 302
    visit.refresh_from_db()
    assert (visit.status, visit.cancelled_by) == (VisitStatus.CANCELLED, "staff")


def test_nurses_have_no_admin(client, nurse):
    roles_sync()
    client.force_login(nurse)
    response = client.get(reverse("admin:roster_provider_changelist"))
    assert response.status_code == 302  # sent to log in: not staff


def test_demo_roster_services_areas_and_visits_twice_give_the_same_data():
    call_command("seed_demo")

    def snapshot():
        return (
            sorted(Provider.objects.values_list("user__email", "kind", "home_zip", "time_zone")),
            sorted(Licence.objects.values_list("provider__user__email", "state", "licence_type", "multistate")),
            WeeklyShift.objects.count(),
            sorted(Service.objects.values_list("code", "price_cents", "deposit_cents", "is_telehealth")),
            sorted(ServiceArea.objects.values_list("name", "state", "base_zip", "radius_miles")),
            sorted(Visit.objects.values_list("patient__email", "service__code", "status", "starts_at")),
        )

    first = snapshot()
    call_command("seed_demo")

    assert snapshot() == first
    providers, licences, shifts, services_, areas, visits = first
    assert [p[0] for p in providers] == [
        "clinician@demo.conciergemd.example",
        "nurse2@demo.conciergemd.example",
        "nurse3@demo.conciergemd.example",
        "nurse@demo.conciergemd.example",
    ]
    assert ("nurse2@demo.conciergemd.example", "AZ", "RN", True) in licences
    assert shifts == 4 * 6
    assert ("home-infusion", 45000, 10000, False) in services_ and ("evaluation", 15000, 0, True) in services_
    assert areas == [("New York City", "NY", "10001", 15), ("Phoenix", "AZ", "85004", 25)]
    alex = [v for v in visits if v[0] == "patient@demo.conciergemd.example"]
    assert [(v[1], v[2]) for v in alex] == [("home-infusion", "confirmed")] * 2


def test_the_demo_has_a_patient_who_reads_spanish_waiting_for_a_freed_time():
    from booking.models import TimeWaitlistEntry, TimeWaitlistStatus
    from concierge.models import User

    call_command("seed_demo")
    call_command("seed_demo")

    maria = User.objects.get(email="patient6@demo.conciergemd.example")
    assert maria.language == "es" and maria.patient_profile.zip_code == "10001"
    entry = TimeWaitlistEntry.objects.get(patient=maria)  # one, after two runs
    assert entry.status in (TimeWaitlistStatus.WAITING, TimeWaitlistStatus.BOOKED)
    assert (entry.weekdays, entry.parts_of_day) == ("13", "afternoon")
