from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from concierge.landing import landing_register


class NursesConfig(AppConfig):
    """Field work: the nurse's day, the visit page and its chart."""

    name = "nurses"
    verbose_name = _("Nurses")

    def ready(self):
        # Models (and the views, which import them) cannot load before the app registry is ready.
        from concierge.models import Role

        from .views import landing

        landing_register(role=Role.NURSE, view=landing)
