"""The business errors of the chart steps: each message is written for the nurse, beside the field
it names (`extra["field"]` or `extra["fields"]`) or at the top of the form."""

from django.utils.translation import gettext_lazy as _

from concierge.errors import ApplicationError, InvalidState


class ChartLocked(InvalidState):
    default_message = _("This chart is signed and locked. Add an amendment instead.")
    code = "chart_locked"


class WrongStep(InvalidState):
    default_message = _("That step does not fit where this visit is now. Please reload the page.")
    code = "wrong_step"


class NotOnVisitDay(InvalidState):
    default_message = _("This can only be done on the day of the visit.")
    code = "not_on_visit_day"


class ActionRequired(ApplicationError):
    """A reading crosses a protocol limit: it is saved only with the action taken."""

    default_message = _("This reading is past the protocol limits. Record the action you took before saving.")
    code = "action_required"


class ChartIncomplete(InvalidState):
    """The chart cannot be signed yet; `extra["missing"]` lists what is missing, in words."""

    default_message = _("The chart is not complete yet.")
    code = "chart_incomplete"


class DoseChanged(ApplicationError):
    default_message = _("The dose changed with the weight you entered. Check the new dose and confirm it.")
    code = "dose_changed"


class SignatureMismatch(ApplicationError):
    default_message = _("Type your full name exactly as it is on your account to sign.")
    code = "signature_mismatch"


class TimeProblem(ApplicationError):
    code = "time_problem"


class InfusionNotAllowed(InvalidState):
    """The visit is on hold, or the one question (booking/safety.py) says no: nothing may start.

    The message says why in words for the nurse and gives the on-call clinician's number.
    """

    default_message = _("Do not start this visit. Call the on-call clinician.")
    code = "infusion_not_allowed"


class ProtocolStop(ApplicationError):
    """A protocol rule (nurses/protocol.py) stops this step; the message says what to do."""

    default_message = _("The protocol does not allow this step now.")
    code = "protocol_stop"
