"""Data rights: a patient downloads everything we hold about them (and nothing about anyone else),
and closes their account (visits cancelled by the policy, texts and reminders stopped, login
disabled, nothing deleted, all in the audit trail).

The clock stands on Monday 2 March 2026, 9:00 in New York (14:00 UTC). Pat's upcoming paid visit
is on Tuesday at 10:00 (25 hours ahead: outside the 24-hour cut-off, a full refund).
"""

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from auditlog.models import LogEntry
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking import services as booking
from booking.checkout import checkout_start
from booking.models import (
    CancelledBy,
    SafetyHold,
    Series,
    TimeOffer,
    TimeWaitlistEntry,
    Visit,
    VisitStatus,
    WaitlistEntry,
)
from booking.tests import factories as bf
from booking.tests.world import NOW, NY, TUESDAY, ny  # noqa: F401
from concierge.errors import NotAllowed
from concierge.models import User
from concierge.testing import race
from concierge.tests.factories import TEST_PASSWORD
from notifications.models import InboundSms, Message, MessageStatus, SmsOptOut
from nurses.models import (
    AdverseEvent,
    ChartAmendment,
    ChartEvent,
    DischargeChecklist,
    DoseRecord,
    ProtocolOverride,
    VisitChart,
    VitalsReading,
)
from patients import services as patient_services
from patients.models import IntakeResponse, PatientProfile, SafetyAlert, ScreeningResponse
from patients.tests.factories import screening, sent_intake
from payments.gateways import fake
from payments.models import Payment, PaymentStatus, Refund, RefundReason, payment_reference
from portal import data_rights
from portal.models import FollowUpCheckIn

from .factories import answer, thread_for

pytestmark = pytest.mark.django_db

THURSDAY = date(2026, 3, 5)  # infusions are at least 48 hours apart
SATURDAY = date(2026, 3, 7)
PAT_PHONE = "+12125550123"
OLIVE_PHONE = "+12125550177"
MARKER = "ZEBRA-OLIVE"  # written into every free-text field of the other patient's records


def paid_visit(patient, service, starts_at, commit):
    """Held, paid by card through the fake gateway, and so confirmed (with its messages)."""
    visit = booking.visit_hold(patient=patient, service=service, starts_at=starts_at)
    payment = checkout_start(patient=patient, visit=visit)
    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CONFIRMED
    return visit


def past_visit_with_chart(patient, nurse, *, days_ago, note):
    """A completed home visit, charted: vitals, dose, a reaction, discharge, an amendment, a check-in."""
    starts = NOW - timedelta(days=days_ago)
    visit = bf.VisitFactory(
        patient=patient, status=VisitStatus.COMPLETED, starts_at=starts, ends_at=starts + timedelta(hours=2)
    )
    chart = VisitChart.objects.create(
        visit=visit, nurse=nurse, arrived_at=starts, stop_reason=note, signature_name="Nia Nurse"
    )
    VitalsReading.objects.create(
        chart=chart,
        kind="baseline",
        taken_at=starts,
        systolic=128,
        diastolic=82,
        heart_rate=72,
        spo2=98,
        respiratory_rate=14,
        sedation_note=note,
        recorded_by=nurse,
    )
    DoseRecord.objects.create(
        chart=chart,
        weight_entered=Decimal("80.0"),
        weight_unit="kg",
        weight_kg=Decimal("80.0"),
        dose_mg_per_kg=Decimal("0.50"),
        dose_mg=Decimal("40.0"),
        lot_number=f"LOT-{note}",
        volume_ml=Decimal("100.0"),
        started_at=starts + timedelta(minutes=20),
        recorded_by=nurse,
    )
    AdverseEvent.objects.create(chart=chart, kind="nausea", note=note, recorded_by=nurse)
    DischargeChecklist.objects.create(
        chart=chart,
        baseline_mental_status=True,
        vitals_near_baseline=True,
        adult_present=True,
        instructions_given=True,
        note=note,
        recorded_by=nurse,
    )
    ChartAmendment.objects.create(chart=chart, section="dose", text=note, reason=note, amended_by=nurse)
    ProtocolOverride.objects.create(
        chart=chart, kind="baseline_pressure", clinician=nurse, reason=note, recorded_by=nurse
    )
    # The visit was on hold once (a warning sign), and a clinician released it.
    SafetyHold.objects.create(
        visit=visit,
        previous_status="confirmed",
        reasons=["safety_alert"],
        staff_words=note,
        outcome="released",
        ended_at=starts - timedelta(days=1),
        note=note,
    )
    ChartEvent.objects.create(chart=chart, kind="signed", summary=note, actor=nurse)
    FollowUpCheckIn.objects.create(visit=visit, patient=patient, feeling=4, other_side_effect=note)
    return visit


