"""Booking's business errors (children of concierge.errors.ApplicationError).

Every message is safe to show the patient. Payments catch `SlotTaken` when a paid hold could not
be confirmed, and refund.
"""

from django.utils.translation import gettext_lazy as _

from concierge.errors import ApplicationError, InvalidState, NotAllowed


class SlotTaken(ApplicationError):
    """The time is no longer free. `nearest` holds up to three free starts close to it (UTC)."""

    default_message = _("That time was just taken. Please choose another time.")
    code = "slot_taken"

    def __init__(self, message=None, *, nearest=(), extra=None):
        super().__init__(message, extra=extra)
        self.nearest = list(nearest)


class NotEligible(NotAllowed):
    """The patient may not book this service now (intake, clearance or safety review)."""

    default_message = _("This visit cannot be booked yet.")
    code = "not_eligible"


class NotCovered(ApplicationError):
    default_message = _("We do not offer this visit at your address yet. Please call us.")
    code = "not_covered"


class ChangeWindowClosed(NotAllowed):
    """Inside the cut-off the patient must call the clinic to change or cancel."""

    default_message = _("This visit is too close to change online. Please call us.")
    code = "change_window_closed"


class TransitionNotAllowed(InvalidState):
    default_message = _("The visit cannot move to that status from where it is now.")
    code = "transition_not_allowed"


class HoldExpired(InvalidState):
    default_message = _("We could not hold this time for you any longer. Please choose a time again.")
    code = "hold_expired"
