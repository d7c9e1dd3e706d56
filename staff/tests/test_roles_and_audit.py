"""Who may open what in admin (each role on each staff page; schedulers never see clinical answers),
the audit trail of every change (who, when, what), and the log of who viewed a patient's record."""

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from booking import services as booking
from concierge import audit
from concierge.models import PatientRecordView
from concierge.services import user_set_role
from concierge.testing import VerifiedClient
from concierge.tests.factories import UserFactory
from nurses.models import VisitChart, VitalsReading
from patients.models import Clearance, PatientProfile, SafetyAlert
from patients.tests.factories import screening, sent_intake
from payments.models import Refund
from payments.services import refund_create
from roster.models import Licence, WeeklyShift
from staff.services import visit_refund_in_full

from .conftest import TUESDAY, book, ny, pay

pytestmark = pytest.mark.django_db


def entries(obj):
    return list(audit.log_entries_for(obj).order_by("timestamp", "pk"))


@pytest.fixture
def visit(cleared, infusion, maya):
    return book(cleared, infusion, ny(TUESDAY, 10), provider=maya)


@pytest.fixture
def clients(scheduler_client, manager_client, clinician_client, nurse, roles):
    nurse_client = VerifiedClient()
    nurse_client.force_login(nurse)
    superuser = UserFactory(role="staff", email="root@example.com", is_superuser=True, is_staff=True)
    root = VerifiedClient()
    root.force_login(superuser)
    return {
        "scheduler": scheduler_client,
        "clinician": clinician_client,
        "manager": manager_client,
        "nurse": nurse_client,
        "superuser": root,
    }


def status_of(client, url):
    response = client.get(url, follow=True)
    return response.status_code


def test_each_role_on_each_staff_page(clock, clients, visit):
    pay(visit)
    pages = {
        "board": reverse("admin:booking_board"),
        "week": reverse("admin:booking_board_week"),
        "queues": reverse("admin:staff_queues"),
        "reports": reverse("admin:staff_reports"),
        "report": reverse("admin:staff_report", args=["outcomes"]),
        "visit": reverse("admin:booking_visit_change", args=[visit.pk]),
        "reassign": reverse("admin:booking_visit_reassign", args=[visit.pk]),
        "cancel": reverse("admin:booking_visit_cancel_visit", args=[visit.pk]),
        "refund": reverse("admin:booking_visit_refund", args=[visit.pk]),
        "audit": reverse("admin:auditlog_logentry_changelist"),
        "views": reverse("admin:concierge_patientrecordview_changelist"),
    }
    allowed = {
        "scheduler": {"board", "week", "queues", "visit", "reassign", "cancel", "refund", "audit"},
        "clinician": {"board", "week", "queues", "visit", "audit"},
        "manager": set(pages),
        "superuser": set(pages),
        "nurse": set(),
    }
    seen = {
        role: {name for name, url in pages.items() if status_of(client, url) == 200} for role, client in clients.items()
    }
    assert seen == allowed
    assert status_of(clients["scheduler"], pages["reports"]) == 403
    assert status_of(clients["nurse"], pages["board"]) == 403


def test_schedulers_cannot_open_clinical_answers_clinicians_can(clock, clients, cleared, visit, nurse):
    intake = sent_intake(cleared)
    response = screening(cleared, "phq9", answers=[1, 1, 1, 1, 1, 1, 1, 1, 0])
    alert = SafetyAlert.objects.create(patient=cleared, reason="phq9_item9")
    clearance = Clearance.objects.get(patient=cleared)
    chart = VisitChart.objects.create(visit=visit, nurse=nurse)
    clinical = {
        "intake": reverse("admin:patients_intakeresponse_change", args=[intake.pk]),
        "screening": reverse("admin:patients_screeningresponse_change", args=[response.pk]),
        "alert": reverse("admin:patients_safetyalert_change", args=[alert.pk]),
        "clearance": reverse("admin:patients_clearance_change", args=[clearance.pk]),
        "chart": reverse("admin:nurses_visitchart_change", args=[chart.pk]),
    }

    def opens(role):
        return {name for name, url in clinical.items() if status_of(clients[role], url) == 200}

    assert opens("scheduler") == set()
    assert opens("clinician") == set(clinical)
    assert opens("manager") == {"chart"}  # managers read charts, not intake answers or scores
    # The patient's details: contact for schedulers, the weight only for clinicians.
    profile_url = reverse("admin:patients_patientprofile_change", args=[cleared.patient_profile.pk])
    assert "Weight" not in clients["scheduler"].get(profile_url).content.decode()
    assert "eight (kg)" in clients["clinician"].get(profile_url).content.decode()


