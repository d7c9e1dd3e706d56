"""What each message says: the template registry, rendering, and the wording rules.

Texts land on lock screens and emails in shared inboxes, so no template names a diagnosis, a
drug, a treatment or a symptom (`FORBIDDEN_WORDS`; a test renders every template against it).
Every text fits SMS_MAX_SEGMENTS segments (counted by encoding: GSM-7 or UCS-2) and carries the
first name, "your ConciergeMD home visit" (or "video visit"), the date and time with the zone
abbreviation, the clinic phone (or the one link it is about) and "Reply STOP to opt out".
"""

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from .calendar import visit_calendar_ics
from .models import Channel, Message

# A text is billed by the segment: 160 GSM-7 characters (153 a part once split), or, with any
# character GSM-7 lacks (á, í, ó, ú...), 70 UCS-2 characters (67 a part). Every text we send,
# in every language, fits in SMS_MAX_SEGMENTS (a test renders every template in each language).
SMS_MAX_SEGMENTS = 2
NAME_MAX_LENGTH = 15

# Words that must never appear in a text, an email subject or a patient email. Whole words,
# any case. Shared with other apps' tests through `forbidden_words_in`.
FORBIDDEN_WORDS = (
    "ketamine",
    "esketamine",
    "spravato",
    "infusion",
    "infusions",
    "iv",
    "intravenous",
    "drip",
    "ptsd",
    "trauma",
    "depression",
    "depressed",
    "depressive",
    "anxiety",
    "anxious",
    "dose",
    "dosage",
    "mg",
    "psychiatric",
    "psychiatry",
    "mental",
    "suicide",
    "suicidal",
    "self-harm",
    "therapy",
    "treatment",
    "diagnosis",
    "diagnosed",
    "symptom",
    "symptoms",
    "medication",
    "drug",
    "prescription",
    "phq-9",
    "gad-7",
    "pcl-5",
    "score",
    # The same in Spanish: a text in the patient's language keeps the same privacy.
    "ketamina",
    "esketamina",
    "infusión",
    "infusiones",
    "intravenosa",
    "intravenoso",
    "goteo",
    "tept",
    "depresión",
    "deprimido",
    "deprimida",
    "depresivo",
    "ansiedad",
    "ansioso",
    "ansiosa",
    "dosis",
    "psiquiátrico",
    "psiquiátrica",
    "psiquiatría",
    "suicidio",
    "suicida",
    "autolesión",
    "terapia",
    "tratamiento",
    "diagnóstico",
    "diagnosticado",
    "síntoma",
    "síntomas",
    "medicamento",
    "medicamentos",
    "medicación",
    "fármaco",
    "droga",
    "receta",
    "puntuación",
    "puntaje",
)
_FORBIDDEN_RE = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in FORBIDDEN_WORDS) + r")(?![\w-])", re.I)


def forbidden_words_in(text: str | None) -> list[str]:
    """The forbidden words found in `text` (lower case), in order."""
    return [match.group(0).lower() for match in _FORBIDDEN_RE.finditer(text or "")]


# --- GSM-7 --------------------------------------------------------------------------------------

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")
_TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",
    }
)


def gsm7_length(text):
    """Septets `text` takes in GSM-7 (extension characters count twice), or None if it cannot."""
    length = 0
    for char in text:
        if char in GSM7_BASIC:
            length += 1
        elif char in GSM7_EXTENDED:
            length += 2
        else:
            return None
    return length


@dataclass(frozen=True)
class SmsSize:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def sms_size(text: str) -> SmsSize:
    """How a carrier counts `text`: its encoding, length in that encoding, and segments."""
    septets = gsm7_length(text)
    if septets is not None:
        return SmsSize("GSM-7", septets, 1 if septets <= 160 else math.ceil(septets / 153))
    units = len(text.encode("utf-16-le")) // 2
    return SmsSize("UCS-2", units, 1 if units <= 70 else math.ceil(units / 67))


# Languages whose texts keep the letters GSM-7 lacks (correct Spanish needs á, í, ó, ú), at the
# price of UCS-2 segments; the others fold accents into GSM-7 (names, mostly).
ACCENTED_LANGUAGES = ("es",)


