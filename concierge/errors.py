"""The one error hierarchy for business rules.

A service raises one of these when a rule says no. The message is written for the person who
asked (a patient, a nurse, staff) and is safe to show them; views turn it into a form or page
message, never a 500. Tests assert on the class and on `code`.
"""

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    default_message = _("That could not be done. Please try again or call us.")
    code = "application_error"

    def __init__(self, message=None, *, extra=None):
        self.message = message or self.default_message
        self.extra = extra or {}
        super().__init__(str(self.message))


class NotAllowed(ApplicationError):
    default_message = _("You are not allowed to do that.")
    code = "not_allowed"


class InvalidState(ApplicationError):
    default_message = _("That is no longer possible: the record has changed. Please reload the page.")
    code = "invalid_state"


class TryAgainLater(ApplicationError):
    """Someone else is changing the same thing right now (a lock timed out)."""

    default_message = _("We are busy with that right now. Please try again in a moment.")
    code = "try_again"
