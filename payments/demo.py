"""Demo data for payments, after booking's demo: the demo patients' booked visits, paid.

Booking's demo confirms its visits directly; here each of those gets the deposit payment it
would have had, through the local test gateway and `payment_sync` (the same path as a card
payment), so the patient's dashboard lists payments. Idempotent: a visit already paid is skipped.
Only with PAYMENT_GATEWAY=fake: demo data never reaches Stripe.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from booking.models import Visit, VisitStatus

from . import services
from .gateways import fake
from .models import Payment, PaymentAllocation

DEMO_DOMAIN = "@demo.conciergemd.example"


def _paid_demo_payment(visit):
    with transaction.atomic():
        payment = Payment(
            patient=visit.patient,
            visit=visit,
            amount_cents=visit.amount_due_cents,
            currency=settings.PAYMENT_CURRENCY,
            gateway="fake",
            receipt_sent_at=timezone.now(),  # no receipt email for demo data
        )
        payment.full_clean()
        payment.save()
        PaymentAllocation.objects.create(payment=payment, visit=visit, amount_cents=visit.amount_due_cents)
    intent = fake.intent_create(
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        idempotency_key=payment.idempotency_key,
        description=services.DESCRIPTION,
        metadata={"payment_id": payment.pk},
    )
    services._payment_intent_record(payment_id=payment.pk, intent=intent)
    delivering, fake.DELIVER_EVENTS = fake.DELIVER_EVENTS, False
    try:
        fake.intent_pay(client_secret=intent.client_secret, card_number=fake.SUCCESS_CARD)
    finally:
        fake.DELIVER_EVENTS = delivering
    services.payment_sync(payment=payment, intent=fake.intent_retrieve(intent_id=intent.id), source="demo")
    return payment


def seed(users, lines):
    if settings.PAYMENT_GATEWAY != "fake":
        return
    visits = Visit.objects.filter(
        patient__email__endswith=DEMO_DOMAIN,
        status=VisitStatus.CONFIRMED,
        starts_at__gt=timezone.now(),
        amount_due_cents__gt=0,
    ).exclude(payment_allocations__isnull=False)
    paid = [_paid_demo_payment(v) for v in visits.select_related("patient").order_by("starts_at")]
    if paid:
        lines.append(f"  payments: {len(paid)} booked visits paid through the test gateway (card 4242 4242 4242 4242)")