def keeps_accents(language: str | None) -> bool:
    return (language or "").split("-")[0] in ACCENTED_LANGUAGES


def to_gsm7(text):
    """`text` with typography and accents GSM-7 lacks replaced by their plain forms.

    One character outside GSM-7 turns the whole text into UCS-2, with 70 characters a segment.
    """
    text = text.translate(_TYPOGRAPHY)
    out = []
    for char in text:
        if char in GSM7_BASIC or char in GSM7_EXTENDED:
            out.append(char)
            continue
        plain = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        out.append("".join(c for c in plain if c in GSM7_BASIC))
    return "".join(out)


# --- the registry -----------------------------------------------------------------------------

# Visit states in which a message about the visit still makes sense when it is sent.
LIVE = ("confirmed", "en_route")

# MessageTemplate.if_interrupted
RETRY = "retry"
CHECK = "check"


@dataclass(frozen=True)
class MessageTemplate:
    key: str
    channels: tuple[str, ...]
    # Visit statuses in which it may still be sent; None: not about a visit.
    visit_statuses: tuple[str, ...] | None = LIVE
    # Only while the visit is still at the time the message was planned for.
    bound_to_visit_time: bool = True
    # The visit's moment after which the message is pointless ("starts_at", "ends_at" or None).
    # Quiet hours never move a text past it either.
    deadline: str | None = "starts_at"
    attach_ics: bool = False
    # Where the email's templates are ("<base>.subject.txt", ".txt", ".html"); other apps keep
    # their own (payments' receipt). Default: notifications/email/<key>.
    email_base: str = ""
    # The row's `context` holds every value the template needs, written when it was enqueued.
    stored_context: bool = False
    # It carries a credential (a sign-in link): staff never see its text or context (the outbox
    # page, the admin), they are blanked once it has gone or can never go, and it is never
    # sent again (the person asks for a new one).
    sensitive: bool = False
    # What happens when an attempt started but its result was never recorded (a worker killed
    # mid-call) and the provider's record cannot tell whether it went (services/interrupted.py):
    # RETRY sends it again (a second reminder is better than none), CHECK leaves it for staff
    # ("may have gone: check before resending"; anything about money). A sensitive template is
    # never sent again, whatever this says.
    if_interrupted: str = "retry"
    # A page to a clinician on call (roster/oncall.py): it goes at any hour, to a number, not to
    # a patient (no quiet hours, no daily limit; a STOP from the number still stops it).
    staff_page: bool = False

    @property
    def email_path(self):
        return self.email_base or f"notifications/email/{self.key}"


