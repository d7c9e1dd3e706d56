from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse
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


class ValuesInUseFilter(admin.AllValuesFieldListFilter):
    """The values in use (the states with patients, not all 59), without a link for a blank value:
    a link with no text is read by a screen reader as nothing (axe: link-name)."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = [value for value in self.lookup_choices if value != ""]


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
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "role_names", "is_active", "is_staff")
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
