"""Safety holds in the back office (issue 14): a clinician releases a hold with a note; schedulers
cannot; staff cancelling a held visit refund it in full; a clinician revokes a clearance with a reason.

The clock stands on Monday 2 March 2026, 9:00 in New York; Pat's paid infusion is Tuesday at 10:00.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.models import HoldOutcome, SafetyHold, Visit, VisitStatus
from notifications.models import Message, MessageStatus
from patients import services as patient_services
from patients.models import Clearance, PatientProfile, SafetyAlert
from patients.tests.factories import licensed, screening
from payments.models import Refund
from staff.admin.review import ClearanceForm

from .conftest import TUESDAY, book, ny, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(cleared, infusion, maya, django_capture_on_commit_callbacks):
    """Pat's paid Tuesday infusion, put on hold by her answer to PHQ-9 item 9."""
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    pay(visit)
    with django_capture_on_commit_callbacks(execute=True):
        screening(cleared, "phq9", answers=[0, 0, 0, 0, 0, 0, 0, 0, 1])
    visit.refresh_from_db()
    assert visit.status == VisitStatus.ON_HOLD
    return visit


def release_url(visit):
    return reverse("admin:booking_visit_release_hold", args=[visit.pk])


def test_a_scheduler_sees_the_hold_but_cannot_release_it(clock, scheduler_client, held):
    page = scheduler_client.get(reverse("admin:booking_visit_change", args=[held.pk])).content.decode()

    assert "On hold" in page and "Release the hold" not in page
    assert scheduler_client.get(release_url(held)).status_code == 403
    assert scheduler_client.post(release_url(held), {"note": "ok"}).status_code == 403
    assert Visit.objects.get(pk=held.pk).status == VisitStatus.ON_HOLD


def test_a_clinician_releases_with_a_note_once_the_reason_is_dealt_with(
    clock, clinician_client, clinician_user, held, cleared, django_capture_on_commit_callbacks
):
    change = clinician_client.get(reverse("admin:booking_visit_change", args=[held.pk])).content.decode()
    assert "Release the hold" in change
    page = clinician_client.get(release_url(held)).content.decode()
    assert "Why it is on hold" in page and "988" in page

    # No note: the form says so.
    page = clinician_client.post(release_url(held), {"note": "  "}).content.decode()
    assert "Say what was done, for the patient&#x27;s record." in page
    # The alert is still open: the app asks again and refuses, in words.
    page = clinician_client.post(release_url(held), {"note": "Called Pat"}).content.decode()
    assert "still may not have this infusion" in page
    assert Visit.objects.get(pk=held.pk).status == VisitStatus.ON_HOLD

    for alert in SafetyAlert.objects.filter(patient=cleared, resolved_at__isnull=True):
        patient_services.safety_alert_resolve(alert=alert, clinician=clinician_user, note="Safe; plan agreed.")
    with django_capture_on_commit_callbacks(execute=True):
        response = clinician_client.post(release_url(held), {"note": "Spoke with Pat; go ahead."})

    assert response.status_code == 302
    visit = Visit.objects.get(pk=held.pk)
    assert visit.status == VisitStatus.CONFIRMED
    hold = SafetyHold.objects.get(visit=visit)
    assert (hold.outcome, hold.ended_by) == (HoldOutcome.RELEASED, clinician_user)
    assert hold.note == "Spoke with Pat; go ahead."
    assert Message.objects.filter(visit=visit, template="reminder_2h", status=MessageStatus.PENDING).exists()
    # Twice: the page says it is not on hold; nothing more happens.
    page = clinician_client.post(release_url(held), {"note": "again"}).content.decode()
    assert "This visit is not on hold." in page
    assert SafetyHold.objects.filter(visit=visit).count() == 1


def test_staff_cancel_a_held_visit_with_a_full_refund_inside_the_cut_off(
    clock, scheduler_client, scheduler, held, django_capture_on_commit_callbacks
):
    clock.move_to(ny(TUESDAY, 8))  # two hours before: the policy would keep the late fee
    scheduler_client.force_login(scheduler)  # a new day, a new login
    url = reverse("admin:booking_visit_cancel_visit", args=[held.pk])

    assert "$100.00" in scheduler_client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = scheduler_client.post(url, {"reason": "Care team: not this week."})

    assert response.status_code == 302
    assert Visit.objects.get(pk=held.pk).status == VisitStatus.CANCELLED
    assert list(Refund.objects.filter(visit=held).values_list("amount_cents", flat=True)) == [10000]
    assert SafetyHold.objects.get(visit=held).outcome == HoldOutcome.CANCELLED


def revoke_url(clearance):
    return reverse("admin:patients_clearance_revoke", args=[clearance.pk])


def test_a_clinician_revokes_a_clearance_with_a_reason_and_the_booked_visit_goes_on_hold(
    clock, clinician_client, scheduler_client, cleared, infusion, maya, django_capture_on_commit_callbacks
):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    clearance = Clearance.objects.get(patient=cleared)
    change = clinician_client.get(reverse("admin:patients_clearance_change", args=[clearance.pk])).content.decode()
    assert revoke_url(clearance) in change
    assert scheduler_client.get(revoke_url(clearance)).status_code in (302, 403)

    page = clinician_client.post(revoke_url(clearance), {"reason": ""}).content.decode()
    assert "Say why, for the patient&#x27;s record." in page
    with django_capture_on_commit_callbacks(execute=True):
        response = clinician_client.post(revoke_url(clearance), {"reason": "Started an MAOI."})

    assert response.status_code == 302
    clearance.refresh_from_db()
    assert clearance.revoked_at is not None and clearance.revoked_reason == "Started an MAOI."
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.ON_HOLD
    # Twice: the page says so, nothing changes.
    page = clinician_client.post(revoke_url(clearance), {"reason": "again"}).content.decode()
    assert "already revoked" in page
    clearance.refresh_from_db()
    assert clearance.revoked_reason == "Started an MAOI."


@pytest.mark.parametrize(
    ("mg_per_kg", "weight_kg", "refused"),
    [
        ("1.00", "80", None),  # the cap itself
        ("1.01", "80", "At most 1.0 mg/kg"),
        ("1.00", "100.0", None),  # 100 mg: the total cap itself
        ("1.00", "100.1", "above the protocol's maximum of 100 mg"),  # 100.1 mg
        ("0.50", "150", None),  # 75 mg
    ],
)
def test_the_plan_form_refuses_a_dose_above_the_protocols_cap(cleared, clinician_user, mg_per_kg, weight_kg, refused):
    PatientProfile.objects.filter(user=cleared).update(weight_kg=weight_kg)
    licensed(clinician_user, "NY")
    # What the clearance gate asks for (an evaluation, recent questionnaires), so only the dose decides.
    screening(cleared, "phq9", [1] * 8 + [0])
    screening(cleared, "gad7", [1] * 7)
    screening(cleared, "pcl5", [1] * 20)
    form = ClearanceForm(
        data={
            "patient": cleared.pk,
            "diagnosis": "ptsd",
            "decision": "cleared",
            "infusions_planned": 6,
            "dose_mg_per_kg": mg_per_kg,
            "infusion_minutes": 40,
            "min_hours_between": 48,
            "series_window_days": 21,
            "expires_on": "2026-09-01",
            "in_person_evaluated_on": timezone.localdate().isoformat(),
        }
    )
    form.clinician = clinician_user
    form.is_valid()

    errors = " ".join(form.errors.get("dose_mg_per_kg", []))
    assert (refused is None and errors == "") or (refused is not None and refused in errors), errors
    assert form.is_valid() is (refused is None), form.errors
