"""How money and visits are written for people (pages, emails, admin)."""

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from notifications.calendar import visit_calendar_title
from notifications.content import when_text

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class ShownVisit(Protocol):
    """What payments show of a visit: booking's Visit has it. Payments sit below booking and never
    import it, not even for type checking (the app graph counts those imports too)."""

    @property
    def starts_at(self) -> datetime: ...

    @property
    def time_zone(self) -> str: ...

    @property
    def price_cents(self) -> int: ...


def reference_html(payment) -> str:
    """A payment's reference kept on one line: "P-" alone at a line's end reads as a different code."""
    return format_html('<span class="text-nowrap">{}</span>', payment.reference)


def money(cents: int | None) -> str:
    """12345 -> "$123.45" (USD; negative amounts keep their sign in front)."""
    cents = int(cents or 0)
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


# The defaults of the settings that are words the patient reads (marked so that makemessages keeps
# them): shown in the patient's language when they are the defaults, as written when set otherwise.
SETTING_WORDS = (
    gettext_noop("after your visit: we email you a secure link to pay it by card"),
    gettext_noop("5 to 10 business days"),
)


# The gateway writes a card's decline in English (Stripe's `last_payment_error.message`), and the
# payment keeps it so for staff. The patient reads the ones we know in their language; any other
# only in English as written, else as the plain "declined" (never in a language they did not choose).
DECLINE_WORDS = {
    "Your card was declined.": gettext_lazy("Your card was declined."),
    "Your card has insufficient funds.": gettext_lazy("Your card has insufficient funds."),
    "Your card has expired.": gettext_lazy("Your card has expired."),
    "Your card's security code is incorrect.": gettext_lazy("Your card's security code is incorrect."),
    "Your card number is incorrect.": gettext_lazy("Your card number is incorrect."),
    "Your card does not support this type of purchase.": gettext_lazy(
        "Your card does not support this type of purchase."
    ),
    "An error occurred while processing your card. Try again in a little bit.": gettext_lazy(
        "An error occurred while processing your card. Try again in a little bit."
    ),
}


def decline_words(message: str) -> str:
    """What the patient reads of a declined card, in their language (the gateway's message is English)."""
    known = DECLINE_WORDS.get(message.strip())
    if known is not None:
        return str(known)
    if message and (translation.get_language() or "en").split("-")[0] == "en":
        return message
    return _("Your card was declined.")


def refund_days_words() -> "StrPromise":
    """How long a refund takes to reach the card (settings.PAYMENT_REFUND_DAYS_TEXT), translated."""
    return gettext_lazy(settings.PAYMENT_REFUND_DAYS_TEXT)


def balance_words(balance_cents: int) -> str:
    """The one sentence about the rest of the price (booking's money words and the payment pages)."""
    return _("The balance, %(balance)s, is due %(when)s.") % {
        "balance": money(balance_cents),
        "when": _(settings.PAYMENT_BALANCE_WHEN),
    }


def visit_title(visit: ShownVisit) -> "StrPromise":
    """ "Home visit" or "Video visit": never what the visit is for."""
    return visit_calendar_title(visit)


def visit_when(visit: ShownVisit) -> str:
    """ "Tue Mar 3, 9:00 AM EST": the visit's own time zone, with its abbreviation."""
    return when_text(visit.starts_at, visit.time_zone)