# --- the audit trail ------------------------------------------------------------------------------


def test_every_change_to_a_visit_is_kept_with_who_and_what(clock, scheduler_client, scheduler, visit, priya):
    scheduler_client.post(reverse("admin:booking_visit_reassign", args=[visit.pk]), {"provider": priya.pk})
    scheduler_client.post(
        reverse("admin:booking_visit_cancel_visit", args=[visit.pk]), {"reason": "Patient moved away"}
    )

    log = entries(visit)
    assert [e.get_action_display() for e in log] == ["create", "update", "update", "update"]
    assert log[1].changes_dict["status"] == ["held", "confirmed"]
    assert log[2].actor == scheduler and log[2].changes_dict["provider"][1] == str(priya.pk)
    assert log[3].actor == scheduler and log[3].changes_dict["status"] == ["confirmed", "cancelled"]
    assert log[3].changes_dict["cancellation_reason"] == ["", "Patient moved away"]


def test_changes_to_patients_clearances_charts_payments_and_the_roster_are_kept(clock, visit, cleared, nurse, maya):
    profile = PatientProfile.objects.get(user=cleared)
    profile.city = "Brooklyn"
    profile.save()
    clearance = Clearance.objects.get(patient=cleared)
    payment = pay(visit)
    refund = refund_create(payment=payment, amount_cents=2500, reason="goodwill", actor=UserFactory(role="manager"))
    chart = VisitChart.objects.create(visit=visit, nurse=nurse)
    reading = VitalsReading.objects.create(
        chart=chart, kind="baseline", taken_at=ny(TUESDAY, 10), systolic=120, diastolic=80, heart_rate=70, spo2=98,
        respiratory_rate=14, recorded_by=nurse,
    )  # fmt: skip
    licence = Licence.objects.get(provider=maya)
    licence.expires_on = date(2027, 1, 31)
    licence.save()
    WeeklyShift.objects.filter(provider=maya, weekday=5).first().delete()

    assert entries(profile)[-1].changes_dict["city"] == ["New York", "Brooklyn"]
    assert [e.action for e in entries(clearance)] == [LogEntry.Action.CREATE]
    assert entries(payment)[-1].changes_dict["amount_refunded_cents"] == ["0", "2500"]
    assert entries(refund)[0].action == LogEntry.Action.CREATE
    assert entries(chart)[0].action == LogEntry.Action.CREATE
    assert entries(reading)[0].changes_dict["systolic"] == ["None", "120"]
    assert entries(licence)[-1].changes_dict["expires_on"] == ["2099-12-31", "2027-01-31"]
    shift_type = ContentType.objects.get_for_model(WeeklyShift)
    assert LogEntry.objects.filter(content_type=shift_type, action=LogEntry.Action.DELETE).count() == 1
    # Never the payment's client secret, never a password.
    assert all("client_secret" not in e.changes_dict for e in entries(payment))


def test_a_role_change_is_kept_and_no_password_ever(clock, roles):
    user = UserFactory(role="staff")
    user.set_password("a-new-password-123")
    user.save()
    user_set_role(user=user, role="manager")

    log = entries(user)
    assert all("password" not in e.changes_dict for e in log)
    groups = [e.changes_dict["groups"] for e in log if "groups" in e.changes_dict]
    assert any(g["operation"] == "add" and g["objects"] == ["manager"] for g in groups)


