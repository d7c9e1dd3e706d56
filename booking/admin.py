"""Booking in admin: services, areas, the waitlist and series.

The visits themselves, with the schedule board and the staff actions on them, are the back
office's: staff/admin/visits.py.
"""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Series, Service, ServiceArea, TimeOffer, TimeWaitlistEntry, WaitlistEntry
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

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # An area that starts to cover a ZIP tells the coverage waitlist there (once each).
        services.coverage_waitlist_notify_soon()


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    list_display = ("zip_code", "email", "phone", "language", "created_at", "contacted_at")
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


WEEKDAY_NAMES = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))


class TimeOfferInline(admin.TabularInline):
    model = TimeOffer
    fields = ("visit", "starts_at", "status", "expires_at", "created_at", "answered_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TimeWaitlistEntry)
class TimeWaitlistEntryAdmin(ReadOnlyAdmin):
    """The waitlist for freed times, in the order offers go (who joined first). Read-only: patients
    join and leave it themselves; the sweep makes the offers (booking/services/offers.py)."""

    list_display = ("created_at", "patient", "service", "days", "parts_of_day", "first_day", "last_day", "status")
    list_filter = ("status", "service")
    search_fields = ("patient__email", "patient__first_name", "patient__last_name")
    ordering = ("created_at", "pk")
    inlines = [TimeOfferInline]

    @admin.display(description=_("days of the week"))
    def days(self, obj):
        return ", ".join(str(WEEKDAY_NAMES[d]) for d in sorted(obj.weekday_numbers))


@admin.register(TimeOffer)
class TimeOfferAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "patient", "starts_at", "status", "expires_at", "answered_at")
    list_filter = ("status",)
    search_fields = ("entry__patient__email",)
    list_select_related = ("entry__patient",)

    @admin.display(description=_("patient"))
    def patient(self, obj):
        return obj.entry.patient
