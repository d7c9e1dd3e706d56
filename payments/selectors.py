"""Reads about payments for pages (the patient's dashboard, the payment pages)."""

from collections.abc import Iterable

from django.db.models import Prefetch

from concierge.models import User

from .models import PAID_STATUSES, Payment, PaymentAllocation, PaymentStatus, Refund, RefundReason

# What the patient's list shows: money that moved or is moving, not abandoned attempts.
SHOWN_TO_PATIENT = (*PAID_STATUSES, PaymentStatus.PROCESSING)


# What the patient's list shows (payments/_payments_list.html) of each payment, of each visit it
# paid for and of each refund, and all it reads of them: a field the list starts to show goes
# here too, or it costs a query per row. (A payment is 22 columns, its card secret among them.)
LISTED_PAYMENT_FIELDS = ("amount_cents", "status", "created_at")
LISTED_VISIT_FIELDS = ("visit__starts_at", "visit__time_zone", "visit__price_cents", "visit__service__is_telehealth")
LISTED_REFUND_FIELDS = ("payment", "amount_cents", "status")


def payment_list_for_patient(*, patient: User, limit: int = 20) -> list[Payment]:
    """The patient's own payments, newest first, with their visits and refunds (three queries)."""
    allocations = PaymentAllocation.objects.select_related("visit__service").only("payment", *LISTED_VISIT_FIELDS)
    return list(
        Payment.objects.filter(patient=patient, status__in=SHOWN_TO_PATIENT)
        .only(*LISTED_PAYMENT_FIELDS)
        .prefetch_related(
            Prefetch("allocations", queryset=allocations.order_by("visit__starts_at")),
            Prefetch("refunds", queryset=Refund.objects.only(*LISTED_REFUND_FIELDS).order_by("created_at")),
        )
        .order_by("-created_at", "-pk")[:limit]
    )


def payment_get_for_patient(*, patient: User, payment_id: int) -> Payment | None:
    """One of the patient's payments, or None (someone else's id is treated as not found)."""
    return (
        Payment.objects.filter(patient=patient, pk=payment_id)
        .select_related("visit", "series")
        .prefetch_related("allocations__visit__service")
        .first()
    )


def payment_paid_for(*, visit_ids: Iterable[int]) -> Payment | None:
    """The paid payment covering any of these visits, if there is one."""
    return Payment.objects.filter(allocations__visit__in=visit_ids, status__in=PAID_STATUSES).first()


def refund_automatic_for_visit(*, visit_id: int) -> Refund | None:
    """The refund the cancellation policy (or a time that could not be kept) made for a visit, if any."""
    return Refund.objects.filter(
        visit_id=visit_id, reason_code__in=[RefundReason.CANCELLATION, RefundReason.UNFULFILLED]
    ).first()
