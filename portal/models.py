"""The care-team portal's records: secure message threads with the care team, and the follow-up
check-ins a patient fills in after an infusion."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from patients.models import ScreeningResponse

# --- the care-team portal: secure messages (issue 10) -------------------------------------------


class ThreadTopic(models.TextChoices):
    """What a thread is about; it decides who on the care team reads and answers it.

    Health threads can hold clinical content: clinicians read and answer them. Logistics threads
    (visits, billing, the account) are answered by schedulers or clinicians.
    """

    HEALTH = "health", _("My health or treatment")
    LOGISTICS = "logistics", _("Visits, payments or my account")


class MessageThread(models.Model):
    """A conversation between one patient and the care team (secure: content never leaves the portal).

    `waiting_since` is when the oldest patient message that nobody has answered yet arrived
    (None: nothing to answer); the reply queue reads it. `answered_at`/`answered_by` are the last
    answer from the care team. Read state is kept per side as the time that side last read it.
    """

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="message_threads")
    subject = models.CharField(_("subject"), max_length=120)
    topic = models.CharField(_("about"), max_length=16, choices=ThreadTopic.choices, default=ThreadTopic.HEALTH)
    # A patient message in it matched the danger words: the on-call clinician was alerted.
    urgent = models.BooleanField(_("urgent"), default=False)
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    last_message_at = models.DateTimeField(_("last message at"), default=timezone.now)
    waiting_since = models.DateTimeField(_("waiting for a reply since"), null=True, blank=True)
    answered_at = models.DateTimeField(_("last answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last answered by"),
    )
    patient_read_at = models.DateTimeField(_("patient last read at"), null=True, blank=True)
    care_team_read_at = models.DateTimeField(_("care team last read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message thread")
        ordering = ["-last_message_at", "-id"]
        indexes = [
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-urgent", "waiting_since", "-last_message_at", "-id"]),
            models.Index(fields=["patient", "-last_message_at"]),
            models.Index(fields=["waiting_since"]),
        ]
        permissions = [
            ("answer_health_thread", _("Can read and answer patients' messages about their health")),
            ("answer_logistics_thread", _("Can read and answer patients' messages about visits and payments")),
        ]

    def __str__(self):
        return gettext("Thread %(id)s") % {"id": self.pk}

    @property
    def is_waiting(self):
        return self.waiting_since is not None


class MessageSender(models.TextChoices):
    PATIENT = "patient", _("Patient")
    CARE_TEAM = "care_team", _("Care team")


class ThreadMessage(models.Model):
    """One message in a thread, never edited. `form_token` makes a double-clicked "Send" send once."""

    thread = models.ForeignKey(MessageThread, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sender = models.CharField(_("from"), max_length=16, choices=MessageSender.choices)
    body = models.TextField(_("message"), max_length=5000)
    # Which danger words (patients/danger_words.py) it matched, for the clinician; empty for most.
    danger_words = models.JSONField(_("danger words matched"), default=list, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    form_token = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("message")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["author", "form_token"], name="thread_message_once_per_form"),
        ]

    def __str__(self):
        return gettext("Message %(id)s") % {"id": self.pk}

    @property
    def from_patient(self):
        return self.sender == MessageSender.PATIENT


# --- follow-up check-ins after an infusion (issue 10) ----------------------------------------------


class Feeling(models.IntegerChoices):
    VERY_BAD = 1, _("Very bad")
    NOT_GOOD = 2, _("Not so good")
    OKAY = 3, _("Okay")
    GOOD = 4, _("Good")
    VERY_GOOD = 5, _("Very good")


class SideEffect(models.TextChoices):
    NAUSEA = "nausea", _("Nausea or being sick")
    HEADACHE = "headache", _("Headache")
    DIZZINESS = "dizziness", _("Dizziness")
    DISCONNECTED = "disconnected", _("Feeling disconnected or unreal")
    SLEEP = "sleep", _("Trouble sleeping")
    OTHER = "other", _("Something else")


class SideEffectSeverity(models.TextChoices):
    MILD = "mild", _("Mild: I barely noticed")
    MODERATE = "moderate", _("Moderate: it bothered me")
    SEVERE = "severe", _("Severe: it stopped me doing things")


class CheckInFlag(models.TextChoices):
    """Why a check-in goes to the clinicians' queue."""

    FEELING_VERY_BAD = "feeling_very_bad", _("Feels very bad")
    SEVERE_SIDE_EFFECTS = "severe_side_effects", _("Severe side effects")
    PHQ9_WORSE = "phq9_worse", _("PHQ-9 worse by a clinically meaningful change")
    PCL5_WORSE = "pcl5_worse", _("PCL-5 worse by a clinically meaningful change")
    PHQ9_ITEM9 = "phq9_item9", _("PHQ-9 item 9 above 0")
    DANGER_WORDS = "danger_words", _("Free text suggests danger")


class FollowUpCheckIn(models.Model):
    """The patient's answers the day after an infusion: one per visit, never edited.

    Questionnaires answered with it are ordinary `ScreeningResponse` rows (they feed the score
    chart); `flags` says what made it worrying, and a flagged check-in waits in the clinicians'
    queue until one marks it reviewed.
    """

    visit = models.OneToOneField(
        "booking.Visit", on_delete=models.PROTECT, related_name="checkin", verbose_name=_("visit")
    )
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkins")
    feeling = models.PositiveSmallIntegerField(_("how they feel"), choices=Feeling.choices)
    side_effects = models.JSONField(_("side effects"), default=list, blank=True)
    side_effect_severity = models.CharField(
        _("how bad the side effects were"), max_length=10, choices=SideEffectSeverity.choices, blank=True
    )
    other_side_effect = models.CharField(_("other side effect"), max_length=300, blank=True)
    phq9 = models.OneToOneField(
        ScreeningResponse, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="PHQ-9"
    )
    pcl5 = models.OneToOneField(
        ScreeningResponse, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="PCL-5"
    )
    flags = models.JSONField(_("needs a look because"), default=list, blank=True)
    submitted_at = models.DateTimeField(_("sent at"), default=timezone.now)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )

    class Meta:
        verbose_name = _("follow-up check-in")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-submitted_at"]),
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-submitted_at", "-id"]),
        ]

    def __str__(self):
        return gettext("Check-in %(id)s") % {"id": self.pk}

    @property
    def flagged(self):
        return bool(self.flags)

    @property
    def flag_labels(self):
        labels = dict(CheckInFlag.choices)
        return [str(labels.get(flag, flag)) for flag in self.flags]

    @property
    def side_effect_labels(self):
        labels = dict(SideEffect.choices)
        return [str(labels.get(code, code)) for code in self.side_effects]

    def clean(self):
        unknown = set(self.side_effects or []) - set(SideEffect.values)
        if unknown or not isinstance(self.side_effects, list):
            raise ValidationError({"side_effects": _("Choose side effects from the list.")})
        if self.side_effects and not self.side_effect_severity:
            raise ValidationError({"side_effect_severity": _("Please say how bad the side effects were.")})
        if SideEffect.OTHER in self.side_effects and not self.other_side_effect.strip():
            raise ValidationError({"other_side_effect": _("Please tell us what else you noticed.")})


# --- the care team's calendar (issue 15) ------------------------------------------------------------


class PublicHoliday(models.Model):
    """A day the care team is off (portal/working_hours.py): the reply clock does not count it,
    and an urgent message that day pages the clinician on call. Staff keep the table in admin."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("holiday"), max_length=100)

    class Meta:
        verbose_name = _("public holiday")
        ordering = ["date"]

    def __str__(self):
        return f"{self.name} ({self.date:%Y-%m-%d})"
