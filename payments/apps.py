from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """Money: payments, refunds, the Stripe gateway and its fake, webhooks and reconciliation."""

    name = "payments"
    verbose_name = _("Payments")
