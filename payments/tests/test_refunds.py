"""Staff refunds (service and admin), refund status from the gateway's events, disputes."""

import pytest
from django.urls import reverse

from booking.checkout import checkout_start
from concierge.errors import NotAllowed
from concierge.roles import roles_sync
from notifications.models import Message
from payments import services
from payments.errors import RefundNotAllowed, RefundTooLarge
from payments.gateways import GatewayUnavailable, fake
from payments.models import FakeGatewayObject, Payment, PaymentStatus, Refund, RefundReason, RefundStatus

from .helpers import post_event


@pytest.fixture
def paid(held, patient, commit):
    payment = checkout_start(patient=patient, visit=held)
    with commit():
        fake.intent_pay(client_secret=payment.client_secret, card_number=fake.SUCCESS_CARD)
    payment.refresh_from_db()
    return payment


@pytest.fixture
def staff(staff_user):
    roles_sync()
    return staff_user


def test_staff_refund_any_amount_with_a_reason(paid, staff, commit):
    with commit():
        refund = services.refund_create(payment=paid, amount_cents=2500, reason="Goodwill: nurse was late", actor=staff)

    refund.refresh_from_db()
    paid.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.reason_code == RefundReason.STAFF
    assert refund.created_by == staff
    assert paid.status == PaymentStatus.PARTIALLY_REFUNDED
    assert paid.refundable_cents == 7500


def test_staff_cannot_refund_more_than_is_left_or_without_a_reason(paid, staff, commit):
    with commit():
        services.refund_create(payment=paid, amount_cents=8000, reason="Part", actor=staff)
    with pytest.raises(RefundTooLarge) as caught:
        services.refund_create(payment=paid, amount_cents=2001, reason="Too much", actor=staff)
    assert "$20.00" in str(caught.value.message)
    with pytest.raises(RefundNotAllowed):
        services.refund_create(payment=paid, amount_cents=100, reason="  ", actor=staff)
    assert Refund.objects.count() == 1


def test_only_people_allowed_to_refund_can(paid, patient, clinician):
    roles_sync()
    for person in (patient, clinician):
        with pytest.raises(NotAllowed):
            services.refund_create(payment=paid, amount_cents=100, reason="no", actor=person)
    assert not Refund.objects.exists()


def test_a_refund_sent_twice_is_one_refund_at_the_gateway(paid, staff, monkeypatch):
    """The first try timed out after the gateway made the refund; the retry uses the same key."""
    real = fake.refund_create
    keys = []

    def made_then_timed_out(**kwargs):
        keys.append(kwargs["idempotency_key"])
        real(**kwargs)
        raise GatewayUnavailable()

    refund = services.refund_create(payment=paid, amount_cents=10000, reason="Duplicate booking", actor=staff)
    fake.DELIVER_EVENTS = False  # and Stripe's event has not arrived either
    monkeypatch.setattr(fake, "refund_create", made_then_timed_out)
    with pytest.raises(GatewayUnavailable):
        services.refund_submit(refund_id=refund.pk)
    monkeypatch.setattr(fake, "refund_create", lambda **kw: keys.append(kw["idempotency_key"]) or real(**kw))
    services.refund_submit(refund_id=refund.pk)
    services.refund_submit(refund_id=refund.pk)  # a third run finds it done

    refund.refresh_from_db()
    assert keys == [refund.idempotency_key, refund.idempotency_key]
    assert FakeGatewayObject.objects.filter(kind="refund").count() == 1
    assert refund.status == RefundStatus.SUCCEEDED


def test_a_refund_that_fails_later_is_marked_and_staff_are_told(paid, staff, commit):
    with commit():
        refund = services.refund_create(payment=paid, amount_cents=10000, reason="Cancelled by phone", actor=staff)
    refund.refresh_from_db()
    paid.refresh_from_db()
    assert paid.status == PaymentStatus.REFUNDED

    with commit():
        fake.refund_set_status(refund.refund_id, "failed", failure_reason="expired_or_canceled_card")

    refund.refresh_from_db()
    paid.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert refund.failure_reason == "expired_or_canceled_card"
    assert paid.status == PaymentStatus.SUCCEEDED
    assert paid.refundable_cents == 10000
    alert = Message.objects.get(template="staff_alert")
    assert "failed" in alert.context["subject"].lower()


