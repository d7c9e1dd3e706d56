"""What Twilio tells us: delivery receipts for our texts, and texts patients send us.

Both arrive at webhooks (views.py) and may come twice or out of order: a receipt changes a row
once, and an incoming text acts once (keyed on Twilio's id). STOP and START act on the number
(optouts.py); HELP gets a fixed answer. Any other text is announced to the apps above
(signals.inbound_text_received: patients checks it for danger words and may answer with 988 and
911); without an answer from them it gets the standard one, which says we cannot read replies
and gives 911 and 988 all the same.
"""

import re
import unicodedata

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..gateways.sms import TWILIO_OPTED_OUT
from ..models import Channel, InboundAction, InboundSms, Message, MessageStatus
from ..signals import inbound_text_received
from .optouts import normalize_number, sms_opt_in_record, sms_opt_out_record
from .sending import _fallback_email


@transaction.atomic
def sms_status_record(
    *, message_id: int | None = None, message_sid: str, status: str, error_code: str | int | None = None
) -> Message | None:
    """A delivery receipt from Twilio. Out of order or repeated receipts change nothing twice."""
    rows = Message.objects.select_for_update().filter(channel=Channel.SMS)
    if message_id is not None:
        message = rows.filter(pk=message_id).first()
    else:
        message = rows.filter(provider_message_id=message_sid).first()
    if message is None or (message.provider_message_id and message.provider_message_id != message_sid):
        return None
    if message.status not in (MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.UNKNOWN):
        return message  # already delivered, failed or closed: a late or repeated receipt
    now = timezone.now()
    if status == "delivered":
        message.status = MessageStatus.DELIVERED
        message.delivered_at = now
    elif status in ("failed", "undelivered"):
        message.status = MessageStatus.FAILED
        message.last_error = f"The carrier reported it {status} (code {error_code or 'none'})."
    elif message.status == MessageStatus.UNKNOWN or (
        message.status == MessageStatus.SENDING and message.attempt_started_at is not None
    ):
        # Twilio has the text (queued, sent): it went, whether or not our worker lived to record it.
        message.status = MessageStatus.SENT
    else:
        return message  # queued, sending, sent: nothing new
    message.provider_message_id = message.provider_message_id or message_sid
    message.sent_at = message.sent_at or now
    message.attempt_started_at = None
    message.save()
    if message.status == MessageStatus.FAILED:
        if str(error_code) == str(TWILIO_OPTED_OUT):
            sms_opt_out_record(phone_number=message.to_address, keyword="twilio-21610")
        _fallback_email(message)
    return message


STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}


START_WORDS = {"START", "UNSTOP"}


HELP_WORDS = {"HELP", "INFO"}


# Spanish speakers write these (Twilio's own Spanish opt-out words, and "ALTO"/"COMENZAR"); a
# Spanish keyword is answered in Spanish.
SPANISH_STOP_WORDS = {"PARA", "PARAR", "ALTO", "CANCELAR", "DETENER", "BAJA"}
SPANISH_START_WORDS = {"COMENZAR", "EMPEZAR", "INICIAR", "REANUDAR"}
SPANISH_HELP_WORDS = {"AYUDA"}
SPANISH_WORDS = SPANISH_STOP_WORDS | SPANISH_START_WORDS | SPANISH_HELP_WORDS


def inbound_keyword(body: str | None) -> str:
    """The whole text as a keyword: without case, accents or trailing punctuation."""
    word = re.sub(r"[\s.!?¡¿]+$", "", re.sub(r"^[\s¡¿]+", "", body or "")).upper()
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def inbound_action(body: str | None) -> str:
    """What a text asks for, in English or Spanish."""
    word = inbound_keyword(body)
    if word in STOP_WORDS or word in SPANISH_STOP_WORDS:
        return InboundAction.STOP
    if word in START_WORDS or word in SPANISH_START_WORDS:
        return InboundAction.START
    if word in HELP_WORDS or word in SPANISH_HELP_WORDS:
        return InboundAction.HELP
    return InboundAction.OTHER


def inbound_language(body: str | None) -> str:
    """The language to answer a text in: Spanish for a Spanish keyword, else English."""
    return "es" if inbound_keyword(body) in SPANISH_WORDS else settings.LANGUAGE_CODE


def inbound_reply(action: str, language: str | None = None) -> str:
    clinic, phone = settings.CLINIC_NAME, settings.CLINIC_PHONE
    if action == InboundAction.STOP:
        return ""  # Twilio confirms an opt-out itself and blocks anything we would send
    with translation.override(language or settings.LANGUAGE_CODE):
        if action == InboundAction.START:
            return _("%(clinic)s: you will get visit texts again. Reply HELP for help, STOP to opt out.") % {
                "clinic": clinic
            }
        if action == InboundAction.HELP:
            return _(
                "%(clinic)s home visits. For help call %(phone)s. Msg&data rates may apply. Reply STOP to opt out."
            ) % {"clinic": clinic, "phone": phone}
        return _(
            "%(clinic)s cannot read replies to this number. Please call %(phone)s. "
            "Emergency: call 911. Crisis: call or text 988. Reply STOP to opt out."
        ) % {"clinic": clinic, "phone": phone}


@transaction.atomic
def sms_inbound_handle(*, message_sid: str, from_number: str, body: str | None) -> str:
    """A text a patient sent: STOP/START act on the number, HELP answers. Returns the reply ('' for none).

    The same Twilio message delivered twice acts once (keyed on its id).
    """
    action = inbound_action(body)
    number = normalize_number(from_number)
    inbound, created = InboundSms.objects.get_or_create(
        message_sid=message_sid,
        defaults={"from_number": number, "action": action, "received_at": timezone.now()},
    )
    if created:
        keyword = (body or "").strip().upper()[:20]
        if action == InboundAction.STOP:
            sms_opt_out_record(phone_number=number, keyword=keyword)
        elif action == InboundAction.START:
            sms_opt_in_record(phone_number=number, keyword=keyword)
        elif action == InboundAction.OTHER:
            answers = inbound_text_received.send(
                sender=InboundSms,
                inbound=inbound,
                phone_number=number,
                body=body or "",
                received_at=inbound.received_at,
            )
            reply = next((str(answer) for _receiver, answer in answers if answer), "")
            if reply:
                inbound.reply = reply
                inbound.save(update_fields=["reply"])
    return inbound.reply or inbound_reply(inbound.action, inbound_language(body))
