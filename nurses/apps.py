from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from concierge.landing import landing_register


class NursesConfig(AppConfig):
    """Field work: the nurse's day, the visit page and its chart."""

    name = "nurses"
    verbose_name = _("Nurses")

    def ready(self):
        # Models (and the views, which import them) cannot load before the app registry is ready.
        from concierge.models import Role

        from .views import landing

        landing_register(role=Role.NURSE, view=landing)

        # The patient's chart is part of their state (concierge/patient_state.py): every write to
        # it moves the patient's version, which keeps the nurse's day page (and any patient page).
        from booking.models import Visit
        from concierge.patient_state import patient_state_tables_watch

        from .models import (
            AdverseEvent,
            ChartAmendment,
            ChartEvent,
            DischargeChecklist,
            DoseRecord,
            ProtocolOverride,
            VisitChart,
            VitalsReading,
        )

        visit = (Visit._meta.db_table, "patient_id")
        patient_state_tables_watch(VisitChart._meta.db_table, "visit_id", visit)
        chart = (VisitChart._meta.db_table, "visit_id")
        children = (
            VitalsReading,
            DoseRecord,
            AdverseEvent,
            DischargeChecklist,
            ProtocolOverride,
            ChartAmendment,
            ChartEvent,
        )
        for model in children:
            patient_state_tables_watch(model._meta.db_table, "chart_id", chart, visit)
