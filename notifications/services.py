"""Messages to patients and staff. The outbox and reminder rules arrive with the notifications issue.

The booking app calls these three functions inside its own transaction whenever a visit's life
cycle changes; they must only write rows (the outbox) and schedule sending with on_commit.
"""


def appointment_confirmed(*, appointment):
    """A visit was confirmed: confirmation email (.ics) and SMS, and its reminders."""


def appointment_rescheduled(*, appointment, previous_starts_at):
    """A confirmed visit moved: replace its pending reminders and tell the patient."""


def appointment_cancelled(*, appointment):
    """A visit was cancelled: cancel its pending reminders and send one notice."""
