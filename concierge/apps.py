from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _


class ConciergeConfig(AppConfig):
    name = "concierge"
    verbose_name = _("Accounts and platform")

    def ready(self):
        from .inputs import DayConverter
        from .opaque import OpaqueIdConverter

        # Before any app's urls.py is read: `<oid:pk>` (opaque ids) and `<day:day>` (a day in range).
        register_converter(OpaqueIdConverter, "oid")
        register_converter(DayConverter, "day")
        # Both import models, which are only loaded by now (apps.py is imported before them).
        from .audit import audit_register
        from .roles import roles_sync_after_migrate

        # The audit trail (django-auditlog): the models listed in concierge/audit.py.
        audit_register()

        # Groups and their permissions follow the code: every migrate brings them up to date.
        post_migrate.connect(roles_sync_after_migrate, sender=self, dispatch_uid="concierge.roles_sync")
