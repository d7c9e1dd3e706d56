from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from notifications.signals import sms_consent_changed

# The dispatch_uid of patients' receiver of notifications' STOP/START signal.
SMS_CONSENT_RECEIVER = "patients.sms_consent_apply"


class PatientsConfig(AppConfig):
    name = "patients"
    verbose_name = _("Patients")

    def ready(self):
        from .services import sms_consent_apply  # services import models, only loaded by now

        sms_consent_changed.connect(sms_consent_apply, dispatch_uid=SMS_CONSENT_RECEIVER)
