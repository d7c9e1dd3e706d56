"""What the clinical record announces to the layers above it (docs/architecture.md, "Seams").

infusion_safety_changed
    Sent, inside the transaction that made the change, whenever something changes the answer to
    "may this patient receive an infusion now?": a safety alert raised or resolved (PHQ-9 item 9,
    danger words in a message, a check-in or a text), a new intake whose triage is not eligible or
    needs clinician review, a clearance recorded, declined, revoked or expired, a consent that is
    not (or no longer) signed. Arguments: `patient` (a User), `reason` (a short code such as
    "safety_alert", "triage", "clearance", "consent"), `safety` (True when the signal is a danger
    sign, so that patients are shown 988/911). Booking listens: it asks the one question again and
    puts every upcoming visit of the patient on hold when the answer is no. Sent with `send`: a
    failing receiver rolls the change back, so no warning sign is ever recorded without its hold.
"""

from django.dispatch import Signal

infusion_safety_changed = Signal()
