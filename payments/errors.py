"""Payment rules that say no, in words for the person who asked (see concierge.errors)."""

from django.utils.translation import gettext_lazy as _

from concierge.errors import ApplicationError, InvalidState, TryAgainLater


class AlreadyPaid(InvalidState):
    default_message = _("This booking is already paid.")
    code = "already_paid"


class NothingToPay(InvalidState):
    default_message = _("There is nothing to pay for this booking.")
    code = "nothing_to_pay"


class PaymentUnavailable(TryAgainLater):
    default_message = _("We cannot take payments right now. Please try again in a few minutes, or call us.")
    code = "payment_unavailable"


class RefundNotAllowed(ApplicationError):
    default_message = _("This refund is not possible.")
    code = "refund_not_allowed"


class RefundTooLarge(RefundNotAllowed):
    default_message = _("That is more than can still be refunded.")
    code = "refund_too_large"


class HoldLapsed(InvalidState):
    """The visit's hold ran out before the patient paid (booking releases the time)."""

    default_message = _("We could not hold this time for you any longer. Please choose a time again.")
    code = "hold_lapsed"