TEMPLATES = {
    t.key: t
    for t in (
        MessageTemplate("confirmation", (Channel.EMAIL, Channel.SMS), bound_to_visit_time=False, attach_ics=True),
        MessageTemplate("prep_72h", (Channel.EMAIL,)),
        MessageTemplate("reminder_24h", (Channel.EMAIL, Channel.SMS)),
        MessageTemplate("reminder_2h", (Channel.EMAIL, Channel.SMS)),
        MessageTemplate(
            "checkin",
            (Channel.EMAIL,),
            visit_statuses=("confirmed", "en_route", "in_progress", "completed"),
            deadline=None,
        ),
        MessageTemplate("rescheduled", (Channel.EMAIL, Channel.SMS), attach_ics=True),
        MessageTemplate(
            "cancelled",
            (Channel.EMAIL, Channel.SMS),
            visit_statuses=("cancelled",),
            bound_to_visit_time=False,
            deadline=None,
        ),
        # Sent whenever the visit has not started (the nurse may be running past the visit's end):
        # only the status stops it, once the nurse has checked in (or the visit is cancelled).
        MessageTemplate(
            "on_my_way",
            (Channel.EMAIL, Channel.SMS),
            visit_statuses=("confirmed", "en_route"),
            bound_to_visit_time=False,
            deadline=None,
        ),
        # The nurse's earlier visit runs over: the patient hears before the visit's time passes.
        MessageTemplate(
            "running_late",
            (Channel.EMAIL, Channel.SMS),
            visit_statuses=("confirmed",),
            bound_to_visit_time=False,
            deadline=None,
        ),
        # A visit put on hold (booking/safety.py): "your care team will call you", nothing more.
        MessageTemplate(
            "care_team_call", (Channel.EMAIL, Channel.SMS), visit_statuses=("on_hold",), bound_to_visit_time=False
        ),
        MessageTemplate("staff_alert", (Channel.EMAIL,), visit_statuses=None, bound_to_visit_time=False, deadline=None),
        # "Urgent patient alert, open the queue" to the clinician on call (issue 15): no patient, no reason.
        MessageTemplate(
            "oncall_page",
            (Channel.SMS,),
            visit_statuses=None,
            bound_to_visit_time=False,
            deadline=None,
            stored_context=True,
            staff_page=True,
        ),
        # The care team answered in the portal (issue 10): only "you have a new message" and a
        # login link; the message itself never leaves the portal.
        MessageTemplate(
            "portal_message",
            (Channel.EMAIL, Channel.SMS),
            visit_statuses=None,
            bound_to_visit_time=False,
            deadline=None,
        ),
        # A scheduler held a time for the patient on the phone (issue 19): the link to pay for it.
        # Only while the hold lasts; the link needs the patient's own login, so it is no credential.
        MessageTemplate(
            "payment_link",
            (Channel.EMAIL, Channel.SMS),
            visit_statuses=("held",),
            bound_to_visit_time=False,
            deadline="hold_expires_at",
            stored_context=True,
        ),
        # A freed time offered from the waitlist (issue 19), held for the patient until it lapses.
        MessageTemplate(
            "waitlist_offer",
            (Channel.EMAIL, Channel.SMS),
            visit_statuses=("held",),
            bound_to_visit_time=False,
            deadline="hold_expires_at",
            stored_context=True,
        ),
        # Someone on the coverage waitlist: we now come to their ZIP (issue 19). No login behind it.
        MessageTemplate(
            "coverage_open",
            (Channel.EMAIL, Channel.SMS),
            visit_statuses=None,
            bound_to_visit_time=False,
            deadline=None,
            stored_context=True,
        ),
        # Sign-up (patients.services.patient_sign_up): a new address confirms itself with a link; an
        # address with an account hears that someone tried, with a password-reset link. Both carry
        # a credential; both are sent by address (the first has no account yet).
        MessageTemplate(
            "signup_confirm",
            (Channel.EMAIL,),
            visit_statuses=None,
            bound_to_visit_time=False,
            deadline=None,
            stored_context=True,
            sensitive=True,
        ),
        MessageTemplate(
            "signup_exists",
            (Channel.EMAIL,),
            visit_statuses=None,
            bound_to_visit_time=False,
            deadline=None,
            stored_context=True,
            sensitive=True,
        ),
        # Django's password reset (concierge.forms.ResetRequestForm): the link signs the person in.
        MessageTemplate(
            "password_reset",
            (Channel.EMAIL,),
            visit_statuses=None,
            bound_to_visit_time=False,
            deadline=None,
            sensitive=True,
        ),
    )
}


def template_register(template: MessageTemplate) -> None:
    """Another app's message (payments' receipt): registered when that app starts (AppConfig.ready).

    Registering the same template again is harmless; a different one under a taken key is a bug.
    """
    known = TEMPLATES.get(template.key)
    if known is not None and known != template:
        raise ValueError(f"Message template {template.key!r} is already registered differently")
    TEMPLATES[template.key] = template


def template_get(key: str) -> MessageTemplate:
    try:
        return TEMPLATES[key]
    except KeyError:
        raise ValueError(f"Unknown message template {key!r}; known: {', '.join(sorted(TEMPLATES))}") from None


SENSITIVE_TEMPLATES = tuple(key for key, spec in TEMPLATES.items() if spec.sensitive)
# What staff see instead of a sensitive message's text and context.
SENSITIVE_HIDDEN = _lazy("hidden: contains a sign-in link")


def is_sensitive(key: str) -> bool:
    """Whether messages from this template carry a credential (an unknown template does not)."""
    return key in SENSITIVE_TEMPLATES


def if_interrupted(key: str) -> str:
    """RETRY or CHECK for a message whose attempt was interrupted (services/interrupted.py)."""
    spec = TEMPLATES.get(key)
    if spec is None or spec.sensitive:
        return CHECK
    return spec.if_interrupted


