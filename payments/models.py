"""Money for visits: payments, what each covers, refunds, and the gateway's events.

Amounts are integer cents in USD. Rows here are written only by `services.py` (never by admin
forms or signals), under row locks, so a retried webhook, a racing return page or a second click
never charges, confirms or refunds twice.
"""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from concierge.db import choice_label
from concierge.opaque import decode, encode


def _payment_key():
    # Not the integer id alone: two databases (a laptop and staging) sharing one Stripe test
    # account would both have a payment 1, and Stripe would answer the second with the first's
    # PaymentIntent. A random part keeps every row's key its own; it is made once, with the row.
    return f"payment-{uuid.uuid4().hex}"


def _refund_key():
    return f"refund-{uuid.uuid4().hex}"


def payment_reference(pk: int | None) -> str:
    """What patients and staff call a payment: "P-" and its opaque id (concierge/opaque.py), not the
    row number, which would tell a patient how many payments the clinic has taken."""
    return f"P-{encode(pk).upper()}" if pk else "P-"


def payment_pk_from_reference(text: str) -> int | None:
    """The row behind a reference as typed into admin's search ("p-86aycedc2symj" works too)."""
    token = text.strip().lower().removeprefix("p-")
    try:
        return decode(token)
    except ValueError:
        return None


class PaymentStatus(models.TextChoices):
    REQUIRES_PAYMENT = "requires_payment", _("Waiting for payment")
    PROCESSING = "processing", _("Processing")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Declined")  # the last attempt failed; the patient may try again
    # A payment (el pago) is masculine in Spanish, a visit (la visita) feminine: one word, two contexts.
    CANCELLED = "cancelled", pgettext_lazy("payment", "Cancelled")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partly refunded")
    DISPUTED = "disputed", _("Disputed")


# Not paid yet: the patient may still pay (one such payment per visit or series at a time).
OPEN_STATUSES = (PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.PROCESSING, PaymentStatus.FAILED)
# Money was taken (some of it may have gone back since).
PAID_STATUSES = (
    PaymentStatus.SUCCEEDED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
    PaymentStatus.DISPUTED,
)


class GatewayName(models.TextChoices):
    STRIPE = "stripe", _("Stripe")
    FAKE = "fake", _("Local test gateway")


class Payment(models.Model):
    """One attempt to collect what a visit (or a series of visits) costs at booking.

    It maps to one PaymentIntent at the gateway; a declined card is retried on the same intent,
    so one visit can never be charged twice. `allocations` say how much of it is for each visit.
    """

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    visit = models.ForeignKey("booking.Visit", on_delete=models.PROTECT, related_name="payments", null=True, blank=True)
    series = models.ForeignKey(
        "booking.Series", on_delete=models.PROTECT, related_name="payments", null=True, blank=True
    )
    amount_cents = models.PositiveIntegerField(_("amount (cents)"), validators=[MinValueValidator(1)])
    currency = models.CharField(_("currency"), max_length=3, default="usd")
    status = models.CharField(
        _("status"), max_length=24, choices=PaymentStatus.choices, default=PaymentStatus.REQUIRES_PAYMENT
    )
    gateway = models.CharField(_("gateway"), max_length=16, choices=GatewayName.choices)
    intent_id = models.CharField(_("gateway payment id"), max_length=255, blank=True)
    # Lets the payment page show the card form again without asking the gateway; never shown in admin.
    client_secret = models.CharField(max_length=255, blank=True, editable=False)
    charge_id = models.CharField(_("gateway charge id"), max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True, default=_payment_key, editable=False)
    failure_message = models.CharField(_("last decline message"), max_length=255, blank=True)
    amount_refunded_cents = models.PositiveIntegerField(_("refunded (cents)"), default=0)
    dispute_id = models.CharField(_("gateway dispute id"), max_length=255, blank=True)
    dispute_status = models.CharField(_("dispute status"), max_length=32, blank=True)

    succeeded_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("refund_payment", _("Can refund payments"))]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-created_at", "-id"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(visit__isnull=False, series__isnull=True)
                    | models.Q(visit__isnull=True, series__isnull=False)
                ),
                name="payment_for_a_visit_or_a_series",
            ),
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(amount_refunded_cents__lte=models.F("amount_cents")),
                name="payment_refunds_within_amount",
            ),
            # A second click or a second tab finds the open payment instead of starting another.
            models.UniqueConstraint(
                fields=["visit"],
                condition=models.Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="payment_one_open_per_visit",
            ),
            models.UniqueConstraint(
                fields=["series"],
                condition=models.Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="payment_one_open_per_series",
            ),
            models.UniqueConstraint(
                fields=["gateway", "intent_id"], condition=~models.Q(intent_id=""), name="payment_intent_unique"
            ),
        ]

    def __str__(self):
        return f"{self.reference} ({choice_label(PaymentStatus, self.status)})"

    @property
    def reference(self):
        return payment_reference(self.pk)

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @property
    def is_paid(self):
        return self.status in PAID_STATUSES

    @property
    def refundable_cents(self):
        if not self.is_paid:
            return 0
        return self.amount_cents - self.amount_refunded_cents


