"""What the visit pages show about a visit: its local day, a summary, its chart, and its money."""

from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from booking.availability import zone
from booking.templatetags.booking_tags import visit_day_short
from payments.models import PAID_STATUSES, REFUND_COUNTING_STATUSES, Payment, PaymentAllocation, Refund
from staff import board
from staff import services as staff_services


def visit_local_day(visit):
    return visit.starts_at.astimezone(zone(visit.time_zone)).date()


def visit_summary(visit):
    return {
        "when": f"{visit_day_short(visit.starts_at, visit.time_zone)}, "
        f"{board.time_range_label(visit.starts_at, visit.ends_at, visit.time_zone)}",
        "patient": board.patient_display_name(visit.patient),
        "service": visit.service.name,
        "provider": str(visit.provider) if visit.provider_id else _("nobody yet"),
        "status": visit.get_status_display(),
        "place": ", ".join(p for p in (visit.city, visit.state, visit.zip_code) if p),
    }


def chart_of(visit):
    try:
        return visit.chart
    except Exception:  # no chart yet (RelatedObjectDoesNotExist), or the nurses app has none
        return None


def paid_cents(visit):
    return (
        PaymentAllocation.objects.filter(visit=visit, payment__status__in=PAID_STATUSES).aggregate(
            s=Sum("amount_cents")
        )["s"]
        or 0
    )


def refunded_cents(visit):
    prefix = staff_services.refund_prefix(visit)
    return (
        Refund.objects.filter(status__in=REFUND_COUNTING_STATUSES)
        .filter(Q(visit=visit) | Q(visit__isnull=True, reason__startswith=prefix))
        .aggregate(s=Sum("amount_cents"))["s"]
        or 0
    )


def visit_payments(visit):
    """The payments covering a visit, each with its refunds (three queries)."""
    payments = list(
        Payment.objects.filter(Q(visit=visit) | Q(allocations__visit=visit))
        .distinct()
        .prefetch_related("refunds")
        .order_by("created_at", "pk")
    )
    return payments
