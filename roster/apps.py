from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RosterConfig(AppConfig):
    """Providers (nurses and clinicians), their state licences, weekly shifts, overrides and time off."""

    name = "roster"
    verbose_name = _("Roster")

    def ready(self):
        # Imported here, not at the top: models cannot be imported before the app registry is ready.
        from concierge.schedule import schedule_tables_watch

        from .models import DateOverride, Licence, Provider, TimeOff, WeeklyShift

        # Who works when and where: cached searches for free times depend on every row of these
        # (concierge/schedule.py), whoever writes them (staff in admin, a service, a migration).
        schedule_tables_watch(*(m._meta.db_table for m in (Provider, Licence, WeeklyShift, DateOverride, TimeOff)))