def test_a_refund_made_in_stripes_dashboard_is_recorded(paid, client, commit):
    fake.DELIVER_EVENTS = False
    made_elsewhere = fake.refund_create(
        intent_id=paid.intent_id, amount_cents=3000, idempotency_key="dashboard-1", metadata={}
    )
    event = fake.event_build("refund.created", fake._get(made_elsewhere.id, "refund").data)
    with commit():
        assert post_event(client, event).status_code == 200

    refund = Refund.objects.get()
    paid.refresh_from_db()
    assert refund.refund_id == made_elsewhere.id
    assert refund.amount_cents == 3000
    assert refund.status == RefundStatus.SUCCEEDED
    assert paid.amount_refunded_cents == 3000


def test_a_dispute_marks_the_payment_and_alerts_staff_once(paid, client, commit):
    fake.DELIVER_EVENTS = False
    dispute = fake.dispute_create(paid.intent_id)
    event = fake.event_build("charge.dispute.created", dispute)
    with commit():
        post_event(client, event)
        post_event(client, fake.event_build("charge.dispute.created", dispute))  # a second, different event id

    paid.refresh_from_db()
    assert paid.status == PaymentStatus.DISPUTED
    assert paid.dispute_id == dispute["id"]
    assert paid.dispute_status == "needs_response"
    assert Message.objects.filter(template="staff_alert").count() == 1


# --- admin ------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_admin_lists_payments_and_filters_disputes_and_failed_refunds(
    staff_client, paid, django_assert_max_num_queries
):
    # 13: the page itself, plus loading the second-step device that verifies the session.
    with django_assert_max_num_queries(13):
        response = staff_client.get(reverse("admin:payments_payment_changelist"))
    assert response.status_code == 200
    # A reference stays on one line: "P-" alone at a line's end reads as another code.
    assert f'<span class="text-nowrap">{paid.reference}</span>' in response.content.decode()
    assert staff_client.get(reverse("admin:payments_payment_changelist") + "?status__exact=disputed").status_code == 200
    assert staff_client.get(reverse("admin:payments_payment_changelist") + "?refunds=failed").status_code == 200
    change = staff_client.get(reverse("admin:payments_payment_change", args=[paid.pk]))
    assert "Refund…" in change.content.decode()
    assert paid.client_secret not in change.content.decode()


def test_admin_refund_form(staff_client, paid, commit):
    url = reverse("admin:payments_payment_refund", args=[paid.pk])
    page = staff_client.get(url)
    assert page.status_code == 200
    assert "$100.00" in page.content.decode()
    # The payment as patients quote it (its opaque reference), never its row number.
    assert f"Refund payment {paid.reference}" in page.content.decode()
    assert f'<h1>Refund payment <span class="text-nowrap">{paid.reference}</span></h1>' in page.content.decode()
    assert f"P-{paid.pk}<" not in page.content.decode()

    too_much = staff_client.post(url, {"amount": "150.00", "reason": "Oops"})
    assert too_much.status_code == 200
    assert "At most $100.00 can still be refunded." in too_much.content.decode()
    no_reason = staff_client.post(url, {"amount": "10.00", "reason": ""})
    assert "This field is required." in no_reason.content.decode()
    assert 'value="10.00"' in no_reason.content.decode()  # what was typed is kept
    assert not Refund.objects.exists()

    with commit():
        done = staff_client.post(url, {"amount": "40.00", "reason": "Shorter visit"})
    assert done.status_code == 302
    refund = Refund.objects.get()
    assert (refund.amount_cents, refund.reason, refund.status) == (4000, "Shorter visit", RefundStatus.SUCCEEDED)


def test_the_refund_form_is_for_those_allowed_to_refund(client, clinician, paid):
    roles_sync()
    client.force_login(clinician)
    response = client.get(reverse("admin:payments_payment_refund", args=[paid.pk]))
    assert response.status_code == 403
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED
