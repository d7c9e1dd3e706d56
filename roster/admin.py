"""The roster in admin: each provider with licences, weekly shifts, date overrides and time off.

The back office (staff/admin/roster.py) registers this admin again with the roster check, which
warns before a change leaves booked visits without a nurse (that check needs booking, above us).
"""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .licensure import licence_valid_in
from .models import DateOverride, Licence, Provider, TimeOff, WeeklyShift


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


PHOTO_MAX_BYTES = 300 * 1024
PHOTO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


def photo_type_of(data: bytes) -> str:
    """The image type from the file's first bytes (PNG, JPEG, WebP), or "" for anything else."""
    for magic, mime in PHOTO_TYPES.items():
        if data.startswith(magic) and (mime != "image/webp" or data[8:12] == b"WEBP"):
            return mime
    return ""


class ProviderForm(forms.ModelForm):
    """The provider, and the portrait their patients see (PNG, JPEG or WebP, 300 KB at most)."""

    photo_file = forms.FileField(
        label=_("photo for patients"),
        required=False,
        help_text=_("A friendly head-and-shoulders photo: PNG, JPEG or WebP, 300 KB at most."),
    )
    remove_photo = forms.BooleanField(label=_("remove the photo"), required=False)

    class Meta:
        model = Provider
        fields = ("user", "kind", "phone", "home_zip", "max_visits_per_day", "is_active")

    def clean_photo_file(self):
        upload = self.cleaned_data.get("photo_file")
        if not upload:
            return None
        if upload.size > PHOTO_MAX_BYTES:
            raise forms.ValidationError(_("The photo is too large: 300 KB at most."))
        data = upload.read()
        if not photo_type_of(data):
            raise forms.ValidationError(_("Upload a PNG, JPEG or WebP image."))
        return data

    def save(self, commit=True):
        provider = super().save(commit=False)
        data = self.cleaned_data.get("photo_file")
        if data:
            provider.photo, provider.photo_type = data, photo_type_of(data)
        elif self.cleaned_data.get("remove_photo"):
            provider.photo, provider.photo_type = b"", ""
        if commit:
            provider.save()
        return provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderForm
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
    fields = (
        "user",
        "kind",
        "phone",
        "home_zip",
        "time_zone",
        "max_visits_per_day",
        "is_active",
        "photo_file",
        "remove_photo",
    )
    inlines = (LicenceInline, WeeklyShiftInline, DateOverrideInline, TimeOffInline)

    class Media:
        css = {"all": ("concierge/staff-admin.css",)}

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
