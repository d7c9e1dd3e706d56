"""What the outbox tells the apps above it (they import notifications; notifications never imports them).

sms_consent_changed
    A phone number said STOP (or Twilio reported it unsubscribed), or said START again.
    Sent (sender: the SmsOptOut model) by notifications.services.sms_opt_out_record and
    sms_opt_in_record, inside their transaction and with `send`, not `send_robust`: a receiver
    that fails rolls the STOP/START back, so the number's opt-out and the patients' consent
    never disagree.
    Listened to by patients (services.sms_consent_apply, connected in PatientsConfig.ready): the
    text consent of every patient profile with that mobile number goes off (or on) with it.

inbound_text_received
    A text arrived at the clinic's number that is not a keyword (not STOP, START or HELP): a
    patient replying to a reminder in their own words. Sent once per Twilio message (a retried
    webhook does not send it again), by notifications.services.sms_inbound_handle, inside its
    transaction and with `send`: a receiver that fails rolls the text's record back.
    Arguments: `inbound` (the InboundSms row), `phone_number` (E.164), `body` (the words: in
    memory only, notifications keeps no text), `received_at`.
    A receiver returns the answer to text back ("" for none); the first non-empty answer is
    sent (as TwiML) instead of the standard "we cannot read replies", and kept on the row so a
    retried webhook gets the same answer.
    Listened to by patients (inbound.inbound_text_check, connected in PatientsConfig.ready):
    words that suggest danger raise a safety alert, as a portal message does, and the answer
    gives 988 and 911.
"""

from django.dispatch import Signal

sms_consent_changed = Signal()  # sent with phone_number (E.164), opted_in (bool), at (datetime)
inbound_text_received = Signal()  # sent with inbound, phone_number, body, received_at; returns a reply