class PaymentAllocation(models.Model):
    """The part of a payment that pays for one visit (all of it for a single visit)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="allocations")
    visit = models.ForeignKey("booking.Visit", on_delete=models.PROTECT, related_name="payment_allocations")
    amount_cents = models.PositiveIntegerField(_("amount (cents)"))

    class Meta:
        ordering = ["visit__starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "visit"], name="allocation_unique"),
        ]

    def __str__(self):
        return f"${self.amount_cents / 100:,.2f} for visit {self.visit_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    REQUIRES_ACTION = "requires_action", _("Needs action")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", pgettext_lazy("payment", "Cancelled")


# Money on its way back or gone back: counts against what is still refundable.
REFUND_COUNTING_STATUSES = (RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION, RefundStatus.SUCCEEDED)


class RefundReason(models.TextChoices):
    CANCELLATION = "cancellation", _("Cancellation policy")
    UNFULFILLED = "unfulfilled", _("Paid, but the visit could not be booked")
    STAFF = "staff", _("Staff refund")


class Refund(models.Model):
    """Money sent back. The row comes first; the gateway call carries its key, so a retry is one refund."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    # The visit an automatic refund is for (cancellation policy, time taken); empty for staff refunds.
    visit = models.ForeignKey("booking.Visit", on_delete=models.PROTECT, related_name="refunds", null=True, blank=True)
    amount_cents = models.PositiveIntegerField(_("amount (cents)"), validators=[MinValueValidator(1)])
    reason_code = models.CharField(_("kind"), max_length=16, choices=RefundReason.choices)
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    refund_id = models.CharField(_("gateway refund id"), max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True, default=_refund_key, editable=False)
    failure_reason = models.CharField(_("failure reason"), max_length=255, blank=True)
    last_error = models.CharField(_("last error sending it"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    submitted_at = models.DateTimeField(_("sent to the gateway"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-created_at", "-id"]),
        ]
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="refund_amount_positive"),
            # The policy refunds a visit once, however often the cancellation is retried.
            models.UniqueConstraint(
                fields=["visit"],
                condition=models.Q(reason_code__in=["cancellation", "unfulfilled"]),
                name="refund_one_automatic_per_visit",
            ),
            models.UniqueConstraint(
                fields=["payment", "refund_id"], condition=~models.Q(refund_id=""), name="refund_gateway_id_unique"
            ),
        ]

    def __str__(self):
        return f"Refund {self.pk} of {payment_reference(self.payment_id)} ({choice_label(RefundStatus, self.status)})"


class WebhookEvent(models.Model):
    """Each gateway event, recorded once: a second delivery of the same id changes nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=255, blank=True)
    livemode = models.BooleanField(default=False)
    outcome = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-received_at", "-id"]),
            # The admin list's filter on the event's type, read from this index (concierge.admin.values_in_use).
            models.Index(fields=["type"]),
        ]
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class FakeGatewayObject(models.Model):
    """What the local test gateway "holds" (its PaymentIntents and refunds), in Stripe's shape.

    Only the fake gateway reads or writes this table. It lives in the database so that the web
    process, the worker and `reconcile_payments` see the same objects, as they would at Stripe.
    """

    id = models.CharField(primary_key=True, max_length=64)
    kind = models.CharField(max_length=32)
    idempotency_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.id
