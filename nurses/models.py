from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# --- the visit chart (issue 7) ------------------------------------------------------------------
#
# A nurse charts each home visit on a phone: "on my way", check-in with baseline vitals, vitals
# every 10-15 minutes, the dose, adverse events, the discharge checklist and the signature.
# Every row below the chart is written once and never changed (AppendOnly); the chart itself
# gets each of its fields set once, by the services in nurses/services/, and every change is
# also a ChartEvent (who, when, what). After the signature, changes are ChartAmendments that
# leave the original rows as they were.


class AppendOnly(models.Model):
    """A clinical record: inserted once, never updated or deleted (corrections are new rows)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError(f"{type(self).__name__} rows are never changed; record a new row or an amendment.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{type(self).__name__} rows are never deleted.")


class ChartOutcome(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")
    STOPPED = "stopped", _("Stopped early")
    NO_SHOW = "no_show", _("No-show")


class VisitChart(models.Model):
    """The nurse's record of one home visit (one per visit)."""

    visit = models.OneToOneField(
        "booking.Visit", on_delete=models.PROTECT, related_name="chart", verbose_name=_("visit")
    )
    nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visit_charts", verbose_name=_("nurse")
    )
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    # On my way: the arrival window texted to the patient.
    on_my_way_at = models.DateTimeField(_("on the way at"), null=True, blank=True)
    eta_from = models.DateTimeField(_("arriving from"), null=True, blank=True)
    eta_until = models.DateTimeField(_("arriving until"), null=True, blank=True)
    eta_entered = models.BooleanField(_("window entered by the nurse"), default=False)

    # Check-in: server time, and where the phone said it was (when it said).
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    arrival_latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    arrival_longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    arrival_accuracy_m = models.PositiveIntegerField(_("location accuracy (m)"), null=True, blank=True)
    adult_present = models.BooleanField(_("adult who stays is present"), default=False)
    prep_followed = models.BooleanField(_("prep instructions followed"), default=False)

    # A visit stopped early still ends COMPLETED (it happened); the chart says it was stopped and why.
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    stop_reason = models.TextField(_("why the visit was stopped"), blank=True)
    no_show_reason = models.TextField(_("no-show: what happened"), blank=True)

    outcome = models.CharField(_("outcome"), max_length=16, choices=ChartOutcome.choices, default=ChartOutcome.OPEN)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    signature_name = models.CharField(_("signed as"), max_length=150, blank=True)
    # Set by the signature (or a no-show): from then on only amendments.
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)

    class Meta:
        indexes = [
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-created_at", "-id"]),
        ]
        verbose_name = _("visit chart")
        ordering = ["-created_at"]

    def __str__(self):
        return f"Chart {self.pk} (visit {self.visit_id})"

    @property
    def is_locked(self):
        return self.locked_at is not None


class ReadingKind(models.TextChoices):
    BASELINE = "baseline", _("Baseline (check-in)")
    DURING = "during", _("During the infusion")
    AFTER = "after", _("After the infusion")


class ActionTaken(models.TextChoices):
    PAUSED = "paused", _("Infusion paused")
    SLOWED = "slowed", _("Infusion slowed")
    STOPPED = "stopped", _("Infusion stopped")
    MEDICATION = "medication", _("Medication given")
    ESCALATED = "escalated", _("Escalated (clinician or 911)")
    # After "paused" or "stopped": the infusion runs again (a dose may be recorded again).
    RESUMED = "resumed", _("Infusion resumed")


