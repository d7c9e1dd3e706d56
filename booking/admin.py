"""Booking in admin: services, areas, the waitlist, and a basic list of visits.

Visits are read-only here on purpose: every change of time, provider or status must go through
the booking services (the guard), never a plain form save. Staff cancel with the action below;
moving and reassigning visits arrive with the staff admin work (booking.services.appointment_
reschedule / appointment_reassign).
"""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import ApplicationError

from . import services
from .models import Appointment, CancelledBy, Series, Service, ServiceArea, WaitlistEntry
from .templatetags.booking_tags import dollars, visit_day_short, visit_time


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "delivered_by", "is_telehealth", "price", "deposit", "is_active")
    list_filter = ("kind", "delivered_by", "is_active")
    prepopulated_fields = {"code": ("name",)}

    @admin.display(description=_("price"), ordering="price_cents")
    def price(self, obj):
        return dollars(obj.price_cents)

    @admin.display(description=_("deposit"), ordering="deposit_cents")
    def deposit(self, obj):
        return dollars(obj.deposit_cents)


@admin.register(ServiceArea)
class ServiceAreaAdmin(admin.ModelAdmin):
    list_display = ("name", "state", "base_zip", "radius_miles", "is_active")
    list_filter = ("state", "is_active")
    search_fields = ("name", "zip_codes", "base_zip")
    filter_horizontal = ("services", "providers")


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    list_display = ("zip_code", "email", "phone", "created_at", "contacted_at")
    list_filter = ("contacted_at",)
    search_fields = ("zip_code", "email", "phone")
    readonly_fields = ("created_at",)
    actions = ["mark_contacted"]

    @admin.action(description=_("Mark as contacted"), permissions=["change"])
    def mark_contacted(self, request, queryset):
        count = queryset.filter(contacted_at__isnull=True).update(contacted_at=timezone.now())
        self.message_user(request, _("%(n)s marked as contacted.") % {"n": count}, messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ("starts_local", "service", "provider", "patient", "status", "zip_code")
    list_filter = ("status", "service", "state", ("starts_at", admin.DateFieldListFilter))
    search_fields = ("patient__email", "patient__last_name", "provider__user__last_name", "zip_code")
    date_hierarchy = "starts_at"
    list_select_related = ("service", "provider__user", "patient")
    actions = ["cancel_by_staff"]

    @admin.display(description=_("starts (visit's time zone)"), ordering="starts_at")
    def starts_local(self, obj):
        return f"{visit_day_short(obj.starts_at, obj.time_zone)}, {visit_time(obj.starts_at, obj.time_zone)}"

    @admin.action(description=_("Cancel the selected visits (by staff)"), permissions=["change"])
    def cancel_by_staff(self, request, queryset):
        done, refused = 0, []
        for visit in queryset:
            try:
                services.appointment_cancel(
                    appointment=visit, by=CancelledBy.STAFF, reason=_("Cancelled by staff"), actor=request.user
                )
                done += 1
            except ApplicationError as error:
                refused.append(f"#{visit.pk}: {error.message}")
        if done:
            self.message_user(request, _("%(n)s visits cancelled.") % {"n": done}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)


@admin.register(Series)
class SeriesAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "patient", "created_at")
    search_fields = ("patient__email",)
