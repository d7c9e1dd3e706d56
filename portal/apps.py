from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The patient's portal and the care team's side of it: the dashboard, secure messages and the
    staff inbox, follow-up check-ins, data rights, working hours."""

    name = "portal"
    verbose_name = _("Care-team portal")

    def ready(self):
        from concierge.landing import landing_register
        from concierge.models import Role

        from .views import dashboard

        # A patient's /me/ is their dashboard.
        landing_register(role=Role.PATIENT, view=dashboard)
