"""The audit trail and the record-view log in admin.

`auditlog.LogEntry` gets our own admin: each person sees the entries of the models they may view
(a scheduler never sees a clearance's or a chart's changes), the clinical fields of a patient's
profile only when clinical, and one object's history with ?object=<app>.<model>:<id>.
"""

import auditlog.admin
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from concierge import audit
from concierge.admin import ValuesInUseFilter
from concierge.models import PatientRecordView, Role


class VisibleTypeFilter(admin.SimpleListFilter):
    title = _("record type")
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [(str(ct.pk), str(ct.model_class()._meta.verbose_name).capitalize()) for ct in _visible(request)]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(content_type_id=self.value())
        return queryset


class ObjectFilter(admin.SimpleListFilter):
    """One record's history: ?object=booking.visit:12 (linked from the record's admin page)."""

    title = _("record")
    parameter_name = "object"

    def _parse(self):
        try:
            label, pk = (self.value() or "").rsplit(":", 1)
            app_label, model = label.split(".", 1)
        except ValueError:
            return None
        return app_label, model, pk

    def lookups(self, request, model_admin):
        parsed = self._parse()
        return [(self.value(), f"{parsed[1]} {parsed[2]}")] if parsed else []

    def queryset(self, request, queryset):
        parsed = self._parse()
        if parsed is None:
            return queryset
        ct = ContentType.objects.filter(app_label=parsed[0], model=parsed[1]).first()
        if ct is None:
            return queryset.none()
        return queryset.filter(content_type=ct, object_pk=parsed[2])


def _visible(request):
    cached = getattr(request, "_audit_visible_types", None)
    if cached is None:
        cached = request._audit_visible_types = audit.visible_content_types(request.user)
    return cached


def object_filter_value(obj):
    return f"{obj._meta.app_label}.{obj._meta.model_name}:{obj.pk}"


def render_changes(entry, hidden=()):
    """The changed fields of an entry as a small table (field, before, after), leaving out `hidden`."""
    changes = {k: v for k, v in (entry.changes_dict or {}).items() if k not in hidden}
    if not changes:
        return "—"
    rows = []
    for name, change in sorted(changes.items()):
        if isinstance(change, dict):  # many-to-many: {"type": "m2m", "operation": ..., "objects": [...]}
            before, after = change.get("operation", ""), ", ".join(str(o) for o in change.get("objects", []))
        else:
            before, after = [*list(change), "", ""][:2]
        rows.append((_field_label(entry, name), before, after))
    body = format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td><td>{}</td></tr>", rows)
    return format_html(
        "<table class='audit-changes'><thead><tr><th scope='col'>{}</th><th scope='col'>{}</th>"
        "<th scope='col'>{}</th></tr></thead><tbody>{}</tbody></table>",
        _("field"),
        _("before"),
        _("after"),
        body,
    )


def _field_label(entry, name):
    model = entry.content_type.model_class()
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:
        return name


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditEntryAdmin(auditlog.admin.LogEntryAdmin):
    list_display = ["created", "resource_url", "action", "changed_fields", "user_url"]
    list_filter = ["action", VisibleTypeFilter, ObjectFilter]
    list_per_page = 50
    search_fields = ["object_repr", "actor__email", "actor__first_name", "actor__last_name"]
    readonly_fields = ["created", "resource_url", "action", "user_url", "remote_addr", "changes_table"]
    fieldsets = [
        (None, {"fields": ["created", "user_url", "remote_addr", "resource_url", "action"]}),
        (_("What changed"), {"fields": ["changes_table"]}),
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(content_type__in=_visible(request))

    def has_delete_permission(self, request, obj=None):
        return False  # the trail is never edited, by anyone

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": _("Audit trail: who changed what"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("changes"))
    def changed_fields(self, obj):
        if obj.action == LogEntry.Action.CREATE:
            return _("created")
        if obj.action == LogEntry.Action.DELETE:
            return _("deleted")
        hidden = audit.hidden_fields_for(self.request.user, obj)
        names = [_field_label(obj, name) for name in (obj.changes_dict or {}) if name not in hidden]
        return (", ".join(names[:6]) + (", …" if len(names) > 6 else "")) or "—"

    @admin.display(description=_("changes"))
    def changes_table(self, obj):
        return render_changes(obj, audit.hidden_fields_for(self.request.user, obj))


class ViewerRoleFilter(admin.SimpleListFilter):
    title = _("viewer's role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return [(r.value, r.label) for r in Role if r != Role.PATIENT]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(viewer__groups__name=self.value())
        return queryset


@admin.register(PatientRecordView)
class PatientRecordViewAdmin(admin.ModelAdmin):
    """Who opened which patient's record (managers). Written by concierge.audit, never edited."""

    list_display = ["viewed_at", "viewer", "patient_name", "what"]
    list_filter = [ViewerRoleFilter, ("what", ValuesInUseFilter), ("viewed_at", admin.DateFieldListFilter)]
    search_fields = [
        "patient__email",
        "patient__first_name",
        "patient__last_name",
        "viewer__email",
        "viewer__last_name",
    ]
    list_select_related = ["viewer", "patient"]
    date_hierarchy = "viewed_at"
    readonly_fields = ("viewed_at", "viewer", "patient", "what", "path")
    fields = readonly_fields

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": _("Who viewed patient records"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_name(self, obj):
        name = obj.patient.get_full_name()
        return f"{name} ({obj.patient.email})" if name != obj.patient.email else name

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