# --- rendering --------------------------------------------------------------------------------


@dataclass
class Rendered:
    subject: str
    text: str
    html: str = ""
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)  # (filename, bytes, mimetype)


def when_text(moment: datetime, time_zone: str) -> str:
    """'Tue Mar 3, 9:00 AM EST': the visit's own zone, with its abbreviation."""
    return formats.date_format(moment.astimezone(ZoneInfo(time_zone)), "SHORT_DAY_TIME_FORMAT")


def time_text(moment: datetime, time_zone: str) -> str:
    """'9:30 AM EST'."""
    return dateformat.format(moment.astimezone(ZoneInfo(time_zone)), "g:i A T")


def day_text(moment: datetime, time_zone: str) -> str:
    return formats.date_format(moment.astimezone(ZoneInfo(time_zone)), "MESSAGE_DAY_FORMAT")


def eta_text(eta_from, eta_until, time_zone):
    """'9:40-10:00 AM EST', or '11:40 AM-12:20 PM EST' across noon."""
    zone = ZoneInfo(time_zone)
    a, b = eta_from.astimezone(zone), eta_until.astimezone(zone)
    if dateformat.format(a, "A") == dateformat.format(b, "A"):
        return f"{dateformat.format(a, 'g:i')}-{dateformat.format(b, 'g:i A T')}"
    return f"{dateformat.format(a, 'g:i A')}-{dateformat.format(b, 'g:i A T')}"


def first_name_for(user):
    profile = getattr(user, "patient_profile", None) if user is not None else None
    name = (profile.display_name if profile is not None else "") or (user.first_name if user is not None else "")
    return (name or "").strip().split(" ")[0] if name else ""


def _visit_context(visit):
    telehealth = visit.service.is_telehealth
    tz = visit.time_zone
    address = ", ".join(p for p in (visit.address_line1, visit.address_line2, visit.city) if p)
    if visit.state:
        address = f"{address}, {visit.state} {visit.zip_code}".strip(", ")
    return {
        "telehealth": telehealth,
        # The exact phrase the texts must carry.
        "visit": _("ConciergeMD video visit") if telehealth else _("ConciergeMD home visit"),
        "when": when_text(visit.starts_at, tz),
        "day": day_text(visit.starts_at, tz),
        "address": "" if telehealth else address,
        "time_zone": tz,
        # The visit page: for a video visit, where the join button appears shortly before the start.
        "visit_url": settings.SITE_URL + reverse("booking:visit", args=[visit.pk]),
        "join_minutes": settings.TELEHEALTH_JOIN_OPENS_MINUTES,
        # Until when a hold is kept for the patient (a payment link, a waitlist offer).
        "held_until": time_text(visit.hold_expires_at, tz) if visit.hold_expires_at else "",
    }


def message_context(message):
    ctx = {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "site_url": settings.SITE_URL,
        "dashboard_url": settings.SITE_URL + "/dashboard/",
        "name": first_name_for(message.recipient) or _("there"),
        # The patient's secure messages (a login link; what was written stays in the portal).
        "messages_url": settings.SITE_URL + reverse("portal:messages"),
        "checkin_url": settings.SITE_URL + "/dashboard/",
    }
    if message.visit_id:
        ctx.update(_visit_context(message.visit))
        if message.template == "checkin" and not message.visit.service.is_telehealth:
            # The day-after check-in for a home visit lands on that visit's check-in page.
            ctx["checkin_url"] = settings.SITE_URL + reverse("portal:checkin", args=[message.visit_id])
    data = message.context or {}
    if template_get(message.template).stored_context:
        ctx.update(data)
    if message.template == "on_my_way" and message.visit_id:
        tz = message.visit.time_zone
        ctx["eta"] = eta_text(datetime.fromisoformat(data["eta_from"]), datetime.fromisoformat(data["eta_until"]), tz)
        ctx["day"] = day_text(datetime.fromisoformat(data["eta_from"]), tz)
    if message.template == "staff_alert":
        ctx["alert_subject"] = data.get("subject", "")
        ctx["alert_body"] = data.get("body", "")
    if message.template == "password_reset":
        ctx["reset_url"] = data.get("reset_url", "")
    return ctx


