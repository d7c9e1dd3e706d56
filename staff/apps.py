from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    """The back office in Django admin: the schedule board, queues, reports, the roster check and
    the actions on a visit. The top layer: it may import every other app, and none imports it."""

    name = "staff"
    verbose_name = _("Back office")

    def ready(self):
        # Imported here, not at the top: models cannot be imported before the app registry is ready.
        from concierge.models import User
        from concierge.schedule import schedule_tables_watch
        from patients.models import PatientProfile

        # The day's board is kept under the schedule version (staff/admin/visits/pages.py): besides
        # the schedule's own tables it shows people's names, so a change of name makes a new version.
        schedule_tables_watch(User._meta.db_table, only_updates_of=("first_name", "last_name", "email"))
        schedule_tables_watch(
            PatientProfile._meta.db_table, only_updates_of=("preferred_name", "legal_first_name", "legal_last_name")
        )
