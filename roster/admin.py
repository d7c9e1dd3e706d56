"""The roster in admin: each provider with licences, weekly shifts, date overrides and time off;
the on-call rota and the on-call alerts (acknowledged here).

The back office (staff/admin/roster.py) registers this admin again with the roster check, which
warns before a change leaves booked visits without a nurse (that check needs booking, above us).
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from concierge.errors import ApplicationError
from concierge.models import Role

from . import oncall
from .licensure import licence_valid_in
from .models import (
    DateOverride,
    Licence,
    OnCallPage,
    OnCallShift,
    Provider,
    ProviderKind,
    ProviderPhoto,
    TimeOff,
    WeeklyShift,
)
from .selectors import provider_photo_url


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

    def _save_m2m(self):
        # After the provider is saved, on both of ModelForm's paths (admin saves with commit=False
        # and calls save_m2m() once the provider has its row).
        super()._save_m2m()
        data = self.cleaned_data.get("photo_file")
        if data:
            ProviderPhoto.objects.update_or_create(
                provider=self.instance, defaults={"data": data, "content_type": photo_type_of(data)}
            )
        elif self.cleaned_data.get("remove_photo"):
            ProviderPhoto.objects.filter(provider=self.instance).delete()


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
    readonly_fields = ("time_zone", "current_photo")
    fields = (
        "user",
        "kind",
        "phone",
        "home_zip",
        "time_zone",
        "max_visits_per_day",
        "is_active",
        "current_photo",
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

    @admin.display(description=_("photo patients see now"))
    def current_photo(self, obj):
        url = provider_photo_url(obj)
        if not url:
            return _("none: patients see the initials")
        return format_html('<img src="{}" alt="" width="64" height="64" class="provider-photo">', url)

    @admin.display(description=_("licence expiring"))
    def licence_warning(self, obj):
        # The soonest expiry within 30 days (or already past), highlighted; the licences are prefetched.
        soonest = min((lic.expires_on for lic in obj.licences.all()), default=None)
        note = licence_expiry_note(soonest)
        return format_html("{} ({})", note, formats.date_format(soonest, "ABBR_DATE_FORMAT")) if note else "—"


# --- on call (issue 15) -------------------------------------------------------------------------------


class OnCallShiftForm(forms.ModelForm):
    class Meta:
        model = OnCallShift
        fields = ("weekday", "date", "start_time", "end_time", "time_zone", "clinician", "backup", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        clinicians = Provider.objects.filter(kind=ProviderKind.CLINICIAN, is_active=True).select_related("user")
        for name in ("clinician", "backup"):
            self.fields[name].queryset = clinicians


@admin.register(OnCallShift)
class OnCallShiftAdmin(admin.ModelAdmin):
    """Who covers which hours, in which time zone, with which backup. A dated block wins over the week."""

    form = OnCallShiftForm
    list_display = ("__str__", "clinician", "backup", "note")
    list_select_related = ("clinician__user", "backup__user")
    list_filter = ("weekday", "time_zone")
    fieldsets = (
        (
            _("When"),
            {
                "fields": ("weekday", "date", "start_time", "end_time", "time_zone"),
                "description": _(
                    "Every week on a weekday, or once on a date (which wins over the weekly block for its hours). "
                    "An end at or before the start runs into the next morning."
                ),
            },
        ),
        (_("Who"), {"fields": ("clinician", "backup", "note")}),
    )

    def changelist_view(self, request, extra_context=None):
        cover = oncall.oncall_cover_at()
        now_text = (
            _("On call now: %(clinician)s (backup: %(backup)s), until %(until)s.")
            % {
                "clinician": cover.clinician.get_full_name(),
                "backup": cover.backup.get_full_name(),
                "until": formats.date_format(cover.ends_at, "D H:i T"),
            }
            if cover
            else _("Nobody is on call now: urgent alerts go to the on-call inbox only. Add a block to the rota.")
        )
        if cover:
            messages.info(request, now_text)
        else:
            messages.warning(request, now_text)
        return super().changelist_view(request, extra_context)


class PageStatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("open", _("Not acknowledged")), ("acknowledged", _("Acknowledged")))

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(acknowledged_at__isnull=True)
        if self.value() == "acknowledged":
            return queryset.filter(acknowledged_at__isnull=False)
        return queryset


class OnCallPageForm(forms.ModelForm):
    acknowledge = forms.BooleanField(label=_("I have seen this alert and am dealing with it"), required=True)

    class Meta:
        model = OnCallPage
        fields = ()

    def clean(self):
        cleaned = super().clean()
        if self.instance.acknowledged_at is not None:
            raise ValidationError(_("This alert was already acknowledged."))
        return cleaned


@admin.register(OnCallPage)
class OnCallPageAdmin(admin.ModelAdmin):
    """The on-call queue: alerts sent to the clinician on call, not acknowledged first."""

    form = OnCallPageForm
    list_display = ("paged_at", "status", "open_link", "clinician", "escalated_at", "acknowledged_by")
    list_display_links = ("paged_at",)
    list_filter = (PageStatusFilter,)
    list_select_related = ("clinician", "acknowledged_by")
    readonly_fields = (
        "key",
        "open_link",
        "paged_at",
        "clinician",
        "backup",
        "escalated_at",
        "acknowledged_at",
        "acknowledged_by",
    )
    actions = ("acknowledge_selected",)

    @admin.display(description=_("status"))
    def status(self, obj):
        if obj.acknowledged_at:
            return _("Acknowledged")
        if obj.escalated_at:
            return format_html('<strong class="review-alert">{}</strong>', _("Escalated to the backup"))
        return format_html('<strong class="review-alert">{}</strong>', _("Waiting"))

    @admin.display(description=_("open"))
    def open_link(self, obj):
        return format_html('<a href="{}">{}</a>', obj.link, _("Open the record"))

    def get_fields(self, request, obj=None):
        if obj is not None and obj.acknowledged_at is None and self.has_change_permission(request, obj):
            return [*self.readonly_fields, "acknowledge"]
        return list(self.readonly_fields)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Acknowledging is a clinician's act: the permission and the role.
        return super().has_change_permission(request, obj) and request.user.has_role(Role.CLINICIAN)

    def save_model(self, request, obj, form, change):
        try:
            oncall.oncall_page_acknowledge(page=obj, by=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        obj.refresh_from_db()

    @admin.action(description=_("Acknowledge the selected alerts"))
    def acknowledge_selected(self, request, queryset):
        if not self.has_change_permission(request):
            messages.error(request, _("Only a clinician can acknowledge an urgent alert."))
            return
        for page in queryset.filter(acknowledged_at__isnull=True):
            oncall.oncall_page_acknowledge(page=page, by=request.user)
        messages.success(request, _("Acknowledged."))
