"""Booking in admin: services, areas, the waitlist and series.

The visits themselves, with the schedule board and the staff actions on them, are the back
office's: staff/admin/visits.py.
"""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Series, Service, ServiceArea, WaitlistEntry
from .templatetags.booking_tags import dollars


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


@admin.register(Series)
class SeriesAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "patient", "created_at")
    search_fields = ("patient__email",)
