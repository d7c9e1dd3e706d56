"""What the outbox tells the apps above it (they import notifications; notifications never imports them).

sms_consent_changed
    A phone number said STOP (or Twilio reported it unsubscribed), or said START again.
    Sent (sender: the SmsOptOut model) by notifications.services.sms_opt_out_record and
    sms_opt_in_record, inside their transaction and with `send`, not `send_robust`: a receiver
    that fails rolls the STOP/START back, so the number's opt-out and the patients' consent
    never disagree.
    Listened to by patients (services.sms_consent_apply, connected in PatientsConfig.ready): the
    text consent of every patient profile with that mobile number goes off (or on) with it.
"""

from django.dispatch import Signal

sms_consent_changed = Signal()  # sent with phone_number (E.164), opted_in (bool), at (datetime)
