from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    """Services and prices, areas and coverage, availability, visits and their life cycle."""

    name = "booking"
    verbose_name = _("Booking")

    def ready(self):
        from patients.journey import evaluation_finder_register

        from .selectors import evaluation_upcoming_for

        # The patient's path (patients, below us) shows the evaluation booked here.
        evaluation_finder_register(evaluation_upcoming_for)
