from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """Money: payments, refunds, the Stripe gateway and its fake, webhooks and reconciliation."""

    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        # Imported here, not at the top: models cannot be imported before the app registry is ready.
        from notifications.content import template_register

        from .notices import TEMPLATES

        # Receipts and refund notices leave through the outbox like every other email.
        for template in TEMPLATES:
            template_register(template)
