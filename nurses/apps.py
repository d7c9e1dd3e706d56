from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NursesConfig(AppConfig):
    name = "nurses"
    verbose_name = _("Nurses")
