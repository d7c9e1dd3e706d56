from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """Stripe deposits and payments, refunds by policy, webhooks and reconciliation.

    Nested inside `booking/` but its own app (label "payments") so its migrations are its own.
    """

    name = "booking.payments"
    label = "payments"
    verbose_name = _("Payments")
