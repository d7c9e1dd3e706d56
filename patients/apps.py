from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from notifications.signals import inbound_text_received, sms_consent_changed

# The dispatch_uid of patients' receiver of notifications' STOP/START signal.
SMS_CONSENT_RECEIVER = "patients.sms_consent_apply"
# And of its receiver of texts that are not keywords (danger words: issue 15).
INBOUND_TEXT_RECEIVER = "patients.inbound_text_check"


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = _("Patients")

    def ready(self):
        from .inbound import inbound_text_check  # imports models, only loaded by now
        from .services import sms_consent_apply

        sms_consent_changed.connect(sms_consent_apply, dispatch_uid=SMS_CONSENT_RECEIVER)

        # A patient's pages are kept under their state version (concierge/patient_state.py):
        # every write to these tables moves the version of the patient it names. The consent
        # texts everyone signs move the schedule version (concierge/schedule.py).
        from concierge.patient_state import patient_state_tables_watch
        from concierge.schedule import schedule_tables_watch

        from .models import (
            Clearance,
            ConsentDocument,
            ConsentSignature,
            ConsentText,
            IntakeResponse,
            PatientProfile,
            SafetyAlert,
            ScreeningResponse,
            TriageResult,
        )

        patient_state_tables_watch(PatientProfile._meta.db_table, "user_id")
        for model in (Clearance, IntakeResponse, ScreeningResponse, SafetyAlert, ConsentSignature):
            patient_state_tables_watch(model._meta.db_table, "patient_id")
        patient_state_tables_watch(
            TriageResult._meta.db_table, "intake_id", (IntakeResponse._meta.db_table, "patient_id")
        )
        schedule_tables_watch(ConsentDocument._meta.db_table, ConsentText._meta.db_table)
        inbound_text_received.connect(inbound_text_check, dispatch_uid=INBOUND_TEXT_RECEIVER)
