"""Staff and clinicians read every chart in admin, with its history, and change nothing there; the demo day."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from booking.models import Visit, VisitStatus
from concierge.models import User
from concierge.roles import ADMIN_ROLES, ROLE_PERMISSIONS
from concierge.tests.factories import UserFactory
from nurses import services
from nurses.models import VisitChart

from .conftest import ny

pytestmark = pytest.mark.django_db
CHART_MODELS = {
    "visitchart",
    "vitalsreading",
    "doserecord",
    "adverseevent",
    "dischargechecklist",
    "chartamendment",
    "chartevent",
    "protocoloverride",
}


@pytest.fixture
def signed_chart(visit, nurse, clock):
    services.visit_check_in(
        visit=visit,
        nurse=nurse,
        adult_present=True,
        prep_followed=True,
        baseline=services.Vitals(None, 190, 100, 80, 97, 14, action_taken="escalated", action_note="Called"),
    )
    services.protocol_override_record(
        visit=visit, nurse=nurse, clinician=UserFactory(role="clinician"), reason="Rechecked: 150/90. Go on."
    )
    clock.move_to(ny(11))
    services.dose_record(
        visit=visit,
        nurse=nurse,
        weight=Decimal("80"),
        weight_unit="kg",
        confirmed_dose_mg=Decimal("40.0"),
        lot_number="KT-9",
        volume_ml=Decimal("100"),
        started_at=ny(9, 10),
        stopped_at=ny(9, 50),
        adverse_events=["nausea"],
    )
    for minute in (20, 35, 50):  # one reading per 15 minutes of the 40-minute infusion
        services.vitals_record(visit=visit, nurse=nurse, vitals=services.Vitals(ny(9, minute), 150, 90, 76, 98, 14))
    services.vitals_record(visit=visit, nurse=nurse, vitals=services.Vitals(ny(10, 50), 130, 80, 70, 98, 14))
    services.discharge_record(
        visit=visit,
        nurse=nurse,
        baseline_mental_status=True,
        vitals_near_baseline=True,
        adult_present=True,
        instructions_given=True,
    )
    services.chart_sign(visit=visit, nurse=nurse, signature_name=nurse.get_full_name(), confirm=True)
    services.chart_amend(visit=visit, nurse=nurse, section="dose", text="Lot KT-8", reason="Misread label")
    return VisitChart.objects.get()


# The roles that read charts in admin come from the one table in concierge/roles.py (clinicians
# always; which of the staff roles too is decided there).
CHART_READERS = [role.value for role, names in ROLE_PERMISSIONS.items() if "nurses.view_visitchart" in names]


def test_clinicians_read_charts_and_no_role_may_change_them():
    assert "clinician" in CHART_READERS
    for names in ROLE_PERMISSIONS.values():
        assert not [
            n
            for n in names
            if n.startswith("nurses.")
            and n.split(".")[1].split("_", 1)[1] in CHART_MODELS
            and not n.split(".")[1].startswith("view_")
        ]


@pytest.mark.parametrize("role", CHART_READERS)
def test_chart_readers_see_every_chart_with_its_history(client, role, signed_chart):
    client.force_login(UserFactory(role=role))

    listing = client.get("/admin/nurses/visitchart/")
    assert listing.status_code == 200
    assert "Completed" in listing.content.decode()
    page = client.get(f"/admin/nurses/visitchart/{signed_chart.pk}/change/").content.decode()
    for expected in (
        "KT-9",
        "40.0",
        "Misread label",
        "Lot KT-8",
        "Signed as",
        "Systolic above 180 mmHg",
        "Nausea",
        "Called",
        "Rechecked: 150/90. Go on.",  # the clinician's override, with who and why
    ):
        assert expected in page, expected
    assert 'name="_save"' not in page  # read-only: no save button


@pytest.mark.parametrize("role", CHART_READERS)
def test_nobody_adds_changes_or_deletes_a_chart_in_admin(client, role, signed_chart):
    client.force_login(UserFactory(role=role))
    assert client.get("/admin/nurses/visitchart/add/").status_code == 403
    assert client.post(f"/admin/nurses/visitchart/{signed_chart.pk}/change/", {"outcome": "open"}).status_code == 403
    assert client.post(f"/admin/nurses/visitchart/{signed_chart.pk}/delete/", {"post": "yes"}).status_code == 403
    signed_chart.refresh_from_db()
    assert signed_chart.outcome == "completed" and signed_chart.is_locked


def test_admin_roles_without_the_permission_do_not_open_charts(client, signed_chart):
    for role in ADMIN_ROLES:
        if role.value in CHART_READERS:
            continue
        client.force_login(UserFactory(role=role.value))
        assert client.get(f"/admin/nurses/visitchart/{signed_chart.pk}/change/").status_code == 403


def test_nurses_and_patients_do_not_reach_charts_in_admin(client, nurse, patient, signed_chart):
    for person in (nurse, patient):
        client.force_login(person)
        assert client.get(f"/admin/nurses/visitchart/{signed_chart.pk}/change/").status_code in (302, 403)


def test_the_demo_nurse_has_two_confirmed_visits_today_and_seeding_twice_adds_nothing():
    call_command("seed_demo")
    maya = User.objects.get(email="nurse@demo.conciergemd.example")
    new_york = ZoneInfo("America/New_York")
    start = datetime.combine(timezone.now().astimezone(new_york).date(), time(0), tzinfo=new_york)

    def today():
        return list(
            Visit.objects.filter(
                provider__user=maya, starts_at__gte=start, starts_at__lt=start + timedelta(days=1)
            ).values_list("patient__email", "status", "starts_at", "clearance_id")
        )

    first = today()
    call_command("seed_demo")
    assert today() == first
    assert [(email, status, clearance is not None) for email, status, _, clearance in first] == [
        ("patient4@demo.conciergemd.example", VisitStatus.CONFIRMED, True),
        ("patient5@demo.conciergemd.example", VisitStatus.CONFIRMED, True),
    ]
    assert [s.astimezone(new_york).hour for _, _, s, _ in first] == [9, 12]
    # Paid like every booked demo visit, when still ahead.
    for visit in Visit.objects.filter(provider__user=maya, starts_at__gte=start, starts_at__gt=timezone.now()):
        assert visit.payment_allocations.exists()