def _squash(text):
    return re.sub(r"\s+", " ", text).strip()


def render_sms(message):
    """The text for an SMS row, in as few segments as its wording needs (at most SMS_MAX_SEGMENTS).

    A long name is shortened rather than cost another segment. Typography (curly quotes, dashes)
    becomes plain GSM-7. An English text also folds the accents GSM-7 lacks (a name like "Zoë"
    would make the whole text UCS-2) and keeps to the segments its wording needs. A Spanish one
    keeps the accents of its wording (á, í, ó, ú are UCS-2: 70 characters a segment, 67 once
    split; its templates are written to fit two) and may use both segments; only the dates
    ("sáb") and, when the name would cost a third segment, the name lose their accents first.
    """
    ctx = message_context(message)
    fold = not keeps_accents(translation.get_language())
    if not fold:
        ctx.update({key: to_gsm7(ctx[key]) for key in ("when", "day", "eta") if isinstance(ctx.get(key), str)})
    path = f"notifications/sms/{message.template}.txt"

    def text_with(name):
        text = _squash(render_to_string(path, {**ctx, "name": name})).translate(_TYPOGRAPHY)
        return to_gsm7(text) if fold else text

    least = sms_size(text_with("")).segments
    if least > SMS_MAX_SEGMENTS:
        raise ValueError(f"SMS template {message.template} needs more than {SMS_MAX_SEGMENTS} segments")
    budget = least if fold else SMS_MAX_SEGMENTS
    name = (to_gsm7(ctx["name"]) if fold else ctx["name"])[:NAME_MAX_LENGTH]
    if not fold and sms_size(text_with(name)).segments > budget:
        name = to_gsm7(name)
    while True:
        text = text_with(name)
        if sms_size(text).segments <= budget or not name:
            return text
        name = name[:-1]


def render_email(message):
    ctx = message_context(message)
    base = template_get(message.template).email_path
    subject = _squash(render_to_string(f"{base}.subject.txt", ctx))
    text = render_to_string(f"{base}.txt", ctx).strip() + "\n"
    html = render_to_string(f"{base}.html", ctx)
    attachments = []
    if template_get(message.template).attach_ics and message.visit_id:
        attachments.append(("visit.ics", visit_calendar_ics(message.visit), "text/calendar"))
    return Rendered(subject=subject, text=re.sub(r"\n{3,}", "\n\n", text), html=html, attachments=attachments)


def message_language(message: Message) -> str:
    """The language a message is written in, chosen when it is rendered (not when it was queued):
    the recipient's choice, or for someone without a login (the coverage waitlist) the language
    stored with the message."""
    languages = dict(settings.LANGUAGES)
    recipient = message.recipient if message.recipient_id is not None else None
    if recipient is not None and recipient.language in languages:
        return recipient.language
    stored = (message.context or {}).get("language")
    return stored if stored in languages else settings.LANGUAGE_CODE


def render(message: Message) -> Rendered:
    with translation.override(message_language(message)):
        if message.channel == Channel.SMS:
            return Rendered(subject="", text=render_sms(message))
        return render_email(message)


def preview(message):
    """(subject, text) a pending message would have if it were sent now; for the staff outbox.

    A sensitive message is never rendered for staff: its text is SENSITIVE_HIDDEN.
    """
    if is_sensitive(message.template):
        return "", str(SENSITIVE_HIDDEN)
    try:
        with translation.override(message_language(message)):
            if message.channel == Channel.SMS:
                return "", render_sms(message)
            ctx = message_context(message)
            base = template_get(message.template).email_path
            return _squash(render_to_string(f"{base}.subject.txt", ctx)), render_to_string(f"{base}.txt", ctx).strip()
    except Exception:  # a preview must never break the page
        return "", ""


def local_text(moment, message):
    """A time shown in the visit's zone (or the default zone), with the abbreviation."""
    if moment is None:
        return ""
    zone = message.visit.time_zone if message.visit_id else settings.NOTIFICATIONS_DEFAULT_TIME_ZONE
    return when_text(moment, zone)
