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

        # A patient's pages are kept under their state version (concierge/patient_state.py):
        # every write to a payment, its allocations or its refunds moves the patient's.
        from concierge.patient_state import patient_state_tables_watch

        from .models import Payment, PaymentAllocation, Refund

        patient_state_tables_watch(Payment._meta.db_table, "patient_id")
        for model in (PaymentAllocation, Refund):
            patient_state_tables_watch(model._meta.db_table, "payment_id", (Payment._meta.db_table, "patient_id"))
