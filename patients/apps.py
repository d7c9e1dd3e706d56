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
        inbound_text_received.connect(inbound_text_check, dispatch_uid=INBOUND_TEXT_RECEIVER)