class VitalsReading(AppendOnly):
    chart = models.ForeignKey(VisitChart, on_delete=models.PROTECT, related_name="vitals")
    kind = models.CharField(_("when"), max_length=12, choices=ReadingKind.choices)
    taken_at = models.DateTimeField(_("taken at"))
    systolic = models.PositiveSmallIntegerField(_("systolic (mmHg)"))
    diastolic = models.PositiveSmallIntegerField(_("diastolic (mmHg)"))
    heart_rate = models.PositiveSmallIntegerField(_("heart rate (/min)"))
    spo2 = models.PositiveSmallIntegerField(_("SpO2 (%)"))
    respiratory_rate = models.PositiveSmallIntegerField(_("respiratory rate (/min)"))
    sedation_note = models.CharField(_("sedation / dissociation"), max_length=300, blank=True)
    # The protocol limits this reading crossed (codes from nurses/protocol.py), and what was done.
    alerts = models.JSONField(_("protocol warnings"), default=list, blank=True)
    action_taken = models.CharField(_("action taken"), max_length=16, choices=ActionTaken.choices, blank=True)
    action_note = models.CharField(_("action details"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    form_token = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("vitals reading")
        ordering = ["taken_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["chart", "form_token"], condition=~models.Q(form_token=""), name="vitals_once_per_form"
            ),
        ]

    def __str__(self):
        return f"{self.systolic}/{self.diastolic}, HR {self.heart_rate}, SpO2 {self.spo2}, RR {self.respiratory_rate}"


class DoseRecord(AppendOnly):
    """The dose given. A later record (e.g. adding the stop time) supersedes, never overwrites."""

    chart = models.ForeignKey(VisitChart, on_delete=models.PROTECT, related_name="doses")
    weight_entered = models.DecimalField(_("weight today (as entered)"), max_digits=5, decimal_places=1)
    weight_unit = models.CharField(_("unit"), max_length=2, choices=[("kg", "kg"), ("lb", "lb")])
    weight_kg = models.DecimalField(_("weight today (kg)"), max_digits=5, decimal_places=1)
    dose_mg_per_kg = models.DecimalField(_("plan (mg/kg)"), max_digits=4, decimal_places=2)
    dose_mg = models.DecimalField(_("dose (mg)"), max_digits=6, decimal_places=1)
    lot_number = models.CharField(_("lot number"), max_length=40)
    volume_ml = models.DecimalField(_("volume (mL)"), max_digits=6, decimal_places=1)
    started_at = models.DateTimeField(_("started at"))
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    # Given in less than the protocol's share of the plan's minutes (nurses/protocol.py): why.
    short_reason = models.TextField(_("why it was shorter than planned"), blank=True)
    # Today's weight differs from the last recorded one by more than the protocol allows: checked.
    weight_change_confirmed = models.BooleanField(_("weight change confirmed"), default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    form_token = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("dose record")
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["chart", "form_token"], condition=~models.Q(form_token=""), name="dose_once_per_form"
            ),
        ]

    def __str__(self):
        return f"{self.dose_mg} mg ({self.weight_kg} kg x {self.dose_mg_per_kg} mg/kg)"


class AdverseEventKind(models.TextChoices):
    NAUSEA = "nausea", _("Nausea")
    VOMITING = "vomiting", _("Vomiting")
    BLOOD_PRESSURE = "blood_pressure", _("Blood pressure rise")
    HEART_RATE = "heart_rate", _("Fast or irregular heart rate")
    BREATHING = "breathing", _("Breathing problem or low oxygen")
    OVERSEDATION = "oversedation", _("Too sedated / hard to rouse")
    EMERGENCE = "emergence", _("Distressing dissociation or agitation")
    ANXIETY = "anxiety", _("Anxiety or panic")
    DIZZINESS = "dizziness", _("Dizziness")
    HEADACHE = "headache", _("Headache")
    IV_SITE = "iv_site", _("IV site problem")
    ALLERGIC = "allergic", _("Allergic reaction")
    OTHER = "other", _("Other (describe)")


