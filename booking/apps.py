from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    """Services and prices, areas and coverage, availability, visits and their life cycle."""

    name = "booking"
    verbose_name = _("Booking")

    def ready(self):
        # Imported here, not at the top: models cannot be imported before the app registry is ready.
        from concierge.patient_state import patient_state_tables_watch
        from concierge.schedule import schedule_tables_watch
        from patients.journey import evaluation_finder_register
        from patients.signals import infusion_safety_changed
        from payments.signals import payment_succeeded

        from .checkout import on_payment_succeeded
        from .models import CalendarFeed, SafetyHold, Series, Service, ServiceArea, TimeOffer, TimeWaitlistEntry, Visit
        from .selectors import evaluation_upcoming_for
        from .services import on_infusion_safety_changed

        # Seams (docs/architecture.md): reactions that flow up from the layers below.
        # Money in for held visits: confirm them, or give the money back (payments/signals.py).
        payment_succeeded.connect(on_payment_succeeded, dispatch_uid="booking.checkout.on_payment_succeeded")
        # A warning sign in the clinical record puts the patient's upcoming infusions on hold
        # (booking/services/safety_holds.py), inside the transaction that recorded it.
        infusion_safety_changed.connect(
            on_infusion_safety_changed, dispatch_uid="booking.services.on_infusion_safety_changed"
        )
        # The patient's path (patients) shows the evaluation booked here.
        evaluation_finder_register(evaluation_upcoming_for)
        # Cached searches for free times (concierge/schedule.py) depend on every visit, service
        # and area row, and on which providers and services each area has.
        schedule_tables_watch(
            Visit._meta.db_table,
            Service._meta.db_table,
            ServiceArea._meta.db_table,
            ServiceArea.providers.through._meta.db_table,
            ServiceArea.services.through._meta.db_table,
        )
        # A patient's pages are kept under their state version (concierge/patient_state.py):
        # every write to these tables moves the version of the patient it names.
        for model in (Visit, Series, CalendarFeed, TimeWaitlistEntry):
            patient_state_tables_watch(model._meta.db_table, "patient_id")
        for model in (SafetyHold, TimeOffer):
            patient_state_tables_watch(model._meta.db_table, "visit_id", (Visit._meta.db_table, "patient_id"))
