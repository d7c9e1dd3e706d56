"""The roster: who delivers visits, where they may practise, and when they work.

Providers are nurses and clinicians. A visit in a state needs a licence valid there on the visit
date (roster/licensure.py); working time is a weekly pattern in the provider's own time zone,
changed on single dates by overrides and removed by time off.
"""

import base64

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from localflavor.us.models import USZipCodeField
from phonenumber_field.modelfields import PhoneNumberField

from concierge.geo import zip_lookup
from concierge.inputs import DATE_RANGE_VALIDATORS
from concierge.states import USStateField


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


class ProviderPhoto(models.Model):
    """The small portrait a provider's patients see ("who is coming"), shown as a data: URL: no
    media storage to run, and the CSP already admits data: images.

    In a table of its own, not a column of Provider: every list of visits reads its providers
    with the visits (select_related), and would otherwise carry up to 300 KB per row that no list
    shows. Read only where it is shown (`roster.selectors.provider_photo_url`).
    """

    provider = models.OneToOneField(Provider, on_delete=models.CASCADE, primary_key=True, related_name="photo")
    data = models.BinaryField(_("photo"))
    content_type = models.CharField(_("photo type"), max_length=16)

    class Meta:
        verbose_name = _("provider photo")

    def __str__(self):
        return str(_("Photo of %(provider)s") % {"provider": self.provider})

    @property
    def data_url(self) -> str:
        """The portrait as a data: URL for an <img>, or "" when there is none."""
        if not self.data or not self.content_type:
            return ""
        return f"data:{self.content_type};base64,{base64.b64encode(bytes(self.data)).decode()}"


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
    MONDAY = 0, pgettext_lazy("a day of the week, as a choice", "Monday")
    TUESDAY = 1, pgettext_lazy("a day of the week, as a choice", "Tuesday")
    WEDNESDAY = 2, pgettext_lazy("a day of the week, as a choice", "Wednesday")
    THURSDAY = 3, pgettext_lazy("a day of the week, as a choice", "Thursday")
    FRIDAY = 4, pgettext_lazy("a day of the week, as a choice", "Friday")
    SATURDAY = 5, pgettext_lazy("a day of the week, as a choice", "Saturday")
    SUNDAY = 6, pgettext_lazy("a day of the week, as a choice", "Sunday")


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


# --- on call (issue 15) ----------------------------------------------------------------------------

ONCALL_TIME_ZONES = (
    ("America/New_York", _("Eastern (New York)")),
    ("America/Chicago", _("Central (Chicago)")),
    ("America/Denver", _("Mountain (Denver)")),
    ("America/Phoenix", _("Arizona (Phoenix)")),
    ("America/Los_Angeles", _("Pacific (Los Angeles)")),
    ("America/Anchorage", _("Alaska (Anchorage)")),
    ("Pacific/Honolulu", _("Hawaii (Honolulu)")),
)


class OnCallShift(models.Model):
    """Who answers urgent patient alerts during a block of hours, and who backs them up.

    Either every week on a weekday, or on one date; a dated block wins over the weekly pattern
    for the hours it covers (a swap, a holiday). The hours are in the block's own time zone; an
    end at or before the start runs past midnight into the next day (18:00-08:00 is a night).
    roster/oncall.py finds the block that covers a moment.
    """

    clinician = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="oncall_shifts", verbose_name=_("clinician on call")
    )
    backup = models.ForeignKey(
        Provider,
        on_delete=models.PROTECT,
        related_name="oncall_backups",
        verbose_name=_("backup"),
        help_text=_("Paged when the clinician on call has not acknowledged an alert in time."),
    )
    weekday = models.PositiveSmallIntegerField(_("every week on"), choices=Weekday.choices, null=True, blank=True)
    date = models.DateField(_("or on this date"), null=True, blank=True)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"), help_text=_("At or before the start: the next day (a night)."))
    time_zone = models.CharField(_("time zone"), max_length=64, choices=ONCALL_TIME_ZONES)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("on-call shift")
        verbose_name_plural = _("on-call rota")
        ordering = [models.F("date").asc(nulls_first=True), "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__isnull=True, date__isnull=False)
                | models.Q(weekday__isnull=False, date__isnull=True),
                name="oncall_shift_weekday_or_date",
            ),
        ]

    def __str__(self):
        day = self.date.strftime("%Y-%m-%d") if self.date else Weekday(self.weekday).label
        return f"{day} {self.start_time:%H:%M}-{self.end_time:%H:%M} ({self.time_zone})"

    @property
    def overnight(self):
        return self.end_time <= self.start_time

    def clean(self):
        errors = {}
        if (self.weekday is None) == (self.date is None):
            errors["weekday"] = _("Give a weekday (every week) or a date (once), not both.")
        clinician = self.clinician if self.clinician_id else None
        backup = self.backup if self.backup_id else None
        for field, provider in (("clinician", clinician), ("backup", backup)):
            if provider is None:
                continue
            if provider.kind != ProviderKind.CLINICIAN or not provider.is_active:
                errors[field] = _("Choose an active clinician.")
            elif not provider.phone:
                errors[field] = _("%(name)s has no mobile phone in the roster: alerts are texted.") % {"name": provider}
        if clinician is not None and backup is not None and clinician.pk == backup.pk:
            errors["backup"] = _("The backup must be someone else.")
        if errors:
            raise ValidationError(errors)


class OnCallPage(models.Model):
    """One urgent alert sent to the clinician on call (a text and an email: neutral words, a link).

    It must be acknowledged in admin; unacknowledged after ONCALL_ESCALATE_AFTER_MINUTES, the
    backup is paged (once: roster/oncall.py claims the escalation with a conditional UPDATE).
    `key` says what it is about ("safety-alert:12") and makes paging twice page once. No patient
    is named here: the page points at the record, which says the rest to whoever may read it.
    """

    key = models.CharField(_("about"), max_length=100, unique=True)
    link = models.CharField(_("where to open it"), max_length=300)
    paged_at = models.DateTimeField(_("paged at"))
    shift = models.ForeignKey(
        OnCallShift, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("shift")
    )
    # None: nobody was on the rota at that moment; the on-call inbox was emailed instead.
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("clinician paged"),
    )
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("on-call alert")
        verbose_name_plural = _("on-call alerts")
        ordering = [models.F("acknowledged_at").asc(nulls_first=True), "-paged_at"]
        indexes = [
            models.Index(fields=["acknowledged_at", "escalated_at", "paged_at"]),
            # The admin list's order (open first, NULLS FIRST) has its index on PostgreSQL only:
            # oncallpage_list_order_idx, made by a migration (SQLite cannot index NULLS FIRST).
        ]

    def __str__(self):
        return f"{self.key} ({self.paged_at:%Y-%m-%d %H:%M} UTC)"
