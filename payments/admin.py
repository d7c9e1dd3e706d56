"""Payments in admin: read-only rows (money changes only through services), and a refund form.

Staff with `payments.refund_payment` refund any amount up to what is still refundable, with a
reason. Disputed payments and failed refunds have their own filters.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from concierge.admin import ShownColumnsAdmin, ValuesInUseFilter
from concierge.errors import ApplicationError

from . import services
from .display import money, reference_html
from .forms import StaffRefundForm
from .models import Payment, PaymentAllocation, Refund, RefundStatus, WebhookEvent, payment_pk_from_reference


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AllocationInline(ReadOnlyMixin, admin.TabularInline):
    model = PaymentAllocation
    readonly_fields = ("visit", "amount")
    fields = readonly_fields
    extra = 0

    @admin.display(description=_("amount"))
    def amount(self, obj):
        return money(obj.amount_cents)


class RefundInline(ReadOnlyMixin, admin.TabularInline):
    model = Refund
    readonly_fields = (
        "created_at",
        "amount",
        "reason_code",
        "reason",
        "status",
        "refund_id",
        "failure_reason",
        "created_by",
    )
    fields = readonly_fields
    extra = 0

    @admin.display(description=_("amount"))
    def amount(self, obj):
        return money(obj.amount_cents)


class FailedRefundFilter(admin.SimpleListFilter):
    title = _("refunds")
    parameter_name = "refunds"

    def lookups(self, request, model_admin):
        return [("failed", _("A refund failed")), ("unsent", _("A refund not yet sent"))]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.filter(refunds__status=RefundStatus.FAILED).distinct()
        if self.value() == "unsent":
            return queryset.filter(refunds__status=RefundStatus.PENDING, refunds__refund_id="").distinct()
        return queryset


@admin.register(Payment)
class PaymentAdmin(ReadOnlyMixin, ShownColumnsAdmin):
    # Status next to the amount: at a laptop's width with the sidebar open, the columns after it scroll.
    list_display = ["reference", "patient", "amount", "status", "refunded", "covers", "created_at"]
    list_filter = ["status", FailedRefundFilter, "gateway", "created_at"]
    search_fields = ["=id", "patient__email", "intent_id", "charge_id", "refunds__refund_id"]
    # "For" names the visit or series by its key: neither row is read.
    list_select_related = ["patient"]
    list_columns = (
        "patient__email",
        "visit",
        "series",
        "amount_cents",
        "amount_refunded_cents",
        "status",
        "created_at",
    )
    date_hierarchy = "created_at"
    readonly_fields = (
        "patient",
        "visit",
        "series",
        "amount",
        "refunded",
        "refundable",
        "currency",
        "status",
        "failure_message",
        "gateway",
        "intent_id",
        "charge_id",
        "dispute_id",
        "dispute_status",
        "disputed_at",
        "succeeded_at",
        "cancelled_at",
        "receipt_sent_at",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    inlines = [AllocationInline, RefundInline]
    actions = ["refund_action"]
    change_form_template = "admin/payments/payment/change_form.html"

    @admin.display(description=_("reference"), ordering="pk")
    def reference(self, obj):
        return reference_html(obj)

    def get_search_results(self, request, queryset, search_term):
        """A reference as patients quote it (P-86AYCEDC2SYMJ) finds its payment."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        pk = payment_pk_from_reference(search_term) if search_term.strip().lower().startswith("p-") else None
        if pk is not None:
            results |= queryset.filter(pk=pk)
        return results, may_have_duplicates

    @admin.display(description=_("for"))
    def covers(self, obj):
        return _("series %(id)s") % {"id": obj.series_id} if obj.series_id else _("visit %(id)s") % {"id": obj.visit_id}

    @admin.display(description=_("amount"), ordering="amount_cents")
    def amount(self, obj):
        return money(obj.amount_cents)

    @admin.display(description=_("refunded"), ordering="amount_refunded_cents")
    def refunded(self, obj):
        return money(obj.amount_refunded_cents)

    @admin.display(description=_("still refundable"))
    def refundable(self, obj):
        return money(obj.refundable_cents)

    def get_urls(self):
        return [
            path(
                "<int:payment_id>/refund/",
                self.admin_site.admin_view(self.refund_view),
                name="payments_payment_refund",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_refund": request.user.has_perm("payments.refund_payment")}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Refund the selected payment…"), permissions=["refund"])
    def refund_action(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose one payment to refund."), messages.WARNING)
            return None
        return redirect("admin:payments_payment_refund", payment_id=queryset.get().pk)

    def has_refund_permission(self, request):
        return request.user.has_perm("payments.refund_payment")

    def refund_view(self, request, payment_id):
        if not self.has_refund_permission(request):
            raise PermissionDenied
        payment = get_object_or_404(Payment, pk=payment_id)
        change_url = reverse("admin:payments_payment_change", args=[payment.pk])
        form = StaffRefundForm(request.POST or None, refundable_cents=payment.refundable_cents)
        if request.method == "POST" and form.is_valid():
            try:
                refund = services.refund_create(
                    payment=payment,
                    amount_cents=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                # Refused from the payment as it is now (another refund may just have gone through):
                # the page shows that, not what was read before.
                payment.refresh_from_db()
                form = StaffRefundForm(request.POST, refundable_cents=payment.refundable_cents)
                form.is_valid()
                form.add_error(None, exc.message)
            else:
                refund.refresh_from_db()
                self.message_user(
                    request,
                    _("Refund of %(amount)s recorded (%(status)s). Its status follows Stripe.")
                    % {"amount": money(refund.amount_cents), "status": refund.get_status_display()},
                    messages.SUCCESS,
                )
                return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Refund payment %(reference)s") % {"reference": payment.reference},
            "opts": self.model._meta,
            "original": payment,
            "payment": payment,
            "amount": money(payment.amount_cents),
            "refunded": money(payment.amount_refunded_cents),
            "refundable": money(payment.refundable_cents),
            "is_paid": payment.is_paid and payment.refundable_cents > 0,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/payments/payment/refund.html", context)


@admin.register(Refund)
class RefundAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["pk", "payment", "amount", "reason_code", "status", "refund_id", "created_by", "created_at"]
    list_filter = ["status", "reason_code", "created_at"]
    search_fields = ["=id", "=payment__id", "refund_id", "payment__patient__email"]
    list_select_related = ["payment", "created_by"]
    readonly_fields = (
        "payment",
        "visit",
        "amount",
        "reason_code",
        "reason",
        "status",
        "refund_id",
        "failure_reason",
        "last_error",
        "created_by",
        "submitted_at",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields

    @admin.display(description=_("amount"), ordering="amount_cents")
    def amount(self, obj):
        return money(obj.amount_cents)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["event_id", "type", "object_id", "outcome", "received_at", "processed_at"]
    list_filter = [("type", ValuesInUseFilter), "livemode"]
    search_fields = ["event_id", "object_id"]
    readonly_fields = ("event_id", "type", "object_id", "livemode", "outcome", "received_at", "processed_at")
    fields = readonly_fields
