from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RosterConfig(AppConfig):
    """Providers (nurses and clinicians), their state licences, weekly shifts, overrides and time off."""

    name = "roster"
    verbose_name = _("Roster")
