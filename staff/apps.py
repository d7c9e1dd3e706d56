from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    """The back office in Django admin: the schedule board, queues, reports, the roster check and
    the actions on a visit. The top layer: it may import every other app, and none imports it."""

    name = "staff"
    verbose_name = _("Back office")
