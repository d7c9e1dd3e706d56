import functools

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import connection
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Role, User


def admin_login(request, extra_context=None):
    """The admin has no login page of its own: everyone logs in (and does two-step) at /accounts/login/.

    Someone already logged in who is not staff (a patient, a nurse) is told no, instead of being
    sent back and forth between the two login pages.
    """
    if request.user.is_authenticated:
        raise PermissionDenied
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


# The stubs type AdminSite.login as a method; replacing it on the one site instance is what we mean.
admin.site.login = admin_login  # type: ignore[method-assign]
admin.site.site_header = _("ConciergeMD clinic admin")
admin.site.site_title = _("ConciergeMD admin")
admin.site.index_title = _("Running the clinic")


def action_checkbox(model_admin, obj):
    """The checkbox that starts each row of an admin list: Django's markup, written directly.

    Django renders it through the form widget's templates, ~0.25 ms a row: a fifth of the time
    of a 50-row list of visits, a quarter of the outbox's 100 rows. Set on `admin.ModelAdmin`,
    so every list has it, third-party ones included; concierge/tests/test_admin_rows.py holds it
    to the markup Django's own method renders.
    """
    return format_html(
        '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
        helpers.ACTION_CHECKBOX_NAME,
        obj.pk,
        format_html(gettext("Select this object for an action - {}"), str(obj)),
    )


DJANGO_ACTION_CHECKBOX = admin.ModelAdmin.action_checkbox
admin.ModelAdmin.action_checkbox = action_checkbox  # type: ignore[method-assign]


class ShownColumnsChangeList(ChangeList):
    """A list page whose rows are read with only the columns they show (`list_columns`)."""

    def get_results(self, request):
        # The page's rows only: an action gets the whole rows (`changelist_view` asks
        # `get_queryset` again for the selected ones), and counting is the same either way.
        self.queryset = self.queryset.only(*self.model_admin.list_columns)
        super().get_results(request)


class ShownColumnsAdmin(admin.ModelAdmin):
    """An admin list that reads the columns its rows show, not every column of every joined table.

    A visit with its patient, profile, service, nurse and nurse's login is ~100 columns, a
    message with its recipient ~35 (its text and context among them): Django builds every value
    of every row, each phone number parsed, each JSON decoded, the password hash read, for a
    list that shows seven. `list_columns` names what the columns, the row's `__str__` (its
    checkbox) and its links read; a column left out costs a query per row, which the admin's
    list tests (staff/tests/test_changelists.py) count as a list that grows with its rows.
    """

    list_columns: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return ShownColumnsChangeList if self.list_columns else super().get_changelist(request, **kwargs)


@functools.cache
def name_only(model, field_name):
    """A read-only display of a foreign key as the related object's name alone (one function per
    field, so a page's fieldsets and its read-only fields name the same one)."""
    field = model._meta.get_field(field_name)

    @admin.display(description=field.verbose_name)
    def shown(obj):
        value = getattr(obj, field_name)
        return "-" if value is None else str(value)

    shown.__name__ = field_name  # the row's CSS class, as the linked field's
    return shown


def unlinked_where_refused(model_admin, request, fieldsets):
    """`fieldsets` with each read-only foreign key whose page the viewer may not open shown as its
    name alone. Django links a read-only foreign key to the related object's change page whoever
    looks; for a viewer without the view or change permission on that model the link is a 403
    (a clinician on a visit's service or nurse)."""

    def shown(name):
        if not isinstance(name, str):
            return name
        try:
            field = model_admin.model._meta.get_field(name)
        except FieldDoesNotExist:
            return name
        if not field.many_to_one:
            return name
        related = model_admin.admin_site._registry.get(field.related_model)
        if related is not None and related.has_view_or_change_permission(request):
            return name
        return name_only(model_admin.model, name)

    return tuple((title, {**opts, "fields": tuple(shown(n) for n in opts["fields"])}) for title, opts in fieldsets)


def loose_index_scan(field, *, after: str | None = "") -> tuple[str, list]:
    """SQL listing a column's distinct values in order, one index probe per value ("loose index scan").

    `SELECT DISTINCT` reads every row, so a filter over a growing table (visits, the record-view
    log) would cost more each day. This asks the index for the smallest value, then for the
    smallest one after it, and so on, whatever the table's size. The values come after `after`
    (text columns: "" leaves out the blank), or are every value but NULL (`after=None`: a
    foreign key). The column needs an index that starts with it: the admin's list test
    (staff/tests/test_changelists.py) checks there is one for every list that asks.
    """
    table = connection.ops.quote_name(field.model._meta.db_table)
    column = connection.ops.quote_name(field.column)
    first, params = (f"WHERE {column} > %s", [after]) if after is not None else ("", [])
    # The names come from the model's own metadata, quoted; the one value is a parameter.
    sql = (
        f"WITH RECURSIVE v(value) AS ("  # noqa: S608
        f"SELECT MIN({column}) FROM {table} {first} "
        f"UNION ALL "
        f"SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > v.value) FROM v WHERE v.value IS NOT NULL"
        f") SELECT value FROM v WHERE value IS NOT NULL"
    )
    return sql, params


def values_in_use(field) -> list:
    """A text column's distinct non-blank values, in order, read through its index (`loose_index_scan`)."""
    sql, params = loose_index_scan(field)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


class ValuesInUseFilter(admin.AllValuesFieldListFilter):
    """The values in use (the states with patients, not all 59), without a link for a blank value:
    a link with no text is read by a screen reader as nothing (axe: link-name).

    Read through the column's index (`values_in_use`), not with Django's DISTINCT over every row;
    for a field of the listed model itself. It lists the whole table's values, whatever the
    admin's queryset leaves out: use it for columns whose values tell nothing about a row (a
    state, a page's name, an event type), not for names or anything a viewer may not see.
    """

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = values_in_use(field)  # replaces Django's DISTINCT before it is read


class RoleFilter(admin.SimpleListFilter):
    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(groups__name=self.value())
        return queryset


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(ShownColumnsAdmin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "role_names", "is_active", "is_staff")
    list_columns = ("email", "first_name", "last_name", "is_active", "is_staff")  # not the password hash
    list_filter = (RoleFilter, "is_active", "is_staff", "is_superuser")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Name"), {"fields": ("first_name", "last_name")}),
        (
            _("Roles and access"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "description": _("A person's role is the group named patient, nurse, clinician or staff."),
            },
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def role_names(self, obj):
        names = sorted(g.name for g in obj.groups.all() if g.name in Role.values)
        return ", ".join(str(Role(n).label) for n in names) or "—"
