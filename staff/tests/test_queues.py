"""The queues page and the counts on the admin index: each queue's contents, and who sees which."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.models import SafetyHold, VisitStatus, WaitlistEntry
from booking.tests import factories as bf
from concierge.tests.factories import UserFactory
from notifications.models import Message, MessageStatus
from patients.models import SafetyAlert
from payments.models import Payment, PaymentStatus, Refund, RefundStatus
from portal.models import MessageThread
from staff import queues

from .conftest import NOW, logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(clock, roles):
    """One item in every queue (and some that must not show)."""
    alerted = UserFactory(role="patient", first_name="Ada", last_name="Alert")
    bf.patient_profile(alerted)
    SafetyAlert.objects.create(patient=alerted, reason="phq9_item9")
    resolved = UserFactory(role="patient", first_name="Res", last_name="Olved")
    SafetyAlert.objects.create(patient=resolved, reason="phq9_item9", resolved_at=NOW)

    newcomer = UserFactory(role="patient", first_name="Nell", last_name="Newcomer")
    bf.patient_profile(newcomer)  # sent intake, no decision yet: waits for a clinician

    Message.objects.create(
        channel="sms",
        recipient=newcomer,
        to_address="+12125550123",
        template="reminder_24h",
        unique_key="test:failed",
        due_at=NOW,
        status=MessageStatus.FAILED,
        last_error="21211 invalid number",
    )
    Message.objects.create(
        channel="email", recipient=newcomer, template="reminder_24h", unique_key="test:sent", due_at=NOW, status="sent"
    )

    disputed = Payment.objects.create(
        patient=newcomer, visit=bf.VisitFactory(patient=newcomer), amount_cents=10000,
        gateway="fake", status=PaymentStatus.DISPUTED, dispute_status="needs_response", disputed_at=NOW,
    )  # fmt: skip
    refunded = Payment.objects.create(
        patient=alerted, visit=bf.VisitFactory(patient=alerted), amount_cents=45000,
        gateway="fake", status=PaymentStatus.SUCCEEDED,
    )  # fmt: skip
    Refund.objects.create(
        payment=refunded, amount_cents=45000, reason_code="staff", reason="x", status=RefundStatus.FAILED,
        failure_reason="expired_or_canceled_card",
    )  # fmt: skip

    WaitlistEntry.objects.create(zip_code="99501", email="a@example.com")
    WaitlistEntry.objects.create(zip_code="99501", email="b@example.com")
    WaitlistEntry.objects.create(zip_code="59001", phone="+14065550100")
    WaitlistEntry.objects.create(zip_code="59001", email="done@example.com", contacted_at=NOW)

    MessageThread.objects.create(
        patient=alerted, subject="About my dose", topic="health", waiting_since=NOW - timedelta(days=3)
    )
    # Ada's visit went on hold with her alert; an earlier hold of another visit was released.
    on_hold = bf.VisitFactory(patient=alerted, status=VisitStatus.ON_HOLD, starts_at=NOW + timedelta(days=2))
    SafetyHold.objects.create(visit=on_hold, previous_status="confirmed", reasons=["safety_alert"], safety=True)
    released = bf.VisitFactory(patient=resolved)
    SafetyHold.objects.create(visit=released, previous_status="confirmed", outcome="released", ended_at=NOW, note="ok")
    return {"disputed": disputed, "refunded": refunded, "on_hold": on_hold}


def by_key(user):
    return {q.key: q for q in queues.queues_for(user, now=NOW)}


def test_each_queue_lists_what_waits(waiting, manager):
    seen = by_key(manager)

    (held,) = seen["holds"].rows  # first on the page, and no reason shown (clinical)
    assert (held["patient"], held["when"]) == ("Ada Alert", "Wed, Mar 4, 9:00 AM EST")
    assert held["url"] == reverse("admin:booking_visit_change", args=[waiting["on_hold"].pk])
    assert [r["patient"] for r in seen["alerts"].rows] == ["Ada Alert"]
    assert [r["patient"] for r in seen["review"].rows] == ["Ada Alert", "Nell Newcomer"]  # open alert first
    assert [(r["template"], r["error"]) for r in seen["messages"].rows] == [("reminder_24h", "21211 invalid number")]
    assert [(r["what"], r["reference"], r["cents"]) for r in seen["payments"].rows] == [
        ("Disputed", waiting["disputed"].reference, 10000),
        ("Refund failed", waiting["refunded"].reference, 45000),
    ]
    # By ZIP, most asked first; someone already contacted is not waiting.
    assert seen["waitlist"].rows == [{"zip": "99501", "count": 2}, {"zip": "59001", "count": 1}]
    assert seen["waitlist"].count == 3
    (thread,) = seen["replies"].rows
    assert thread["patient"] == "Ada Alert" and thread["topic"] == "My health or treatment"
    assert {k: q.count for k, q in seen.items()} == {
        "holds": 1,
        "alerts": 1,
        "review": 2,
        "replies": 1,
        "messages": 1,
        "messages-unknown": 0,
        "payments": 2,
        "waitlist": 3,
    }


def test_the_review_queue_counts_everyone_waiting_beyond_the_rows_it_shows(waiting):
    with CaptureQueriesContext(connection) as queries:
        shown = queues.review_queue(limit=1)

    assert [r["patient"] for r in shown.rows] == ["Ada Alert"] and shown.count == 2
    assert len([q for q in queries if '"patients_patientprofile"' in q["sql"]]) == 1  # one look at every patient


def test_who_sees_which_queue(waiting, manager, scheduler, clinician_user):
    # Visits on hold come first, for everyone who sees visits.
    assert list(by_key(manager)) == [
        "holds", "alerts", "review", "replies", "messages", "messages-unknown", "payments", "waitlist"
    ]  # fmt: skip
    assert list(by_key(scheduler)) == ["holds", "replies", "messages", "messages-unknown", "payments", "waitlist"]
    assert list(by_key(clinician_user)) == ["holds", "alerts", "review", "replies"]
    # A health thread's subject is for those who may answer it: clinicians, not schedulers or managers.
    assert by_key(clinician_user)["replies"].rows[0]["subject"] == "About my dose"
    assert by_key(scheduler)["replies"].rows[0]["subject"] == ""
    # Managers see who waits for a clinician but get no link into the clinical records.
    assert by_key(manager)["alerts"].links == [] and by_key(clinician_user)["alerts"].links


def test_the_queues_page_and_the_admin_index_counts(waiting, manager_client, scheduler_client):
    page = manager_client.get(reverse("admin:staff_queues")).content.decode()
    for text in (
        "Patient safety: open alerts",
        "Ada Alert",
        "21211 invalid number",
        "Disputed",
        "Refund failed",
        "99501",
    ):
        assert text in page
    assert "About my dose" not in page

    index = manager_client.get(reverse("admin:index")).content.decode()
    assert 'Patient safety: open alerts</a>: <span class="count">1</span>' in index
    assert 'Payments needing attention</a>: <span class="count">2</span>' in index
    assert 'Patients waiting for a clinician</a>: <span class="count">2</span>' in index
    assert reverse("admin:staff_reports") in index and reverse("admin:booking_board") in index

    index = scheduler_client.get(reverse("admin:index")).content.decode()
    assert "Patient safety: open alerts" not in index and reverse("admin:staff_reports") not in index
    assert 'Coverage waitlist</a>: <span class="count">3</span>' in index


def test_the_queues_take_the_same_queries_however_long_they_are(waiting, manager):
    queues.queues_for(manager, now=NOW)  # the manager's permissions, loaded once per request
    with CaptureQueriesContext(connection) as few:
        queues.queues_for(manager, now=NOW)
    for i in range(5):
        Message.objects.create(
            channel="email", recipient=manager, template="reminder_24h", unique_key=f"more:{i}",
            due_at=NOW, status=MessageStatus.FAILED,
        )  # fmt: skip
        WaitlistEntry.objects.create(zip_code=f"9950{i}", email=f"w{i}@example.com")
        held = bf.VisitFactory(status=VisitStatus.ON_HOLD, provider=bf.ProviderFactory())
        SafetyHold.objects.create(visit=held, previous_status="confirmed")
    with CaptureQueriesContext(connection) as many:
        queues.queues_for(manager, now=NOW)
    # 19: the public holidays the reply clock skips (issue 15), interrupted sends (issue 16), the
    # visits on hold (issue 14), patients waiting for a clinician (two each: rows and a count)
    assert len(many) == len(few) <= 19


def test_the_review_screen_is_linked_only_for_who_may_decide(waiting, clinician_user):
    """A decision is a clinical act (the clinician role, superuser or not): the review screen
    answers anyone else 403, so their lists name the patient without a link to it."""
    superuser = UserFactory(role="staff", is_staff=True, is_superuser=True, email="sam@example.com")
    alert = SafetyAlert.objects.get(resolved_at__isnull=True)
    screen = reverse("admin:patients_clearance_add") + "?patient="
    for user, decides in ((clinician_user, True), (superuser, False)):
        client = logged_in(user)
        review_list = client.get(reverse("admin:patients_reviewqueueentry_changelist")).content.decode()
        assert "Ada Alert" in review_list and "Nell Newcomer" in review_list
        for url in (
            reverse("admin:patients_reviewqueueentry_changelist"),
            reverse("admin:staff_queues"),
            reverse("admin:patients_safetyalert_change", args=[alert.pk]),
        ):
            assert (screen in client.get(url).content.decode()) is decides, (user, url)
        assert client.get(f"{screen}{alert.patient_id}").status_code == (200 if decides else 403)


def test_staff_refused_a_page_are_told_why_and_led_back_to_admin(waiting):
    superuser = UserFactory(role="staff", is_staff=True, is_superuser=True, email="sam@example.com")
    response = logged_in(superuser).get(reverse("admin:patients_clearance_add"))

    assert response.status_code == 403
    page = response.content.decode()
    assert "Your role does not include it." in page and f'href="{reverse("admin:index")}"' in page
    assert "please call us" not in page  # that is what a patient reads
