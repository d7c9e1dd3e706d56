"""django-axes's two login logs, with their login-page filter read through an index.

django-axes filters each log by `path_info` with Django's plain filter, a SELECT DISTINCT over
every sign-in ever logged. The same lists here filter through the column's index instead
(concierge.admin.values_in_use; the index is concierge's migration 0006).
"""

from axes.admin import AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessFailureLog, AccessLog
from django.contrib import admin

from concierge.admin import ValuesInUseFilter


def _path_through_index(filters):
    return [("path_info", ValuesInUseFilter) if name == "path_info" else name for name in filters]


class LoginLogAdmin(AccessLogAdmin):
    list_filter = _path_through_index(AccessLogAdmin.list_filter)


class RefusedLoginLogAdmin(AccessFailureLogAdmin):
    list_filter = _path_through_index(AccessFailureLogAdmin.list_filter)


for model, model_admin in ((AccessLog, LoginLogAdmin), (AccessFailureLog, RefusedLoginLogAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
