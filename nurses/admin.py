"""The visit charts in admin, read-only with their history (the roster's admin is roster/admin.py)."""

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from booking.availability import zone

from . import protocol
from .models import (
    AdverseEvent,
    ChartAmendment,
    ChartEvent,
    DischargeChecklist,
    DoseRecord,
    ProtocolOverride,
    VisitChart,
    VitalsReading,
)

# --- visit charts (issue 7): staff and clinicians read every chart; nobody edits one here ------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VitalsInline(ReadOnlyInline):
    model = VitalsReading
    fields = (
        "kind",
        "taken_at",
        "systolic",
        "diastolic",
        "heart_rate",
        "spo2",
        "respiratory_rate",
        "sedation_note",
        "warnings",
        "action_taken",
        "action_note",
        "recorded_by",
        "recorded_at",
    )

    @admin.display(description=_("protocol warnings"))
    def warnings(self, obj):
        return "; ".join(protocol.alert_messages(obj.alerts)) or "-"


class DoseInline(ReadOnlyInline):
    model = DoseRecord
    verbose_name_plural = _("dose records (the last one is current; earlier ones are kept)")
    fields = (
        "weight_entered",
        "weight_unit",
        "weight_kg",
        "dose_mg_per_kg",
        "dose_mg",
        "lot_number",
        "volume_ml",
        "started_at",
        "stopped_at",
        "short_reason",
        "weight_change_confirmed",
        "recorded_by",
        "recorded_at",
    )


class OverrideInline(ReadOnlyInline):
    model = ProtocolOverride
    verbose_name_plural = _("clinicians' overrides of a protocol stop (who decided, why, written by whom)")
    fields = ("kind", "clinician", "reason", "recorded_by", "recorded_at")


class AdverseEventInline(ReadOnlyInline):
    model = AdverseEvent
    fields = ("kind", "note", "recorded_by", "recorded_at")


class DischargeInline(ReadOnlyInline):
    model = DischargeChecklist
    fields = (
        "baseline_mental_status",
        "vitals_near_baseline",
        "adult_present",
        "instructions_given",
        "note",
        "recorded_by",
        "recorded_at",
    )


class AmendmentInline(ReadOnlyInline):
    model = ChartAmendment
    fields = ("section", "text", "reason", "amended_by", "amended_at")


class HistoryInline(ReadOnlyInline):
    model = ChartEvent
    fields = ("at", "actor", "kind", "summary")


class SignedFilter(admin.SimpleListFilter):
    title = _("signature")
    parameter_name = "signed"

    def lookups(self, request, model_admin):
        return [("yes", _("signed")), ("no", _("not signed yet"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(signed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(signed_at__isnull=True)
        return queryset


@admin.register(VisitChart)
class VisitChartAdmin(admin.ModelAdmin):
    """Read-only: charts change only through the nurse's pages (amendments after signing)."""

    list_display = ("visit_time", "patient", "nurse_name", "outcome", "signed_at", "alerts_count")
    list_filter = ("outcome", SignedFilter)
    search_fields = (
        "visit__patient__email",
        "visit__patient__first_name",
        "visit__patient__last_name",
        "nurse__email",
        "nurse__last_name",
    )
    date_hierarchy = "created_at"
    list_select_related = ("visit__patient", "nurse")
    fields = (
        "visit",
        "nurse",
        "created_at",
        "on_my_way_at",
        "eta_from",
        "eta_until",
        "eta_entered",
        "arrived_at",
        "arrival_latitude",
        "arrival_longitude",
        "arrival_accuracy_m",
        "adult_present",
        "prep_followed",
        "stopped_at",
        "stop_reason",
        "no_show_reason",
        "outcome",
        "signed_at",
        "signed_by",
        "signature_name",
        "locked_at",
    )
    readonly_fields = fields
    inlines = (
        VitalsInline,
        OverrideInline,
        DoseInline,
        AdverseEventInline,
        DischargeInline,
        AmendmentInline,
        HistoryInline,
    )

    def get_queryset(self, request):
        # A count per listed chart (a subquery), not a GROUP BY over every chart: the page's 100
        # rows come from the list's index, and only those are counted.
        past_limits = (
            VitalsReading.objects.filter(chart=OuterRef("pk"))
            .exclude(alerts=[])
            .order_by()
            .values("chart")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(alert_readings=Coalesce(Subquery(past_limits), 0))

    @admin.display(description=_("visit"), ordering="visit__starts_at")
    def visit_time(self, obj):
        # In the visit's own zone, named: the time the nurse and the patient knew it by.
        return f"{obj.visit.starts_at.astimezone(zone(obj.visit.time_zone)):%Y-%m-%d %H:%M %Z}"

    @admin.display(description=_("patient"))
    def patient(self, obj):
        return obj.visit.patient.get_full_name()

    @admin.display(description=_("nurse"), ordering="nurse__last_name")
    def nurse_name(self, obj):
        return obj.nurse.get_full_name()

    @admin.display(description=_("readings past limits"), ordering="alert_readings")
    def alerts_count(self, obj):
        return obj.alert_readings

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
