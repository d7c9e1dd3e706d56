"""The roster in admin (each provider with licences, weekly shifts, date overrides and time off) and the
visit charts, read-only with their history."""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from staff.roster import RosterChangeCheckMixin

from . import protocol
from .licensure import licence_valid_in
from .models import (
    AdverseEvent,
    ChartAmendment,
    ChartEvent,
    DateOverride,
    DischargeChecklist,
    DoseRecord,
    Licence,
    Provider,
    TimeOff,
    VisitChart,
    VitalsReading,
    WeeklyShift,
)


def licence_expiry_note(expires_on, today=None):
    """'expired', 'expires in 12 days' (within 30 days: highlighted), or '' (staff roster, issue 8)."""
    today = today or timezone.localdate()
    if expires_on is None:
        return ""
    days = (expires_on - today).days
    if days < 0:
        return format_html('<strong class="licence-expired">{}</strong>', _("expired"))
    if days <= 30:
        return format_html('<strong class="licence-expiring">{}</strong>', _("expires in %(n)s days") % {"n": days})
    return ""


class LicenceInline(admin.TabularInline):
    model = Licence
    extra = 0
    fields = ("state", "licence_type", "multistate", "number", "expires_on", "expiry", "verified_on")
    readonly_fields = ("expiry",)

    @admin.display(description=_("status"))
    def expiry(self, obj):
        return licence_expiry_note(obj.expires_on) if obj and obj.pk else ""


class WeeklyShiftInline(admin.TabularInline):
    model = WeeklyShift
    extra = 0
    fields = ("weekday", "start_time", "end_time")


class DateOverrideInline(admin.TabularInline):
    model = DateOverride
    extra = 0
    fields = ("date", "start_time", "end_time", "note")
    verbose_name = _("date worked differently (no times: day off)")
    verbose_name_plural = _("dates worked differently (no times: day off)")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(date__gte=timezone.localdate())


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0
    fields = ("starts_at", "ends_at", "reason")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(ends_at__gte=timezone.now())


class LicenceStatusFilter(admin.SimpleListFilter):
    title = _("licences")
    parameter_name = "licences"

    def lookups(self, request, model_admin):
        return [
            ("soon", _("a licence expires within 30 days")),
            ("expiring", _("a licence expires within 60 days")),
            ("expired", _("a licence has expired")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "soon":
            return queryset.filter(
                licences__expires_on__gte=today, licences__expires_on__lte=today + timedelta(days=30)
            ).distinct()
        if self.value() == "expiring":
            return queryset.filter(
                licences__expires_on__gte=today, licences__expires_on__lte=today + timedelta(days=60)
            ).distinct()
        if self.value() == "expired":
            return queryset.filter(licences__expires_on__lt=today).distinct()
        return queryset


@admin.register(Provider)
class ProviderAdmin(RosterChangeCheckMixin, admin.ModelAdmin):
    # RosterChangeCheckMixin (issue 8): a change that would orphan booked visits lists them and asks.
    list_display = (
        "__str__",
        "kind",
        "home_zip",
        "time_zone",
        "max_visits_per_day",
        "states",
        "licence_warning",
        "is_active",
    )
    list_filter = ("kind", "is_active", LicenceStatusFilter, "licences__state")
    search_fields = ("user__first_name", "user__last_name", "user__email", "home_zip")
    autocomplete_fields = ("user",)
    readonly_fields = ("time_zone",)
    fields = ("user", "kind", "phone", "home_zip", "time_zone", "max_visits_per_day", "is_active")
    inlines = (LicenceInline, WeeklyShiftInline, DateOverrideInline, TimeOffInline)

    class Media:
        css = {"all": ("staff/staff-admin.css",)}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").prefetch_related("licences")

    @admin.display(description=_("licensed to practise in (today)"))
    def states(self, obj):
        today = timezone.localdate()
        valid = sorted(
            {
                lic.state + (" +NLC" if lic.multistate else "")
                for lic in obj.licences.all()
                if licence_valid_in(
                    state=lic.state,
                    licence_type=lic.licence_type,
                    multistate=lic.multistate,
                    expires_on=lic.expires_on,
                    visit_state=lic.state,
                    on_date=today,
                )
            }
        )
        return ", ".join(valid) or "—"

    @admin.display(description=_("licence expiring"))
    def licence_warning(self, obj):
        # The soonest expiry within 30 days (or already past), highlighted; the licences are prefetched.
        soonest = min((lic.expires_on for lic in obj.licences.all()), default=None)
        note = licence_expiry_note(soonest)
        return format_html("{} ({})", note, soonest.strftime("%b %-d, %Y")) if note else "—"


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
        "recorded_by",
        "recorded_at",
    )


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
    inlines = (VitalsInline, DoseInline, AdverseEventInline, DischargeInline, AmendmentInline, HistoryInline)

    def get_queryset(self, request):
        from django.db.models import Count, Q

        return (
            super()
            .get_queryset(request)
            .annotate(alert_readings=Count("vitals", filter=~Q(vitals__alerts=[]), distinct=True))
        )

    @admin.display(description=_("visit (UTC)"), ordering="visit__starts_at")
    def visit_time(self, obj):
        return f"{obj.visit.starts_at:%Y-%m-%d %H:%M}"

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