def history(patient, *, phone, note, service, starts_at, cancelled_at_hour, nurse, clinician, commit):
    """Every kind of record we hold about a patient."""
    bf.patient_profile(patient, mobile_phone=phone, emergency_contact_name=f"Contact {note}")
    sent_intake(patient, medications=f"meds {note}")
    plan = bf.clearance(patient, clinician, note=f"plan {note}")
    Series.objects.create(patient=patient, clearance=plan)
    screening(patient, "phq9")
    screening(patient, "gad7")
    first = thread_for(patient, subject=f"Subject {note}", body=f"Body {note}")
    answer(first.thread, clinician, body=f"Answer {note}")
    past_visit_with_chart(patient, nurse, days_ago=10, note=note)
    visit = paid_visit(patient, service, starts_at, commit)
    # A second paid visit, cancelled by the patient: a refund by the policy.
    cancelled = paid_visit(patient, service, ny(THURSDAY, cancelled_at_hour), commit)
    with commit():
        booking.visit_cancel(visit=cancelled, by=CancelledBy.PATIENT, actor=patient)
    # Still open (after the bookings: an open alert stops infusions being booked).
    SafetyAlert.objects.create(patient=patient, reason="message", resolution_note=note)
    InboundSms.objects.create(message_sid=f"SM-{phone}", from_number=phone, action="help", received_at=NOW)
    WaitlistEntry.objects.create(zip_code="10001", email=patient.email, phone=phone)
    place = TimeWaitlistEntry.objects.create(
        patient=patient,
        service=service,
        weekdays="13",
        parts_of_day="morning",
        first_day=TUESDAY,
        last_day=THURSDAY,
        status="booked",
    )
    TimeOffer.objects.create(
        entry=place, visit=cancelled, starts_at=cancelled.starts_at, status="declined", expires_at=NOW
    )
    return visit


@pytest.fixture
def records(clock, patient, other_patient, nurse, clinician, infusion, nyc, commit):
    """Pat and Olive, each with a full history; Olive's free text carries MARKER."""
    pat_visit = history(
        patient,
        phone=PAT_PHONE,
        note="pat",
        service=infusion,
        starts_at=ny(TUESDAY, 10),
        cancelled_at_hour=10,
        nurse=nurse,
        clinician=clinician,
        commit=commit,
    )
    history(
        other_patient,
        phone=OLIVE_PHONE,
        note=MARKER,
        service=infusion,
        starts_at=ny(TUESDAY, 14),
        cancelled_at_hour=14,
        nurse=nurse,
        clinician=clinician,
        commit=commit,
    )
    SmsOptOut.objects.create(phone_number=OLIVE_PHONE, keyword="STOP", changed_at=NOW)
    return pat_visit


def export_of(user):
    return data_rights.patient_data_export(patient=User.objects.get(pk=user.pk))


# --- the download ---------------------------------------------------------------------------------