class AdverseEvent(AppendOnly):
    chart = models.ForeignKey(VisitChart, on_delete=models.PROTECT, related_name="adverse_events")
    kind = models.CharField(_("event"), max_length=20, choices=AdverseEventKind.choices)
    note = models.TextField(_("details"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("adverse event")
        ordering = ["recorded_at", "id"]

    def __str__(self):
        return self.get_kind_display()


class DischargeChecklist(AppendOnly):
    """Every item must be confirmed before the chart can be signed."""

    chart = models.ForeignKey(VisitChart, on_delete=models.PROTECT, related_name="discharges")
    baseline_mental_status = models.BooleanField(_("back to baseline mental status"))
    vitals_near_baseline = models.BooleanField(_("vitals back near baseline"))
    adult_present = models.BooleanField(_("the adult who stays is present"))
    instructions_given = models.BooleanField(_("instructions given (no driving until tomorrow, no alcohol for 24 h)"))
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    form_token = models.CharField(max_length=64, blank=True, editable=False)

    ITEMS = ("baseline_mental_status", "vitals_near_baseline", "adult_present", "instructions_given")

    class Meta:
        verbose_name = _("discharge checklist")
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["chart", "form_token"], condition=~models.Q(form_token=""), name="discharge_once_per_form"
            ),
        ]

    def __str__(self):
        return str(_("complete") if self.is_complete else _("incomplete"))

    @property
    def is_complete(self):
        return all(getattr(self, item) for item in self.ITEMS)


class OverrideKind(models.TextChoices):
    BASELINE_PRESSURE = "baseline_pressure", _("Start despite a baseline blood pressure at the hard stop")


class ProtocolOverride(AppendOnly):
    """A clinician's decision to go on despite a protocol stop (nurses/protocol.py): who, when, why.

    Recorded by the nurse from the clinician's call (a verbal order, read back), naming the
    clinician; the chart's history keeps it with the nurse who wrote it.
    """

    chart = models.ForeignKey(VisitChart, on_delete=models.PROTECT, related_name="overrides")
    kind = models.CharField(_("override"), max_length=24, choices=OverrideKind.choices)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("clinician")
    )
    reason = models.TextField(_("why"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    form_token = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("protocol override")
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["chart", "form_token"], condition=~models.Q(form_token=""), name="override_once_per_form"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.recorded_at:%Y-%m-%d %H:%M} UTC)"


class ChartSection(models.TextChoices):
    ARRIVAL = "arrival", _("Arrival and check-in")
    VITALS = "vitals", _("Vitals")
    DOSE = "dose", _("Dose")
    ADVERSE_EVENTS = "adverse_events", _("Adverse events")
    DISCHARGE = "discharge", _("Discharge")
    OTHER = "other", _("Other")


class ChartAmendment(AppendOnly):
    """A change to a signed chart: what is corrected or added, and why. The original stays."""

    chart = models.ForeignKey(VisitChart, on_delete=models.PROTECT, related_name="amendments")
    section = models.CharField(_("part of the chart"), max_length=20, choices=ChartSection.choices)
    text = models.TextField(_("correction or addition"))
    reason = models.TextField(_("reason"))
    amended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amended_at = models.DateTimeField(_("amended at"), default=timezone.now)
    form_token = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("chart amendment")
        ordering = ["amended_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["chart", "form_token"], condition=~models.Q(form_token=""), name="amendment_once_per_form"
            ),
        ]

    def __str__(self):
        return f"{self.get_section_display()} ({self.amended_at:%Y-%m-%d %H:%M} UTC)"


class ChartEventKind(models.TextChoices):
    ON_MY_WAY = "on_my_way", _("On my way")
    CHECK_IN = "check_in", _("Checked in")
    VITALS = "vitals", _("Vitals recorded")
    DOSE = "dose", _("Dose recorded")
    ADVERSE_EVENT = "adverse_event", _("Adverse event recorded")
    DISCHARGE = "discharge", _("Discharge checklist")
    STOPPED = "stopped", _("Visit stopped")
    NO_SHOW = "no_show", _("No-show")
    SIGNED = "signed", _("Signed")
    AMENDED = "amended", _("Amended")
    OVERRIDE = "override", _("Clinician override")


class ChartEvent(AppendOnly):
    """The chart's history: every change, with who and when."""

    chart = models.ForeignKey(VisitChart, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("what"), max_length=16, choices=ChartEventKind.choices)
    summary = models.CharField(_("details"), max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("chart history entry")
        verbose_name_plural = _("chart history")
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d %H:%M} UTC)"
