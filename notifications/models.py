from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from concierge.db import choice_label


class Channel(models.TextChoices):
    SMS = "sms", _("Text message")
    EMAIL = "email", _("Email")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # waiting for due_at
    SENDING = "sending", _("Sending")  # claimed by the clock; a send task owns it
    SENT = "sent", _("Sent")  # the provider accepted it
    DELIVERED = "delivered", _("Delivered")  # the carrier confirmed it (texts only)
    FAILED = "failed", _("Failed")  # gave up: permanent error or too many attempts
    # The attempt started but its result was never recorded (the worker died mid-call) and the
    # provider's record cannot tell: it may have gone. Staff check before sending it again
    # (services/interrupted.py); never the failed queue, whose "send again" would send it twice.
    UNKNOWN = "unknown", _("May have gone: check before resending")
    CANCELLED = "cancelled", _("Cancelled")  # no longer relevant (visit moved or cancelled)
    SUPPRESSED = "suppressed", _("Suppressed")  # deliberately not sent: opted out, quiet hours, daily limit


class Message(models.Model):
    """One email or text message: written here first, then sent by a Celery task.

    The row exists before the provider is called, so every attempt and its result is on record
    and a crash never loses a message silently. `unique_key` says what the message is for
    (e.g. the 24-hour text for visit 12 at its current time); asking twice for the same thing
    returns the existing row instead of a second message. A cancelled row no longer holds its
    key, so a visit moved away and back again gets its reminders anew.

    Texts and emails hold no diagnosis, drug or clinical words; `body` and `subject` keep what
    was actually sent (or, for a pending row, nothing yet: it is written at send time).
    """

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="messages",
        null=True,
        blank=True,
        verbose_name=_("recipient"),
    )
    # The address or E.164 number used (set when sent; a patient may change their number meanwhile).
    to_address = models.CharField(_("sent to"), max_length=254, blank=True)
    template = models.CharField(_("template"), max_length=40)
    visit = models.ForeignKey(
        "booking.Visit",
        on_delete=models.PROTECT,
        related_name="messages",
        null=True,
        blank=True,
        verbose_name=_("visit"),
    )
    # Other ids and values the template needs (the visit time it was planned for, an ETA).
    context = models.JSONField(_("context"), default=dict, blank=True)
    unique_key = models.CharField(_("unique key"), max_length=200)
    # The text this email stands in for, when a text could not go.
    fallback_for = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="fallbacks", null=True, blank=True, verbose_name=_("instead of")
    )

    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(_("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # Set while a send task is talking to the provider; a second task for the row refuses.
    attempt_started_at = models.DateTimeField(_("attempt started at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=200, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["status", "due_at"]),
            # The admin's date drill-down: its first and last day read from this index's two ends
            # (the one above starts with the status, so MIN and MAX would walk all of it).
            models.Index(fields=["due_at"]),
            models.Index(fields=["recipient", "channel", "sent_at"]),
            models.Index(fields=["provider_message_id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["unique_key"],
                condition=~Q(status="cancelled"),
                name="message_unique_key_when_live",
            ),
            models.CheckConstraint(condition=Q(channel__in=["sms", "email"]), name="message_channel_valid"),
        ]

    def __str__(self):
        channel, status = choice_label(Channel, self.channel), choice_label(MessageStatus, self.status)
        return f"{channel} {self.template} #{self.pk} ({status})"


class SmsOptOut(models.Model):
    """A phone number that replied STOP (or that Twilio reports as unsubscribed).

    Kept per number, not per person: the number said stop, whoever it belongs to now. START
    clears `is_opted_out`; the row stays as the record of when it changed.
    """

    phone_number = models.CharField(_("phone number (E.164)"), max_length=20, unique=True)
    is_opted_out = models.BooleanField(_("opted out"), default=True)
    keyword = models.CharField(_("last keyword"), max_length=20, blank=True)
    changed_at = models.DateTimeField(_("changed at"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-changed_at", "-id"]),
        ]
        verbose_name = _("text opt-out")
        ordering = ["-changed_at"]

    def __str__(self):
        return f"{self.phone_number} ({'out' if self.is_opted_out else 'in'})"


class InboundAction(models.TextChoices):
    STOP = "stop", _("Opt out")
    START = "start", _("Opt back in")
    HELP = "help", _("Help")
    OTHER = "other", _("Other")


class InboundSms(models.Model):
    """A text a patient sent us, by Twilio's id, so a retried webhook changes nothing twice.

    The text itself is not kept here: patients write all sorts of things. Keywords act on the
    number; any other text is shown to the apps above (signals.inbound_text_received), and words
    that suggest danger are kept on the safety alert they raise (patients), for clinicians only.
    """

    message_sid = models.CharField(_("Twilio message id"), max_length=64, unique=True)
    from_number = models.CharField(_("from"), max_length=20)
    action = models.CharField(_("action"), max_length=8, choices=InboundAction.choices)
    received_at = models.DateTimeField(_("received at"))
    # What we texted back when it was not the standard answer (our words, never the patient's).
    reply = models.CharField(_("our answer"), max_length=320, blank=True)

    class Meta:
        indexes = [
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-received_at", "-id"]),
        ]
        verbose_name = _("incoming text")
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.from_number} {self.action}"