def test_the_export_holds_every_kind_of_the_patients_own_records(records, patient):
    data = export_of(patient)

    assert data["format"] == "conciergemd-patient-data" and data["version"] == 1
    assert data["generated_at"] == "2026-03-02T14:00:00+00:00"
    assert data["account"]["email"] == patient.email and data["account"]["roles"] == ["patient"]
    assert data["profile"]["mobile_phone"] == PAT_PHONE and data["profile"]["date_of_birth"] == "1985-05-17"
    assert data["profile"]["weight_kg"] == "72.0"  # decimals as strings
    assert data["consents"]["sms_opt_in"] is True and data["consents"]["terms_accepted_at"] is None
    empty = [s.key for s in data_rights.SECTIONS if not data[s.key]]
    assert empty == ["text_message_opt_out"]  # Pat never texted STOP

    assert [v["version"] for v in data["intake_versions"]] == [1, 2]
    assert data["intake_versions"][1]["answers"]["medications"] == "meds pat"
    assert data["triage_results"][0]["intake_version_id"] == data["intake_versions"][1]["id"]
    assert {q["instrument"] for q in data["questionnaires"]} == {"phq9", "gad7"}
    assert data["questionnaires"][0]["item_answers"] == [0] * 9 and data["questionnaires"][0]["band"]
    assert data["safety_alerts"][0]["state"] == "open" and data["safety_alerts"][0]["resolution_note"] == "pat"
    assert data["clearances"][0]["note"] == "plan pat" and data["clearances"][0]["dose_mg_per_kg"] == "0.50"
    assert [m["body"] for m in data["thread_messages"]] == ["Body pat", "Answer pat"]
    assert [m["sender"] for m in data["thread_messages"]] == ["patient", "care_team"]

    visits = {v["id"]: v for v in data["visits"]}
    upcoming = visits[records.pk]
    assert upcoming["status"] == "confirmed" and upcoming["service_name"] == "Home infusion"
    assert upcoming["starts_at"] == "2026-03-03T15:00:00+00:00"
    assert upcoming["starts_at_local"] == "2026-03-03T10:00:00-05:00" and upcoming["time_zone_abbreviation"] == "EST"
    assert upcoming["nurse_or_clinician"] == records.provider.user.get_full_name()
    assert upcoming["price_cents"] == 45000 and upcoming["amount_due_cents"] == 10000
    assert sorted(v["status"] for v in visits.values()) == ["cancelled", "completed", "confirmed"]

    chart = data["visit_charts"][0]
    assert visits[chart["visit_id"]]["status"] == "completed"
    assert chart["nurse_name"] == User.objects.get(email="nurse@example.com").get_full_name()
    assert data["vital_signs"][0]["systolic"] == 128 and data["vital_signs"][0]["chart_id"] == chart["id"]
    assert data["doses"][0]["dose_mg"] == "40.0" and data["doses"][0]["lot_number"] == "LOT-pat"
    assert data["adverse_events"][0]["kind"] == "nausea"
    assert data["discharge_checklists"][0]["instructions_given"] is True
    assert data["chart_amendments"][0]["text"] == "pat" and data["chart_history"][0]["summary"] == "pat"
    assert data["follow_up_checkins"][0]["visit_id"] == chart["visit_id"]

    assert sorted(p["status"] for p in data["payments"]) == ["refunded", "succeeded"]
    assert all(p["amount_cents"] == 10000 and p["reference"] == payment_reference(p["id"]) for p in data["payments"])
    assert {a["visit_id"] for a in data["payment_allocations"]} == {v for v in visits if v != chart["visit_id"]}
    assert [(r["amount_cents"], r["reason_code"]) for r in data["refunds"]] == [(10000, "cancellation")]
    sent = data["messages_sent_to_you"]
    assert {m["template"] for m in sent} >= {"confirmation", "reminder_24h", "cancelled"}
    assert {m["sent_to"] for m in sent} == {patient.email, PAT_PHONE}
    assert data["texts_from_your_number"] == [
        {"from_number": PAT_PHONE, "action": "help", "received_at": "2026-03-02T14:00:00+00:00", "reply": ""}
    ]
    assert data["waitlist"][0]["email"] == patient.email
    assert data["about_each_section"]["payments"]["left_out"]["client_secret"]
    json.dumps(data)  # plain JSON, no custom encoder needed


def test_the_export_holds_none_of_another_patients_records(records, patient, other_patient):
    text = json.dumps(export_of(patient))

    for foreign in (MARKER, other_patient.email, OLIVE_PHONE, "Olive", other_patient.last_name):
        # Whole words: the factories' random names (a nurse called "Oliver") are not Olive's.
        assert not re.search(rf"(?<!\w){re.escape(foreign)}(?!\w)", text), foreign
    data = export_of(patient)
    own = {
        "visits": set(Visit.objects.filter(patient=patient).values_list("pk", flat=True)),
        "payments": set(Payment.objects.filter(patient=patient).values_list("pk", flat=True)),
        "questionnaires": set(ScreeningResponse.objects.filter(patient=patient).values_list("pk", flat=True)),
        "intake_versions": set(IntakeResponse.objects.filter(patient=patient).values_list("pk", flat=True)),
        "messages_sent_to_you": set(Message.objects.filter(recipient=patient).values_list("pk", flat=True)),
        "visit_charts": set(VisitChart.objects.filter(visit__patient=patient).values_list("pk", flat=True)),
    }
    for key, ids in own.items():
        assert {row["id"] for row in data[key]} == ids, key
    # And Olive's export is hers: the sections are symmetrical.
    olive = json.dumps(export_of(other_patient))
    assert MARKER in olive and patient.email not in olive and PAT_PHONE not in olive
    assert json.loads(olive)["text_message_opt_out"]["is_opted_out"] is True


