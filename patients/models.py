from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from localflavor.us.models import USStateField, USZipCodeField
from phonenumber_field.modelfields import PhoneNumberField

from concierge.geo import zip_lookup

MINIMUM_AGE = 18


def age_on(born, today):
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class PatientProfile(models.Model):
    """Who the patient is and where visits happen. One per patient login."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patient_profile")

    legal_first_name = models.CharField(_("legal first name"), max_length=100, blank=True)
    legal_last_name = models.CharField(_("legal last name"), max_length=100, blank=True)
    preferred_name = models.CharField(_("preferred name"), max_length=100, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
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

    emergency_contact_name = models.CharField(_("emergency contact"), max_length=150, blank=True)
    emergency_contact_phone = PhoneNumberField(_("emergency contact phone"), blank=True, region="US")
    emergency_contact_relationship = models.CharField(_("relationship"), max_length=60, blank=True)
    # The adult who stays with the patient after each infusion (no driving until the next day).
    support_person_name = models.CharField(_("adult who stays with you"), max_length=150, blank=True)
    support_person_phone = PhoneNumberField(_("their phone"), blank=True, region="US")

    # Set when PHQ-9 item 9 is answered above 0; holds infusion booking until a clinician resolves it.
    safety_review_required = models.BooleanField(_("safety review required"), default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("patient profile")

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
            today = timezone.localdate()
            if self.date_of_birth > today:
                errors["date_of_birth"] = _("The date of birth is in the future.")
            elif age_on(self.date_of_birth, today) < MINIMUM_AGE:
                errors["date_of_birth"] = _("You must be 18 or older to use ConciergeMD.")
            elif self.date_of_birth < date(today.year - 120, 1, 1):
                errors["date_of_birth"] = _("Please check the year of birth.")
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
    expires_on = models.DateField(_("clearance expires on"), null=True, blank=True)

    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["patient", "-decided_at"])]

    def __str__(self):
        return f"{self.get_decision_display()} ({self.decided_at:%Y-%m-%d})"

    def clean(self):
        if self.decision == ClearanceDecision.CLEARED and not self.expires_on:
            raise ValidationError({"expires_on": _("A clearance needs an expiry date.")})
        if self.decision != ClearanceDecision.CLEARED and not self.note:
            raise ValidationError({"note": _("Say why, for the patient's record.")})

    def is_active_on(self, day):
        return (
            self.decision == ClearanceDecision.CLEARED
            and self.revoked_at is None
            and self.expires_on is not None
            and day <= self.expires_on
        )
