from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from concierge.landing import landing_register


class PortalConfig(AppConfig):
    """The patient's portal and the care team's side of it: the dashboard, secure messages and the
    staff inbox, follow-up check-ins, data rights, working hours."""

    name = "portal"
    verbose_name = _("Care-team portal")

    def ready(self):
        # Models (and views, which import them) are only loaded by now.
        from concierge.models import Role

        from .views import dashboard

        # A patient's /me/ is their dashboard.
        landing_register(role=Role.PATIENT, view=dashboard)

        # A patient's pages are kept under their state version (concierge/patient_state.py):
        # every write to their threads, messages and check-ins moves it.
        from concierge.patient_state import patient_state_tables_watch

        from .models import FollowUpCheckIn, MessageThread, ThreadMessage

        for model in (MessageThread, FollowUpCheckIn):
            patient_state_tables_watch(model._meta.db_table, "patient_id")
        patient_state_tables_watch(
            ThreadMessage._meta.db_table, "thread_id", (MessageThread._meta.db_table, "patient_id")
        )