def test_the_export_holds_no_password_hash_and_no_gateway_secret(records, patient):
    text = json.dumps(export_of(patient))

    user = User.objects.get(pk=patient.pk)
    assert user.password and user.password not in text and '"password"' not in text.split('"about_each_section"')[0]
    for payment in Payment.objects.filter(patient=patient):
        for secret in (payment.client_secret, payment.idempotency_key, payment.intent_id):
            assert secret and secret not in text
    for refund in Refund.objects.filter(payment__patient=patient):
        assert refund.idempotency_key not in text
    for message in Message.objects.filter(recipient=patient):
        assert message.unique_key not in text


def test_the_export_costs_the_same_queries_however_long_the_history(records, patient, nurse, clinician):
    with CaptureQueriesContext(connection) as before:
        export_of(patient)

    # Much more history: charts, questionnaires, messages, threads.
    for days_ago in (20, 30, 40):
        past_visit_with_chart(patient, nurse, days_ago=days_ago, note="more")
    for _ in range(3):
        screening(patient, "pcl5")
        answer(thread_for(patient).thread, clinician)
    with CaptureQueriesContext(connection) as after:
        export_of(patient)

    assert len(after.captured_queries) == len(before.captured_queries)
    assert len(export_of(patient)["visit_charts"]) == 4


def test_the_export_query_budget(records, patient, django_assert_max_num_queries):
    fresh = User.objects.get(pk=patient.pk)
    # One per section, the phone number and the roles.
    with django_assert_max_num_queries(len(data_rights.SECTIONS) + 2):
        data_rights.patient_data_export(patient=fresh)


def test_every_model_of_our_apps_is_exported_or_explained():
    ours = {"concierge", "patients", "booking", "payments", "nurses", "notifications"}
    models = {m._meta.label for m in apps.get_models() if m._meta.app_label in ours and not m._meta.proxy}
    exported = {s.model for s in data_rights.SECTIONS}
    assert models - exported - set(data_rights.NOT_PATIENT_RECORDS) == set()
    assert exported & set(data_rights.NOT_PATIENT_RECORDS) == set()


def _columns(expression):
    from django.db.models import F

    if isinstance(expression, F):
        return [expression.name]
    return [name for part in expression.get_source_expressions() for name in _columns(part)]


def test_every_field_is_exported_or_left_out_with_a_reason():
    by_model = {}
    for section in data_rights.SECTIONS:
        model = apps.get_model(section.model)
        covered = by_model.setdefault(model, set())
        for spec in section.fields:
            lookup = spec if isinstance(spec, str) else spec[1]
            if isinstance(lookup, str):
                covered.add(model._meta.get_field(lookup.split("__")[0]).name)
            else:  # an expression (a joined name): the relations its columns go through
                for column in _columns(lookup):
                    covered.add(model._meta.get_field(column.split("__")[0]).name)
        for name, why in section.left_out.items():
            assert str(why).strip(), f"{section.key}.{name} needs a reason"
            covered.add(model._meta.get_field(name).name)
        if section.to_patient and section.to_patient != "pk":
            covered.add(model._meta.get_field(section.to_patient.split("__")[0]).name)
    for model, covered in by_model.items():
        fields = {f.name for f in model._meta.get_fields() if (f.concrete or f.many_to_many) and not f.auto_created}
        fields |= {"id"}
        assert fields - covered == set(), model._meta.label


