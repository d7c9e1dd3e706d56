from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from concierge.signals import password_reset_requested

# The dispatch_uid of the outbox's receiver of the core's password-reset signal.
RESET_EMAIL_RECEIVER = "notifications.password_reset_email"


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from .services import password_reset_email  # services import models, only loaded by now

        password_reset_requested.connect(password_reset_email, dispatch_uid=RESET_EMAIL_RECEIVER)
