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
        from .models import User, ZipCode
        from .roles import roles_sync_after_migrate
        from .schedule import schedule_tables_watch, schedule_watch_connections

        # The audit trail (django-auditlog): the models listed in concierge/audit.py.
        audit_register()

        # Groups and their permissions follow the code: every migrate brings them up to date.
        post_migrate.connect(roles_sync_after_migrate, sender=self, dispatch_uid="concierge.roles_sync")

        # Searches for free times are cached under the schedule version (concierge/schedule.py):
        # every write to a table they read changes it. Here: a login switched on or off (a
        # nurse's), and the ZIP table (positions, hence travel times).
        schedule_watch_connections()
        schedule_tables_watch(User._meta.db_table, only_updates_of="is_active")
        schedule_tables_watch(ZipCode._meta.db_table)
        schedule_tables_watch("auth_group")  # role names, shown with a login

        # A patient's pages are kept under their state version (concierge/patient_state.py):
        # every write to a table of theirs moves it. Here: their login, its roles, its two-step
        # device. The triggers that count the writes are made after every migrate.
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from .patient_state import patient_state_tables_watch, patient_state_triggers_after_migrate

        patient_state_tables_watch(User._meta.db_table, "id")
        patient_state_tables_watch(User.groups.through._meta.db_table, "user_id")
        patient_state_tables_watch(TOTPDevice._meta.db_table, "user_id")
        post_migrate.connect(
            patient_state_triggers_after_migrate, sender=self, dispatch_uid="concierge.patient_state_triggers"
        )