def test_download_page_and_file(records, patient, client):
    client.force_login(patient)
    url = reverse("portal:data_export")
    assert url == "/dashboard/account/data/"

    page = client.get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert "Download my data (JSON)" in content and "Your symptom questionnaires" in content

    response = client.post(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="conciergemd-my-data-2026-03-02.json"'
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["account"]["email"] == patient.email and len(data["visits"]) == 3


def test_the_file_is_named_after_the_patients_own_date(clock, patient, client):
    bf.patient_profile(patient, "85004")  # Phoenix: 21:00 on Monday is Tuesday 04:00 UTC
    clock.move_to(datetime(2026, 3, 3, 4, 0, tzinfo=UTC))
    client.force_login(patient)
    response = client.post(reverse("portal:data_export"))
    assert response["Content-Disposition"] == 'attachment; filename="conciergemd-my-data-2026-03-02.json"'


def test_a_new_patient_with_no_profile_downloads_a_nearly_empty_file(patient, client):
    client.force_login(patient)
    data = json.loads(client.post(reverse("portal:data_export")).content)
    assert data["account"]["email"] == patient.email
    assert data["profile"] is None and data["visits"] == [] and data["text_message_opt_out"] is None


# --- who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["portal:data_export", "portal:account_close"])
def test_only_patients_use_these_pages(name, client, nurse, staff_user, clinician):
    url = reverse(name)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for person in (nurse, staff_user, clinician):
        client.force_login(person)
        assert client.get(url).status_code == 403
        assert client.post(url, {"password": TEST_PASSWORD, "confirm": "on"}).status_code == 403
        client.logout()
    assert User.objects.filter(is_active=False).count() == 0


def test_the_account_page_links_them_for_patients_only(patient, nurse, client):
    client.force_login(patient)
    content = client.get(reverse("portal:account")).content.decode()
    assert reverse("portal:data_export") in content and reverse("portal:account_close") in content
    client.force_login(nurse)  # a nurse with no roster profile lands on the same account page
    content = client.get(reverse("home-for-user")).content.decode()
    assert "Change your password" in content and reverse("portal:data_export") not in content


def test_both_posts_are_rate_limited(patient, client):
    client.force_login(patient)
    codes = [client.post(reverse("portal:data_export")).status_code for _ in range(21)]
    assert codes[:20] == [200] * 20 and codes[20] == 429
    codes = [client.post(reverse("portal:account_close"), {"password": "wrong"}).status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429
    assert User.objects.get(pk=patient.pk).is_active


# --- closing the account ---------------------------------------------------------------------------


def close(client, password=TEST_PASSWORD, reason="Moving abroad"):
    return client.post(reverse("portal:account_close"), {"password": password, "confirm": "on", "reason": reason})


def test_the_close_page_lists_the_visits_it_would_cancel(records, patient, client):
    client.force_login(patient)
    content = client.get(reverse("portal:account_close")).content.decode()
    assert "Tuesday, March 3, 10:00 AM EST" in content
    assert "You can no longer log in" in content and reverse("portal:data_export") in content
    assert 'name="password"' in content and "Close my account" in content


def test_closing_cancels_visits_by_the_policy_stops_messages_and_disables_the_login(records, patient, client, commit):
    SafetyAlert.objects.filter(patient=patient).update(resolved_at=NOW)  # an open alert stops new bookings
    held = booking.visit_hold(patient=patient, service=records.service, starts_at=ny(SATURDAY, 10))
    held_payment = checkout_start(patient=patient, visit=held)
    pending_before = set(
        Message.objects.filter(recipient=patient, status=MessageStatus.PENDING).values_list("pk", flat=True)
    )
    assert pending_before  # reminders for Tuesday's visit, a notice of the care team's answer
    counts = {m: m.objects.count() for m in (Visit, ScreeningResponse, IntakeResponse, VisitChart, Payment)}
    client.force_login(patient)

    with commit():
        response = close(client)

    assert response.status_code == 302 and response["Location"] == reverse("portal:account_close")
    visit = Visit.objects.get(pk=records.pk)
    assert visit.status == VisitStatus.CANCELLED
    assert (visit.cancelled_by, visit.cancelled_by_user, visit.cancellation_reason) == (
        CancelledBy.PATIENT,
        User.objects.get(pk=patient.pk),
        "Account closed",
    )
    refund = Refund.objects.get(visit=visit)
    assert (refund.amount_cents, refund.reason_code) == (10000, RefundReason.CANCELLATION)  # 25 h ahead: all back
    assert Visit.objects.get(pk=held.pk).status == VisitStatus.CANCELLED
    assert Payment.objects.get(pk=held_payment.pk).status == PaymentStatus.CANCELLED
    assert not Refund.objects.filter(visit=held).exists()

    # Messages: nothing left to go out to them (reminders and the cancellation notices alike).
    assert not Message.objects.filter(recipient=patient, status=MessageStatus.PENDING).exists()
    assert (
        set(Message.objects.filter(pk__in=pending_before, status=MessageStatus.CANCELLED).values_list("pk", flat=True))
        == pending_before
    )
    notices = Message.objects.filter(recipient=patient, template="cancelled", visit=visit)
    assert {m.last_error for m in notices} == {data_rights.CLOSED_MESSAGE_REASON}
    # Texts: consent withdrawn with its time, the number opted out.
    profile = PatientProfile.objects.get(user=patient)
    assert profile.sms_opt_in is False and profile.sms_opt_in_changed_at == NOW
    opt_out = SmsOptOut.objects.get(phone_number=PAT_PHONE)
    assert opt_out.is_opted_out and opt_out.keyword == "ACCOUNT CLOSED"
    # The login, the closure's time and reason.
    assert User.objects.get(pk=patient.pk).is_active is False
    assert (profile.account_closed_at, profile.account_closed_reason) == (NOW, "Moving abroad")
    assert data_rights.account_is_closed(patient=User.objects.get(pk=patient.pk))
    # Nothing deleted.
    assert {m: m.objects.count() for m in counts} == counts
    # The audit trail has the login and the profile.
    user_log = LogEntry.objects.get_for_object(User.objects.get(pk=patient.pk)).order_by("-pk").first()
    assert user_log.changes_dict["is_active"] == ["True", "False"]
    profile_log = LogEntry.objects.get_for_object(profile).order_by("-pk").first()
    assert profile_log.changes_dict["account_closed_reason"][1] == "Moving abroad"
    assert "account_closed_at" in profile_log.changes_dict and "sms_opt_in" in profile_log.changes_dict

    # This device is logged out and told what happened; the dashboard wants a login.
    page = client.get(reverse("portal:account_close"))
    content = page.content.decode()
    assert page.status_code == 200 and "Your account is closed" in content
    assert "We cancelled your 2 upcoming visits." in content and "$100.00 is on its way back" in content
    assert "(888) 555-0142" in content
    assert client.get(reverse("portal:dashboard"))["Location"].startswith(reverse("login"))


def test_the_closed_account_is_told_so_at_login_and_a_wrong_password_is_not(records, patient, client):
    data_rights.patient_account_close(patient=patient)

    response = client.post(reverse("login"), {"username": patient.email, "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert "This account is closed. Please call us if you need it again." in response.content.decode()
    assert "_auth_user_id" not in client.session
    wrong = client.post(reverse("login"), {"username": patient.email, "password": "not-the-password-1"})
    assert "This account is closed" not in wrong.content.decode()
    assert "do not match an account" in wrong.content.decode()
    # A login that is still open is unaffected.
    ok = client.post(reverse("login"), {"username": "other@example.com", "password": TEST_PASSWORD})
    assert ok.status_code == 302


def test_every_other_session_of_theirs_ends(records, patient, client):
    from concierge.testing import VerifiedClient

    phone = VerifiedClient()
    phone.force_login(patient)
    assert phone.get(reverse("portal:dashboard")).status_code == 200
    client.force_login(patient)

    close(client)

    assert phone.get(reverse("portal:dashboard"))["Location"].startswith(reverse("login"))


def test_inside_the_cut_off_closing_is_refused_and_nothing_changes(records, patient, client, clock):
    clock.move_to(NOW + timedelta(hours=2))  # Tuesday's 10:00 visit is 23 hours away
    client.force_login(patient)
    pending = set(Message.objects.filter(status=MessageStatus.PENDING).values_list("pk", flat=True))

    page = client.get(reverse("portal:account_close"))
    assert "Please call us at (888) 555-0142" in page.content.decode()
    assert 'name="password"' not in page.content.decode()  # no form to fill in for nothing
    response = close(client)

    assert response.status_code == 200
    assert "less than 24 hours away" in response.content.decode()
    assert Visit.objects.get(pk=records.pk).status == VisitStatus.CONFIRMED
    assert User.objects.get(pk=patient.pk).is_active
    profile = PatientProfile.objects.get(user=patient)
    assert profile.account_closed_at is None and profile.sms_opt_in
    assert set(Message.objects.filter(status=MessageStatus.PENDING).values_list("pk", flat=True)) == pending
    assert not SmsOptOut.objects.filter(phone_number=PAT_PHONE).exists()
    assert Refund.objects.filter(payment__patient=patient).count() == 1  # the earlier cancellation's only
    with pytest.raises(data_rights.AccountCloseRefused):
        data_rights.patient_account_close(patient=patient)


def test_a_visit_under_way_also_stops_it(clock, patient, nurse):
    bf.patient_profile(patient)
    bf.VisitFactory(patient=patient, status=VisitStatus.IN_PROGRESS, starts_at=NOW - timedelta(minutes=30))
    with pytest.raises(data_rights.AccountCloseRefused):
        data_rights.patient_account_close(patient=patient)
    assert User.objects.get(pk=patient.pk).is_active


def test_closing_cancels_visits_of_several_nurses_in_the_one_lock_order(records, patient, commit):
    """Each visit's cancellation locks its nurse, the patient and the visit: one after another, the
    second nurse would be locked after the first visit. The closing locks them all first (the
    lock order is watched under the tests: concierge.testing.lock_order_watch)."""
    other_nurse = bf.ProviderFactory(home_zip="10011")
    other = bf.VisitFactory(
        patient=patient,
        provider=other_nurse,
        service=records.service,
        status=VisitStatus.CONFIRMED,
        starts_at=ny(SATURDAY, 10),
        ends_at=ny(SATURDAY, 12),
    )

    with commit():
        closure = data_rights.patient_account_close(patient=patient)

    assert closure.visits_cancelled == 2
    assert set(Visit.objects.filter(pk__in=[records.pk, other.pk]).values_list("status", flat=True)) == {
        VisitStatus.CANCELLED
    }


def test_closing_twice_has_one_effect(records, patient, commit):
    with commit():
        first = data_rights.patient_account_close(patient=patient, reason="First")
    entries = LogEntry.objects.count()
    messages = Message.objects.count()

    again = data_rights.patient_account_close(patient=User.objects.get(pk=patient.pk), reason="Second")

    assert (first.visits_cancelled, first.refund_cents, first.already_closed) == (1, 10000, False)
    assert (again.visits_cancelled, again.already_closed, again.closed_at) == (0, True, first.closed_at)
    assert PatientProfile.objects.get(user=patient).account_closed_reason == "First"
    assert Refund.objects.filter(payment__patient=patient).count() == 2
    assert LogEntry.objects.count() == entries and Message.objects.count() == messages


def test_staff_reopen_a_closed_account_and_it_can_be_closed_again(records, patient, staff_user, client):
    from concierge.roles import roles_sync

    roles_sync()
    data_rights.patient_account_close(patient=patient, reason="Moving abroad")
    with pytest.raises(NotAllowed):
        patient_services.patient_account_reopen(patient=patient, actor=patient)

    patient_services.patient_account_reopen(patient=patient, actor=User.objects.get(pk=staff_user.pk))
    patient_services.patient_account_reopen(patient=patient, actor=User.objects.get(pk=staff_user.pk))

    user = User.objects.get(pk=patient.pk)
    profile = PatientProfile.objects.get(user=patient)
    assert user.is_active and profile.account_closed_at is None and not data_rights.account_is_closed(patient=user)
    assert profile.sms_opt_in is False  # texts wait for the patient's own yes
    assert client.login(username=patient.email, password=TEST_PASSWORD)
    # A login made active again in admin only (the profile still marked closed) can be closed again.
    User.objects.filter(pk=patient.pk).update(is_active=False)
    data_rights.patient_account_close(patient=User.objects.get(pk=patient.pk))
    user.is_active = True
    user.save()
    later = data_rights.patient_account_close(patient=User.objects.get(pk=patient.pk), now=NOW + timedelta(hours=1))
    assert not later.already_closed and not User.objects.get(pk=patient.pk).is_active
    assert PatientProfile.objects.get(user=patient).account_closed_at == NOW + timedelta(hours=1)


def test_wrong_password_or_no_confirmation_keeps_what_was_typed(patient, client):
    client.force_login(patient)
    response = client.post(reverse("portal:account_close"), {"password": "not-mine-at-all", "reason": "Too expensive"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "That is not your password" in content and "Please tick the box to confirm" in content
    assert "Too expensive" in content
    assert User.objects.get(pk=patient.pk).is_active


def test_a_patient_without_a_profile_can_close(patient, client):
    client.force_login(patient)
    assert close(client).status_code == 302
    assert PatientProfile.objects.get(user=patient).account_closed_at is not None
    assert not User.objects.get(pk=patient.pk).is_active


def test_the_closure_reason_never_reaches_the_logs(records, patient, caplog):
    caplog.set_level("DEBUG")
    data_rights.patient_account_close(patient=patient, reason="My depression got worse")
    assert "depression" not in caplog.text and patient.email not in caplog.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_closings_at_once_close_once(infusion, nyc, patient):
    with time_machine.travel(NOW, tick=True):
        bf.cleared_patient(patient)
        visit = booking.visit_hold(patient=patient, service=infusion, starts_at=ny(TUESDAY, 10))
        booking.visit_confirm(visit=visit)
        outcomes = race(*[lambda: data_rights.patient_account_close(patient=User.objects.get(pk=patient.pk))] * 2)

    assert [o.error for o in outcomes] == [None, None]
    assert sorted(o.value.already_closed for o in outcomes) == [False, True]
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CANCELLED
    assert Message.objects.filter(recipient=patient, template="cancelled").count() == 2  # email and text, once
    profile = PatientProfile.objects.get(user=patient)
    closings = LogEntry.objects.get_for_object(profile).filter(
        action=LogEntry.Action.UPDATE, changes__icontains="account_closed_at"
    )
    assert closings.count() == 1


# --- in the browser, at phone width ------------------------------------------------------------------


@pytest.fixture
def demo(transactional_db):
    from django.core.management import call_command

    call_command("seed_demo")


def test_the_demo_patient_downloads_their_data_then_closes_their_account_on_a_phone(live_server, page, axe, demo):
    from pathlib import Path

    from playwright.sync_api import expect

    from concierge.demo import DEMO_PASSWORD
    from concierge.testing import browser_login

    alex = User.objects.get(email="patient@demo.conciergemd.example")
    upcoming = set(Visit.objects.filter(patient=alex, status=VisitStatus.CONFIRMED).values_list("pk", flat=True))
    assert len(upcoming) == 2

    browser_login(page, live_server.url, alex, DEMO_PASSWORD, axe=axe)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alex")
    axe(page)
    page.get_by_role("button", name="Show menu").click()
    page.get_by_role("link", name="My account").click()
    expect(page.get_by_role("heading", name="Your data")).to_be_visible()
    axe(page)
    page.get_by_role("link", name="Download your data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Download your data")
    axe(page)

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download my data (JSON)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("conciergemd-my-data-")
    assert download.suggested_filename.endswith(".json")
    data = json.loads(Path(download.path()).read_text())
    assert data["account"]["email"] == alex.email and data["profile"]["legal_last_name"] == "Morgan"
    assert {v["id"] for v in data["visits"] if v["status"] == "confirmed"} == upcoming
    assert data["clearances"] and data["intake_versions"] and data["payments"]
    assert "password" not in data["account"]

    page.get_by_role("link", name="Close your account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Close your account")
    axe(page)
    page.get_by_label("Your password").fill(DEMO_PASSWORD)
    page.get_by_label("I understand").check()
    page.get_by_label("Would you tell us why? (optional)").fill("Moving abroad")
    page.get_by_role("button", name="Close my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account is closed")
    axe(page)
    expect(page.get_by_text("We cancelled your 2 upcoming visits.")).to_be_visible()

    assert not User.objects.get(pk=alex.pk).is_active
    assert (
        set(Visit.objects.filter(pk__in=upcoming, status=VisitStatus.CANCELLED).values_list("pk", flat=True))
        == upcoming
    )

    page.goto(live_server.url + reverse("login"))
    axe(page)
    page.get_by_label("Email").fill(alex.email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("This account is closed. Please call us")
    axe(page)


def test_staff_reopen_a_closed_account_from_admin(clock, patient, staff_user, client):
    from patients.tests.factories import PatientProfileFactory
    from portal.data_rights import patient_account_close

    PatientProfileFactory(user=patient)
    patient_account_close(patient=patient, reason="moving away")
    client.force_login(staff_user)

    response = client.post(
        "/admin/patients/patientprofile/",
        {"action": "reopen_accounts", "_selected_action": [patient.patient_profile.pk]},
        follow=True,
    )

    assert "1 account(s) reopened." in response.content.decode()
    patient.refresh_from_db()
    assert patient.is_active
    assert patient.patient_profile.account_closed_at is None
    page = client.get(f"/admin/patients/patientprofile/{patient.patient_profile.pk}/change/").content.decode()
    assert "Account" in page


def test_seed_demo_reopens_a_demo_account_someone_closed(db):
    from django.core.management import call_command

    from concierge.models import User
    from portal.data_rights import patient_account_close

    call_command("seed_demo")
    riley = User.objects.get(email="patient3@demo.conciergemd.example")
    patient_account_close(patient=riley)

    call_command("seed_demo")

    riley.refresh_from_db()
    assert riley.is_active and riley.patient_profile.account_closed_at is None