def test_each_role_reads_only_the_audit_entries_of_what_it_may_view(clock, clients, visit, cleared):
    profile = PatientProfile.objects.get(user=cleared)
    profile.weight_kg = 90
    profile.city = "Queens"
    profile.save()
    clearance = Clearance.objects.get(patient=cleared)
    url = reverse("admin:auditlog_logentry_changelist")

    scheduler_page = clients["scheduler"].get(url).content.decode()
    clinician_page = clients["clinician"].get(url).content.decode()
    assert "visit" in scheduler_page and str(clearance) not in scheduler_page
    assert str(clearance) in clinician_page

    entry = entries(profile)[-1]
    detail = reverse("admin:auditlog_logentry_change", args=[entry.pk])
    assert "Queens" in clients["scheduler"].get(detail).content.decode()
    assert "90" not in clients["scheduler"].get(detail).content.decode().split("What changed")[1]
    assert "90" in clients["clinician"].get(detail).content.decode().split("What changed")[1]
    # One visit's history: ?object=booking.visit:<id>
    page = clients["scheduler"].get(url, {"object": f"booking.visit:{visit.pk}"}).content.decode()
    assert "2 log entries" in page  # its creation (the hold) and its confirmation
    assert clients["manager"].post(reverse("admin:auditlog_logentry_delete", args=[entry.pk])).status_code == 403


# --- who viewed a patient's record ----------------------------------------------------------------------


def test_opening_a_patients_record_in_admin_is_logged(clock, clients, cleared, scheduler, clinician_user, manager):
    response = screening(cleared, "gad7")
    profile_url = reverse("admin:patients_patientprofile_change", args=[cleared.patient_profile.pk])

    clients["scheduler"].get(profile_url)
    clients["clinician"].get(reverse("admin:patients_clearance_add"), {"patient": cleared.pk})
    clients["clinician"].get(reverse("admin:patients_screeningresponse_change", args=[response.pk]))
    clients["scheduler"].get(reverse("admin:patients_screeningresponse_change", args=[response.pk]))  # 403: not logged
    clients["scheduler"].get(reverse("admin:patients_patientprofile_changelist"))  # a list: not one record

    views = list(
        PatientRecordView.objects.order_by("pk").values_list("viewer__email", "patient__email", "what", "path")
    )
    assert views == [
        ("scheduler@example.com", "pat@example.com", "patient details in admin", profile_url),
        ("doc@example.com", "pat@example.com", "clinician review screen", reverse("admin:patients_clearance_add")),
        (
            "doc@example.com",
            "pat@example.com",
            "questionnaire in admin",
            reverse("admin:patients_screeningresponse_change", args=[response.pk]),
        ),
    ]
    page = clients["manager"].get(reverse("admin:concierge_patientrecordview_changelist")).content.decode()
    assert "Who viewed patient records" in page and "scheduler@example.com" in page


def test_record_view_for_the_nurses_visit_page(clock, nurse, cleared):
    row = audit.record_view(user=nurse, patient=cleared, what="visit page (nurse)", path="/nurse/visits/1/")

    assert (row.viewer, row.patient, row.what) == (nurse, cleared, "visit page (nurse)")
    assert audit.record_view(user=cleared, patient=cleared, what="own dashboard") is None
    assert audit.record_view(user=AnonymousUser(), patient=cleared, what="x") is None
    # Twice is two readings: the log answers who looked and when.
    audit.record_view(user=nurse, patient=cleared, what="visit page (nurse)")
    assert PatientRecordView.objects.filter(viewer=nurse).count() == 2


def test_refunds_show_who_asked(clock, scheduler, visit):
    pay(visit)
    booking.visit_transition(visit=visit, to="en_route")
    refund = visit_refund_in_full(visit=visit, reason="goodwill", actor=scheduler)
    assert Refund.objects.get(pk=refund.pk).created_by == scheduler
    assert entries(refund)[0].changes_dict["reason"] == ["None", f"Visit {visit.pk}: goodwill"]
