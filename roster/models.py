"""The roster: who delivers visits, where they may practise, and when they work.

Providers are nurses and clinicians. A visit in a state needs a licence valid there on the visit
date (roster/licensure.py); working time is a weekly pattern in the provider's own time zone,
changed on single dates by overrides and removed by time off.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from localflavor.us.models import USStateField, USZipCodeField
from phonenumber_field.modelfields import PhoneNumberField

from concierge.geo import zip_lookup
from concierge.inputs import DATE_RANGE_VALIDATORS


class ProviderKind(models.TextChoices):
    NURSE = "nurse", _("Nurse")
    CLINICIAN = "clinician", _("Clinician")


class Provider(models.Model):
    """A nurse or clinician who delivers visits: where they start from and how much they work."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="provider")
    kind = models.CharField(_("kind"), max_length=16, choices=ProviderKind.choices)
    phone = PhoneNumberField(_("mobile phone"), blank=True, region="US")
    home_zip = USZipCodeField(_("home base ZIP"))
    # The provider's own time zone (from the home base): their weekly pattern is in it.
    time_zone = models.CharField(_("time zone"), max_length=64, editable=False)
    max_visits_per_day = models.PositiveSmallIntegerField(
        _("maximum visits a day"), default=4, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self):
        return self.user.get_full_name()

    def clean(self):
        info = zip_lookup(self.home_zip)
        if info is None:
            raise ValidationError({"home_zip": _("We do not recognise this ZIP code.")})
        self.time_zone = info.time_zone


class LicenceType(models.TextChoices):
    RN = "RN", _("Registered nurse (RN)")
    LPN = "LPN", _("Licensed practical nurse (LPN)")
    APRN = "APRN", _("Advanced practice registered nurse (APRN)")
    MD = "MD", _("Physician (MD)")
    DO = "DO", _("Physician (DO)")
    PA = "PA", _("Physician assistant (PA)")


class Licence(models.Model):
    """A state licence. A visit in a state needs a licence valid there on the visit date."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="licences")
    state = USStateField(_("state"))
    licence_type = models.CharField(_("type"), max_length=8, choices=LicenceType.choices)
    # A multistate licence from a Nurse Licensure Compact state is valid in every compact state.
    multistate = models.BooleanField(_("multistate (compact)"), default=False)
    number = models.CharField(_("licence number"), max_length=64)
    expires_on = models.DateField(_("expires on"), validators=DATE_RANGE_VALIDATORS)
    verified_on = models.DateField(_("verified on"), null=True, blank=True, validators=DATE_RANGE_VALIDATORS)

    class Meta:
        ordering = ["state", "-expires_on"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "state", "licence_type"], name="licence_unique_per_state"),
        ]

    def __str__(self):
        return f"{self.licence_type} {self.state} (expires {self.expires_on:%Y-%m-%d})"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WeeklyShift(models.Model):
    """A working block in the weekly pattern, in the provider's own time zone."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="weekly_shifts")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))

    class Meta:
        ordering = ["weekday", "start_time"]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def clean(self):
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": _("The shift must end after it starts.")})


class DateOverride(models.Model):
    """One date worked differently from the pattern: other hours, or not at all (no times)."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="date_overrides")
    date = models.DateField(_("date"), validators=DATE_RANGE_VALIDATORS)
    start_time = models.TimeField(_("from"), null=True, blank=True)
    end_time = models.TimeField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["date", "start_time"]

    def __str__(self):
        if self.start_time is None:
            return f"{self.date:%Y-%m-%d}: off"
        return f"{self.date:%Y-%m-%d}: {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def clean(self):
        if (self.start_time is None) != (self.end_time is None):
            raise ValidationError(_("Give both times, or neither for a day off."))
        if self.start_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": _("The hours must end after they start.")})


class TimeOff(models.Model):
    """Time away (stored in UTC), which removes any working hours it overlaps."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField(_("from"), validators=DATE_RANGE_VALIDATORS)
    ends_at = models.DateTimeField(_("until"), validators=DATE_RANGE_VALIDATORS)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = _("time off")

    def __str__(self):
        return f"{self.starts_at:%Y-%m-%d %H:%M} - {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("Time off must end after it starts.")})
