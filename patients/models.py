from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from localflavor.us.models import USZipCodeField
from phonenumber_field.modelfields import PhoneNumberField

from concierge.db import choice_label
from concierge.geo import zip_lookup
from concierge.inputs import DATE_RANGE_VALIDATORS
from concierge.states import USStateField

from .instruments import INSTRUMENTS

MINIMUM_AGE = 18


def age_on(born, today):
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def birth_date_problem(born, today=None):
    """Why this date of birth cannot open an account (under 18, future, implausible), or None."""
    today = today or timezone.localdate()
    if born > today:
        return _("The date of birth is in the future.")
    if age_on(born, today) < MINIMUM_AGE:
        return _("You must be 18 or older to use ConciergeMD.")
    if born < date(today.year - 120, 1, 1):
        return _("Please check the year of birth.")
    return None


class SignUpRequest(models.Model):
    """A sign-up waiting for its email address to be confirmed: nobody's account until then.

    Sign-up answers "check your email" whether or not the address already has an account, so that
    it never tells a stranger who is a patient. A new address gets a link to this row; an address
    with an account gets an email saying someone tried, with a password-reset link. The row keeps
    what the form took (the password only as its hash). Confirming asks for the password again,
    so someone who signs up first with another person's address can never end up holding that
    account: the link alone (which only the address's owner receives) is not enough, nor is the
    password alone. Rows are deleted once used or out of date (`signup_requests_purge`).
    """

    email = models.EmailField(_("email"), max_length=254)
    password = models.CharField(_("password"), max_length=128)  # make_password()'s hash, never the password
    date_of_birth = models.DateField(_("date of birth"), validators=DATE_RANGE_VALIDATORS)
    sms_opt_in = models.BooleanField(_("agrees to text messages"), default=False)
    # The language chosen at sign-up: the confirmation email is written in it, the account gets it.
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    # SHA-256 of the link's secret: the database alone cannot confirm anyone's sign-up.
    token_hash = models.CharField(max_length=64, unique=True)
    # When the terms were accepted and the text-message choice made.
    created_at = models.DateTimeField(_("asked at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("sign-up waiting for its email")
        ordering = ["-created_at"]

    def __str__(self):
        return f"sign-up request {self.pk}"


class WeightUnit(models.TextChoices):
    POUNDS = "lb", _("lb")
    KILOGRAMS = "kg", _("kg")


class PatientProfile(models.Model):
    """Who the patient is and where visits happen. One per patient login."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patient_profile")

    legal_first_name = models.CharField(_("legal first name"), max_length=100, blank=True)
    legal_last_name = models.CharField(_("legal last name"), max_length=100, blank=True)
    preferred_name = models.CharField(_("preferred name"), max_length=100, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True, validators=DATE_RANGE_VALIDATORS)
    mobile_phone = PhoneNumberField(_("mobile phone"), blank=True, region="US")

    terms_accepted_at = models.DateTimeField(_("terms and privacy accepted"), null=True, blank=True)
    # Consent to text messages is separate from the terms and recorded with its time (TCPA).
    sms_opt_in = models.BooleanField(_("agrees to text messages"), default=False)
    sms_opt_in_changed_at = models.DateTimeField(null=True, blank=True)

    # The home address is where visits happen; its ZIP gives the visit time zone.
    address_line1 = models.CharField(_("street address"), max_length=200, blank=True)
    address_line2 = models.CharField(_("apartment, suite, etc."), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = USStateField(_("state"), blank=True)
    zip_code = USZipCodeField(_("ZIP code"), blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, editable=False)

    weight_kg = models.DecimalField(
        _("weight (kg)"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(30), MaxValueValidator(300)],
    )
    # The unit the patient typed their weight in; the form shows it back in that unit.
    weight_unit = models.CharField(
        _("weight unit"), max_length=2, choices=WeightUnit.choices, default=WeightUnit.POUNDS
    )

    emergency_contact_name = models.CharField(_("emergency contact"), max_length=150, blank=True)
    emergency_contact_phone = PhoneNumberField(_("emergency contact phone"), blank=True, region="US")
    emergency_contact_relationship = models.CharField(_("relationship"), max_length=60, blank=True)
    # The adult who stays with the patient after each infusion (no driving until the next day).
    support_person_name = models.CharField(_("adult who stays with you"), max_length=150, blank=True)
    support_person_phone = PhoneNumberField(_("their phone"), blank=True, region="US")

    # Set when PHQ-9 item 9 is answered above 0; holds infusion booking until a clinician resolves it.
    safety_review_required = models.BooleanField(_("safety review required"), default=False)

    # The patient closed their account (portal/data_rights/closing.py). Nothing is deleted: records are
    # kept as medical-record law requires. This is THE flag anything that contacts patients
    # without their asking (marketing, surveys) must check: set means never.
    account_closed_at = models.DateTimeField(_("account closed at"), null=True, blank=True)
    account_closed_reason = models.TextField(_("why they closed it"), max_length=500, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("patient profile")
        indexes = [
            # The admin list's state filter: the states in use, read from this index (concierge.admin.values_in_use).
            models.Index(fields=["state"]),
        ]

    def __str__(self):
        return self.display_name or self.user.email

    @property
    def display_name(self):
        """The name to greet the patient by: preferred, else legal first name."""
        return self.preferred_name or self.legal_first_name

    @property
    def full_legal_name(self):
        return f"{self.legal_first_name} {self.legal_last_name}".strip()

    @property
    def is_complete(self):
        required = (
            self.legal_first_name,
            self.legal_last_name,
            self.date_of_birth,
            self.mobile_phone,
            self.address_line1,
            self.city,
            self.state,
            self.zip_code,
            self.weight_kg,
            self.emergency_contact_name,
            self.emergency_contact_phone,
            self.support_person_name,
            self.support_person_phone,
        )
        return all(required)

    def clean(self):
        errors = {}
        if self.date_of_birth:
            problem = birth_date_problem(self.date_of_birth)
            if problem:
                errors["date_of_birth"] = problem
        if self.zip_code:
            info = zip_lookup(self.zip_code)
            if info is None:
                errors["zip_code"] = _("We do not recognise this ZIP code.")
            elif self.state and info.state != self.state:
                errors["zip_code"] = _("This ZIP code is in %(zip_state)s, not %(state)s.") % {
                    "zip_state": info.state,
                    "state": self.state,
                }
            else:
                self.time_zone = info.time_zone
        if errors:
            raise ValidationError(errors)


class Diagnosis(models.TextChoices):
    PTSD = "ptsd", _("PTSD")
    MAJOR_DEPRESSION = "major_depression", _("Major depression")
    GENERALISED_ANXIETY = "generalised_anxiety", _("Generalised anxiety")
    OTHER = "other", _("Other")


class ClearanceDecision(models.TextChoices):
    CLEARED = "cleared", _("Cleared")
    DECLINED = "declined", _("Declined")
    MORE_INFO = "more_info", _("More information needed")


class Clearance(models.Model):
    """A clinician's decision after the evaluation and, when cleared, the treatment plan.

    Rows are never edited after the decision: a new decision is a new row, so the history of
    who decided what and when is the table itself. Booking reads the latest active one.
    """

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="clearances")
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="clearances_decided")
    diagnosis = models.CharField(_("diagnosis"), max_length=32, choices=Diagnosis.choices)
    decision = models.CharField(_("decision"), max_length=16, choices=ClearanceDecision.choices)
    note = models.TextField(_("note"), blank=True)

    # The treatment plan (required when cleared).
    infusions_planned = models.PositiveSmallIntegerField(
        _("number of infusions"), default=6, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    dose_mg_per_kg = models.DecimalField(
        _("dose (mg/kg)"),
        max_digits=4,
        decimal_places=2,
        default=0.5,
        validators=[MinValueValidator(0.1), MaxValueValidator(1.5)],
    )
    infusion_minutes = models.PositiveSmallIntegerField(
        _("infusion minutes"), default=40, validators=[MinValueValidator(20), MaxValueValidator(120)]
    )
    min_hours_between = models.PositiveSmallIntegerField(
        _("minimum hours between infusions"), default=48, validators=[MinValueValidator(24)]
    )
    series_window_days = models.PositiveSmallIntegerField(
        _("series window (days)"), default=21, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    expires_on = models.DateField(_("clearance expires on"), null=True, blank=True, validators=DATE_RANGE_VALIDATORS)

    # The intake version the clinician read when deciding (infusions wait for a new decision when
    # a later intake raises something this one did not).
    intake = models.ForeignKey(
        "IntakeResponse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clearances",
        verbose_name=_("intake version reviewed"),
    )
    # The telehealth evaluation this decision was made at (issue 10), when there was one.
    evaluation = models.ForeignKey(
        "booking.Visit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clearances",
        verbose_name=_("evaluation visit"),
    )
    # Or the day the patient was evaluated in person (issue 15), when there was no video visit.
    in_person_evaluated_on = models.DateField(_("evaluated in person on"), null=True, blank=True)

    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.TextField(_("why it was revoked"), blank=True)
    # When the clock told booking this clearance had run out (patients.services.clearances_expired_announce).
    expiry_announced_at = models.DateTimeField(_("expiry announced at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-decided_at"]),
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-decided_at", "-id"]),
        ]

    def __str__(self):
        return f"{choice_label(ClearanceDecision, self.decision)} ({self.decided_at:%Y-%m-%d})"

    def clean(self):
        errors = {}
        if self.decision == ClearanceDecision.CLEARED:
            if not self.expires_on:
                errors["expires_on"] = _("A clearance needs an expiry date.")
            elif self._state.adding and self.expires_on <= timezone.localdate():
                errors["expires_on"] = _("The expiry date must be after today.")
            elif self.expires_on > timezone.localdate() + timedelta(days=settings.CLEARANCE_MAX_VALID_DAYS):
                errors["expires_on"] = _("A clearance lasts at most %(days)s days: choose an earlier date.") % {
                    "days": settings.CLEARANCE_MAX_VALID_DAYS
                }
            hours_needed = ((self.infusions_planned or 1) - 1) * (self.min_hours_between or 0)
            if self.series_window_days and hours_needed > self.series_window_days * 24:
                errors["series_window_days"] = _(
                    "%(count)s infusions at least %(hours)s hours apart do not fit in %(days)s days."
                ) % {"count": self.infusions_planned, "hours": self.min_hours_between, "days": self.series_window_days}
        elif not self.note:
            errors["note"] = _("Say why, for the patient's record.")
        if errors:
            raise ValidationError(errors)

    def is_active_on(self, day):
        return (
            self.decision == ClearanceDecision.CLEARED
            and self.revoked_at is None
            and self.expires_on is not None
            and day <= self.expires_on
        )


class IntakeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Sent")


class IntakeResponse(models.Model):
    """One version of a patient's medical intake (questions in `patients/intake.py`).

    A patient has at most one draft, which they save and come back to. Sending it gives it the
    next version number; from then on the row is never changed. Changing an answer later starts a
    new draft from the last version and, when sent, becomes the next version.
    """

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intakes")
    status = models.CharField(_("status"), max_length=12, choices=IntakeStatus.choices, default=IntakeStatus.DRAFT)
    version = models.PositiveIntegerField(_("version"), null=True, blank=True)
    questionnaire_version = models.CharField(_("questionnaire version"), max_length=20)
    # {question key: answer}; the keys, types and choices are defined in patients/intake.py.
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("medical intake")
        verbose_name_plural = _("medical intakes")
        ordering = ["patient", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"], condition=models.Q(status="draft"), name="intake_one_draft_per_patient"
            ),
            models.UniqueConstraint(
                fields=["patient", "version"],
                condition=models.Q(version__isnull=False),
                name="intake_version_unique_per_patient",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status="draft", version__isnull=True, submitted_at__isnull=True)
                    | models.Q(status="submitted", version__isnull=False, submitted_at__isnull=False)
                ),
                name="intake_sent_rows_have_version_and_time",
            ),
        ]

    def __str__(self):
        if self.status == IntakeStatus.DRAFT:
            return gettext("Draft intake")
        return gettext("Intake version %(version)s") % {"version": self.version}

    @property
    def is_draft(self):
        return self.status == IntakeStatus.DRAFT


class TriageOutcome(models.TextChoices):
    ELIGIBLE = "eligible", _("May book an evaluation")
    CLINICIAN_REVIEW = "clinician_review", _("Clinician review needed")
    NOT_ELIGIBLE = "not_eligible", _("Not eligible")


class TriageResult(models.Model):
    """The triage rules (patients/triage_rules.py) applied to one sent intake version."""

    intake = models.OneToOneField(IntakeResponse, on_delete=models.PROTECT, related_name="triage")
    outcome = models.CharField(_("outcome"), max_length=20, choices=TriageOutcome.choices)
    fired_rules = models.JSONField(_("rules that fired"), default=list, blank=True)
    rules_version = models.CharField(_("rules version"), max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("triage result")

    def __str__(self):
        return self.get_outcome_display()


class Instrument(models.TextChoices):
    PHQ9 = "phq9", _("PHQ-9")
    GAD7 = "gad7", _("GAD-7")
    PCL5 = "pcl5", _("PCL-5")


class ScreeningResponse(models.Model):
    """One completed symptom questionnaire (PHQ-9, GAD-7 or PCL-5), item by item, with its score."""

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="screenings")
    instrument = models.CharField(_("questionnaire"), max_length=8, choices=Instrument.choices)
    # The answer to each item in order (0..3, or 0..4 for the PCL-5); definitions in instruments.py.
    item_answers = models.JSONField(_("item answers"))
    # The PHQ-9 and GAD-7 closing question (how difficult the problems made life), not scored.
    difficulty = models.PositiveSmallIntegerField(_("difficulty"), null=True, blank=True)
    total = models.PositiveSmallIntegerField(_("total score"))
    band = models.CharField(_("band"), max_length=24)
    provisional_positive = models.BooleanField(_("at or above the cut-off"), null=True, blank=True)
    subscores = models.JSONField(_("subscores"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("sent at"), default=timezone.now)
    seconds_taken = models.PositiveIntegerField(_("seconds taken"), null=True, blank=True)
    # One per displayed form: a second press of "Send" returns the first response.
    form_token = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("symptom questionnaire")
        verbose_name_plural = _("symptom questionnaires")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "instrument", "-submitted_at"]),
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-submitted_at", "-id"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["patient", "form_token"], name="screening_once_per_form"),
        ]

    def __str__(self):
        return f"{self.get_instrument_display()} ({self.submitted_at:%Y-%m-%d})"

    @property
    def definition(self):
        return INSTRUMENTS[self.instrument]

    @property
    def needs_safety_review(self):
        return self.instrument == Instrument.PHQ9 and self.item_answers[8] > 0

    def clean(self):
        definition = self.definition
        answers = self.item_answers
        if (
            not isinstance(answers, list)
            or len(answers) != len(definition.items)
            or any(not isinstance(a, int) or isinstance(a, bool) or not 0 <= a <= definition.max_item for a in answers)
        ):
            raise ValidationError({"item_answers": _("Every item needs one answer from the list.")})


class SafetyReason(models.TextChoices):
    PHQ9_ITEM9 = "phq9_item9", _("Screening answer needs a safety review")
    MESSAGE = "message", _("A portal message needs a safety review")
    CHECKIN = "checkin", _("A follow-up check-in needs a safety review")
    TEXT = "text", _("A text to the clinic's number needs a safety review")
    CANCELLATION = "cancellation", _("A reason for cancelling a visit needs a safety review")
    INTAKE = "intake", _("Words in the health questions need a safety review")
    # Not danger signs: a clinician reviews them before the next infusion (no crisis panel).
    SIDE_EFFECTS = "side_effects", _("Severe side effects after an infusion need a clinician's review")
    ADVERSE_EVENT = "adverse_event", _("A serious adverse event during an infusion needs a clinician's review")


# The alerts raised by a sign the patient may be in danger: the crisis panel (988, 911) with them.
DANGER_REASONS = frozenset(
    {
        SafetyReason.PHQ9_ITEM9,
        SafetyReason.MESSAGE,
        SafetyReason.CHECKIN,
        SafetyReason.TEXT,
        SafetyReason.CANCELLATION,
        SafetyReason.INTAKE,
    }
)


class SafetyAlert(models.Model):
    """An urgent item for the on-call clinician. Holds infusion booking until resolved.

    Raised by patients.services.safety_alert_raise, once per source (a questionnaire, a portal
    message, a check-in, a text, the reason a patient gave for cancelling a visit, or the words they
    wrote in a version of the health questions), or for a clinical event a clinician must review
    before the next infusion (severe side effects reported in a check-in, a serious adverse event
    the nurse charted during an infusion). A text from
    a number no patient has is an alert with no patient: the clinician calls the number back.
    """

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="safety_alerts", null=True, blank=True
    )
    reason = models.CharField(_("reason"), max_length=20, choices=SafetyReason.choices)
    screening = models.OneToOneField(
        ScreeningResponse,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="safety_alert",
        verbose_name=_("questionnaire"),
    )
    # Or the portal message / check-in whose words suggested danger (issue 10).
    message = models.OneToOneField(
        "portal.ThreadMessage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="safety_alert",
        verbose_name=_("portal message"),
    )
    checkin = models.OneToOneField(
        "portal.FollowUpCheckIn",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="safety_alert",
        verbose_name=_("follow-up check-in"),
    )
    # Or the text a patient (or an unknown number) sent to the clinic's number (issue 15). The
    # outbox keeps no text; the words are kept here, on the clinical record, for the clinician.
    inbound_text = models.OneToOneField(
        "notifications.InboundSms",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="safety_alert",
        verbose_name=_("text to our number"),
    )
    # Or the visit whose cancellation the patient explained in words that suggest danger.
    cancelled_visit = models.OneToOneField(
        "booking.Visit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cancellation_safety_alert",
        verbose_name=_("cancelled visit"),
    )
    # Or the version of the health questions whose written answers suggest danger.
    intake = models.OneToOneField(
        IntakeResponse,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="safety_alert",
        verbose_name=_("health questions"),
    )
    # Or the visit during which the nurse charted a serious adverse event (nurses/protocol.py).
    adverse_event_visit = models.OneToOneField(
        "booking.Visit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adverse_event_alert",
        verbose_name=_("visit with a serious adverse event"),
    )
    from_number = models.CharField(_("texted from"), max_length=20, blank=True)
    source_text = models.TextField(_("what they wrote (texts, cancellations, health questions)"), blank=True)
    # The danger ideas the words matched (patients/danger_words.py), for the clinician.
    matched_words = models.JSONField(_("danger words matched"), default=list, blank=True)
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)
    notified_at = models.DateTimeField(_("on-call clinician emailed at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution_note = models.TextField(_("resolution note"), blank=True)

    class Meta:
        verbose_name = _("safety alert")
        ordering = [models.F("resolved_at").asc(nulls_first=True), "-created_at"]
        indexes = [
            models.Index(fields=["patient", "resolved_at"]),
            # The admin list's order (open first, NULLS FIRST) has its index on PostgreSQL only:
            # safetyalert_list_order_idx, made by a migration (SQLite cannot index NULLS FIRST).
        ]

    def __str__(self):
        return gettext("Safety alert %(id)s") % {"id": self.pk}

    @property
    def is_open(self):
        return self.resolved_at is None

    @property
    def is_danger_sign(self):
        """A sign the patient may be in danger (the crisis panel goes with it), not a clinical event."""
        return self.reason in DANGER_REASONS


class ReviewQueueEntry(PatientProfile):
    """The clinicians' review queue in admin: patients waiting for a decision, safety flags first."""

    class Meta:
        proxy = True
        verbose_name = _("patient to review")
        verbose_name_plural = _("review queue")


# --- informed consent (issue 15) -------------------------------------------------------------------


class ConsentDocument(models.Model):
    """One version of the informed-consent document for ketamine infusions: the legal unit.

    A version is what a patient signs before their next infusion can be booked; its words are
    its `texts`, one per patient language (settings.LANGUAGES). A version is written as a draft
    and published once (patients.services.consent_publish), which needs a text in every
    language; from then on neither the version nor its texts change (`ConsentText.save`).
    """

    version = models.CharField(_("version"), max_length=20, unique=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        verbose_name = _("consent document")
        ordering = [models.F("published_at").desc(nulls_first=True), "-id"]

    def __str__(self):
        return gettext("Consent form %(version)s") % {"version": self.version}

    def save(self, *args, **kwargs):
        stored = type(self).objects.filter(pk=self.pk).values("version", "published_at").first() if self.pk else None
        if stored and stored["published_at"] is not None and stored["version"] != self.version:
            raise ValidationError(CONSENT_PUBLISHED)
        if self.published_at is not None and not (stored and stored["published_at"]) and self.missing_languages():
            # Published here rather than by services.consent_publish: the same rule, a text per language.
            raise ValidationError(_("A consent version is published only with a text in every patient language."))
        super().save(*args, **kwargs)

    def missing_languages(self) -> list[str]:
        """The patient languages (codes, settings.LANGUAGES order) this version has no text in yet."""
        have = {text.language for text in self.texts.all()} if self.pk else set()
        return [code for code, _name in settings.LANGUAGES if code not in have]


CONSENT_PUBLISHED = _("This consent version is published: its texts never change. Write a new version instead.")


def consent_published(document_id, *, lock=False) -> bool:
    """Whether the version is published, as stored now (a row in memory may be stale). `lock`
    holds the version's row until the transaction ends, so that publishing it waits."""
    rows = ConsentDocument.objects.filter(pk=document_id)
    if lock:
        rows = rows.select_for_update()
    return rows.filter(published_at__isnull=False).exists()


class ConsentText(models.Model):
    """A consent version's words in one language: the title and the text a patient reads and signs.

    The text is plain: paragraphs separated by blank lines, "## " starts a heading and "- " a
    list item (patients/consent.py renders it). Written and changed while its version is a
    draft; once the version is published, a text is never changed, added or deleted here (the
    one place this is enforced for every path; admin shows it read-only). A translation of a
    published version may only be added by a reviewed data migration (as 0013 did for 2026.1).
    """

    document = models.ForeignKey(
        ConsentDocument, on_delete=models.PROTECT, related_name="texts", verbose_name=_("version")
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(
        _("text"),
        help_text=_('Plain text: a blank line between paragraphs; "## " starts a heading, "- " a list item.'),
    )

    class Meta:
        verbose_name = _("consent text")
        ordering = ["document", "language"]
        constraints = [
            models.UniqueConstraint(fields=["document", "language"], name="consent_text_one_per_language"),
        ]

    def __str__(self):
        return f"{self.document.version} ({self.language})"

    def save(self, *args, **kwargs):
        with transaction.atomic():  # the version stays a draft until this text is written
            self._refuse_if_published(lock=True)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            self._refuse_if_published(lock=True)
            return super().delete(*args, **kwargs)

    def clean(self):
        super().clean()
        self._refuse_if_published()

    def _refuse_if_published(self, *, lock=False):
        if self.document_id is not None and consent_published(self.document_id, lock=lock):
            raise ValidationError(CONSENT_PUBLISHED)
        if self.pk is not None:  # moved from a published version to a draft: the published one loses a text
            stored = type(self).objects.filter(pk=self.pk).values_list("document_id", flat=True).first()
            if stored is not None and stored != self.document_id and consent_published(stored):
                raise ValidationError(CONSENT_PUBLISHED)


class ConsentSignature(models.Model):
    """A patient read and signed one consent version: typed name, tick, when, from where."""

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consent_signatures")
    document = models.ForeignKey(
        ConsentDocument, on_delete=models.PROTECT, related_name="signatures", verbose_name=_("version signed")
    )
    typed_name = models.CharField(_("name typed"), max_length=200)
    agreed = models.BooleanField(_("ticked 'I have read and agree'"))
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("from IP address"), null=True, blank=True)
    # The language of the text the patient read and signed: with the version, it names the text
    # (ConsentText). Signatures from before texts per language (all in English) say "en".
    language = models.CharField(_("language of the text signed"), max_length=8, choices=settings.LANGUAGES)

    class Meta:
        indexes = [
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-signed_at", "-id"]),
        ]
        verbose_name = _("consent signature")
        ordering = ["-signed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "document"], name="consent_signed_once_per_version"),
        ]

    def __str__(self):
        return f"{self.document.version} {self.language} ({self.signed_at:%Y-%m-%d})"
