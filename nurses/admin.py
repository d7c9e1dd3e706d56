"""The roster in admin: each provider with their licences, weekly shifts, date overrides and time off."""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .licensure import licence_valid_in
from .models import DateOverride, Licence, Provider, TimeOff, WeeklyShift


class LicenceInline(admin.TabularInline):
    model = Licence
    extra = 0
    fields = ("state", "licence_type", "multistate", "number", "expires_on", "verified_on")


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
        return [("expiring", _("a licence expires within 60 days")), ("expired", _("a licence has expired"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "expiring":
            return queryset.filter(
                licences__expires_on__gte=today, licences__expires_on__lte=today + timedelta(days=60)
            ).distinct()
        if self.value() == "expired":
            return queryset.filter(licences__expires_on__lt=today).distinct()
        return queryset


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "home_zip", "time_zone", "max_visits_per_day", "states", "is_active")
    list_filter = ("kind", "is_active", LicenceStatusFilter, "licences__state")
    search_fields = ("user__first_name", "user__last_name", "user__email", "home_zip")
    autocomplete_fields = ("user",)
    readonly_fields = ("time_zone",)
    fields = ("user", "kind", "phone", "home_zip", "time_zone", "max_visits_per_day", "is_active")
    inlines = (LicenceInline, WeeklyShiftInline, DateOverrideInline, TimeOffInline)

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
