"""Texts patients send to the clinic's number, read for danger (notifications' `inbound_text_received`).

A text that is not a keyword arrives through the seam (notifications/signals.py). When its words
suggest danger (patients/danger_words.py, English and Spanish), it raises a safety alert exactly
as a portal message does (services.safety_alert_raise: infusion booking held, the on-call inbox
emailed, the clinician on call paged) and the sender is texted back at once with 911 and 988, in
the language they wrote in. The alert keeps the words, for clinicians; the outbox keeps none.

Whose text it is: the patient whose profile has that mobile number. A number no patient has, or
more than one patient shares, raises an alert with no patient and the number to call back: a
clinician finds out who it is, and nobody's infusions are held on a guess.
"""

from datetime import datetime
from typing import Any

from django.conf import settings

from .danger_words import SPANISH, danger_matches
from .models import PatientProfile
from .services import safety_alert_raise

# Texted back at once (one segment each where possible; no clinical words beyond what the
# person wrote to us). The clinic's name and phone come from settings.
CRISIS_REPLY = {
    "en": (
        "{clinic}: if you are in danger call 911 now. For crisis support call or text 988, day or night. "
        "Our on-call clinician has been alerted and will call you."
    ),
    SPANISH: (
        "{clinic}: si esta en peligro llame al 911 ahora. Para ayuda en una crisis llame o envie un texto "
        "al 988 (opcion 2, espanol). Nuestro clinico de guardia fue avisado y le llamara."
    ),
}


def inbound_text_check(
    sender: object = None,
    *,
    inbound: Any,
    phone_number: str,
    body: str,
    received_at: datetime | None = None,
    **kwargs: object,
) -> str:
    """notifications.signals.inbound_text_received: raise an alert and answer with 911/988 when the
    words suggest danger; otherwise answer nothing (the standard answer goes). Runs inside the
    sender's transaction: an error here rolls the text's record back."""
    matches = danger_matches(body)
    if not matches:
        return ""
    profiles = list(PatientProfile.objects.filter(mobile_phone=phone_number).select_related("user")[:2])
    patient = profiles[0].user if len(profiles) == 1 else None
    safety_alert_raise(
        inbound_text=inbound,
        patient=patient,
        matched_words=[match.key for match in matches],
        source_text=body,
        from_number=phone_number,
    )
    return CRISIS_REPLY[matches[0].language if matches[0].language == SPANISH else "en"].format(
        clinic=settings.CLINIC_NAME
    )
