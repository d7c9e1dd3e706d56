"""The roster's admin with the roster check: a change that would leave booked visits without a
nurse asks staff first (staff/roster.py). Registered over roster/admin.py's plain admin, since the
check needs booking, a layer the roster may not import."""

from django.contrib import admin

from roster.admin import ProviderAdmin
from roster.models import Provider
from staff.roster import RosterChangeCheckMixin


class CheckedProviderAdmin(RosterChangeCheckMixin, ProviderAdmin):
    pass


admin.site.unregister(Provider)
admin.site.register(Provider, CheckedProviderAdmin)
