import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from localflavor.us.models import USZipCodeField

from concierge.db import choice_label
from concierge.geo import normalize_zip, zip_lookup
from concierge.states import USStateField
from roster.models import ProviderKind

# Stripe charges nothing under $0.50 (USD); a price or deposit under it could never be paid.
MIN_CHARGE_CENTS = 50
DAY_MINUTES = 24 * 60


def _minutes(label, default):
    return models.PositiveSmallIntegerField(
        label,
        default=default,
        validators=[
            MinValueValidator(1, message=_("Must be more than zero minutes.")),
            MaxValueValidator(DAY_MINUTES, message=_("Must be at most a day (1440 minutes).")),
        ],
    )


class ServiceKind(models.TextChoices):
    EVALUATION = "evaluation", _("Telehealth evaluation")
    INFUSION = "infusion", _("Home infusion")
    BOOSTER = "booster", _("Booster infusion")


class Service(models.Model):
    """Something a patient can book, its price, and who delivers it.

    A home visit blocks the provider for set-up + infusion minutes (from the patient's plan, else
    `default_infusion_minutes`) + observation. A telehealth evaluation blocks `duration_minutes`.
    """

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    # A service's name is data, so not in the catalogue: patients reading Spanish get this one.
    name_es = models.CharField(
        _("name in Spanish"), max_length=100, blank=True, help_text=_("What Spanish-speaking patients read.")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ServiceKind.choices)
    delivered_by = models.CharField(_("delivered by"), max_length=16, choices=ProviderKind.choices)
    is_telehealth = models.BooleanField(_("by video"), default=False)
    duration_minutes = _minutes(_("duration (telehealth)"), 45)
    setup_minutes = _minutes(_("set-up minutes"), 20)
    default_infusion_minutes = _minutes(_("infusion minutes if no plan"), 40)
    observation_minutes = _minutes(_("observation minutes"), 60)
    # Money is integer cents, USD, everywhere.
    price_cents = models.PositiveIntegerField(
        _("price (cents)"),
        validators=[MinValueValidator(MIN_CHARGE_CENTS, message=_("A price must be at least 50 cents ($0.50)."))],
    )
    deposit_cents = models.PositiveIntegerField(
        _("deposit (cents)"), default=0, help_text=_("0: no deposit, the full price is paid when booking.")
    )
    is_active = models.BooleanField(_("bookable"), default=True)

    class Meta:
        ordering = ["price_cents"]

    def __str__(self):
        return self.name

    @property
    def display_name(self) -> str:
        """The name a patient reads, in their language (the English one when it has no translation)."""
        if self.name_es and (translation.get_language() or "").split("-")[0] == "es":
            return self.name_es
        return self.name

    def clean(self):
        if self.price_cents is not None and self.deposit_cents is not None and self.deposit_cents > self.price_cents:
            raise ValidationError({"deposit_cents": _("The deposit cannot be more than the price.")})
        if self.deposit_cents and self.deposit_cents < MIN_CHARGE_CENTS:
            raise ValidationError(
                {"deposit_cents": _("A deposit must be at least 50 cents ($0.50), or 0 for no deposit.")}
            )

    def visit_minutes(self, infusion_minutes=None):
        """How long the provider is with the patient (travel not included)."""
        if self.is_telehealth:
            return self.duration_minutes
        return self.setup_minutes + (infusion_minutes or self.default_infusion_minutes) + self.observation_minutes


class ServiceArea(models.Model):
    """Where we go: a state with a list of ZIPs, or a radius around a nurse base ZIP."""

    name = models.CharField(_("name"), max_length=100)
    state = USStateField(_("state"))
    zip_codes = models.TextField(_("ZIP codes"), blank=True, help_text=_("Separated by spaces, commas or new lines."))
    base_zip = USZipCodeField(_("base ZIP"), blank=True)
    radius_miles = models.PositiveSmallIntegerField(
        _("radius (miles)"),
        null=True,
        blank=True,
        validators=[
            MinValueValidator(1, message=_("Must be more than zero miles.")),
            MaxValueValidator(500, message=_("Must be at most 500 miles.")),
        ],
    )
    services = models.ManyToManyField(Service, related_name="areas", verbose_name=_("services"))
    providers = models.ManyToManyField(
        "roster.Provider", related_name="areas", blank=True, verbose_name=_("providers serving it")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["state", "name"]

    def __str__(self):
        return f"{self.name} ({self.state})"

    def zip_list(self):
        return {z.strip().zfill(5) for z in self.zip_codes.replace(",", " ").split() if z.strip().isdigit()}

    def clean(self):
        errors = {}
        wrong = _zips_not_in(self.zip_codes.replace(",", " ").split(), self.state)
        if wrong:
            errors["zip_codes"] = wrong
        if self.base_zip:
            base = _zips_not_in([self.base_zip], self.state)
            if base:
                errors["base_zip"] = base
        if errors:
            raise ValidationError(errors)
        if not self.zip_list() and not (self.base_zip and self.radius_miles):
            raise ValidationError(_("Give a list of ZIP codes, or a base ZIP and a radius."))


def _zips_not_in(values, state):
    """What is wrong with a list of ZIPs for an area in `state`: one message, naming the culprits."""
    not_zips = [v for v in values if not (v.isdigit() and len(v) == 5)]
    if not_zips:
        return _("A ZIP code is 5 digits: %(bad)s.") % {"bad": ", ".join(not_zips[:10])}
    unknown = [v for v in values if zip_lookup(normalize_zip(v)) is None]
    if unknown:
        return _("Not a US ZIP code we know: %(bad)s.") % {"bad": ", ".join(unknown[:10])}
    elsewhere = [v for v in values if state and getattr(zip_lookup(v), "state", state) != state]
    if elsewhere:
        return _("Not in %(state)s: %(bad)s.") % {"state": state, "bad": ", ".join(elsewhere[:10])}
    return None


class WaitlistEntry(models.Model):
    """Someone whose ZIP we do not cover yet, who wants to hear when we do."""

    zip_code = USZipCodeField(_("ZIP code"))
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    # The language of the page they signed up on: the one we write to them in.
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    # When they were told we now come to their ZIP (automatically, once), or marked contacted by staff.
    contacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-created_at", "-id"]),
        ]
        ordering = ["-created_at"]
        verbose_name_plural = _("waitlist entries")

    def __str__(self):
        return f"{self.zip_code} ({self.created_at:%Y-%m-%d})"


class VisitStatus(models.TextChoices):
    HELD = "held", _("Held")
    CONFIRMED = "confirmed", _("Confirmed")
    EN_ROUTE = "en_route", _("Nurse on the way")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")
    EXPIRED = "expired", _("Hold expired")
    # A warning sign (booking/safety.py): nobody may start it until a clinician releases it.
    ON_HOLD = "on_hold", _("On hold — clinician review")


# A visit in one of these statuses occupies its provider's time (and its patient's).
#
# ON_HOLD is one of them: a visit on hold keeps its nurse's time. Most holds end within hours (a
# clinician calls the patient), and release then restores the visit as it was, at its time, with
# its nurse, without a new search that could fail; the nurse sees it (with a red banner) on the
# day it was planned. Staff who decide it will not happen cancel it, which frees the time.
BLOCKING_STATUSES = (
    VisitStatus.HELD,
    VisitStatus.CONFIRMED,
    VisitStatus.EN_ROUTE,
    VisitStatus.IN_PROGRESS,
    VisitStatus.ON_HOLD,
)
# The upcoming visits a warning sign puts on hold (booking/safety.py).
HOLDABLE_STATUSES = (VisitStatus.HELD, VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE)


def hold_lapsed(now: datetime) -> models.Q:
    """Visits whose hold ran out by `now`: dead from that moment, before the minute task marks them
    EXPIRED. Searches, calendars and plan counts leave them out (`.exclude(hold_lapsed(now))`);
    the expiry paths pick them (`.filter(hold_lapsed(now))`)."""
    return models.Q(status=VisitStatus.HELD, hold_expires_at__lte=now)


class CancelledBy(models.TextChoices):
    PATIENT = "patient", _("Patient")
    STAFF = "staff", _("Staff")
    CLINIC = "clinic", _("ConciergeMD (system)")


class BookingOrigin(models.TextChoices):
    """How a visit was booked: it decides how long its hold lasts (booking/policy.py)."""

    ONLINE = "online", _("Online, by the patient")
    PHONE = "phone", _("By phone, by staff for the patient")
    WAITLIST = "waitlist", _("Offered from the waitlist")


class Series(models.Model):
    """Infusions booked together for one treatment plan; held together or not at all."""

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="series")
    clearance = models.ForeignKey("patients.Clearance", on_delete=models.PROTECT, related_name="series")
    # The scheduler who booked the series for the patient on the phone (empty: the patient online).
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("booked by (staff, for the patient)"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = _("series")

    def __str__(self):
        return f"Series {self.pk}"


class Visit(models.Model):
    """One visit: who, what, where, when, and where it is in its life cycle.

    Times are UTC. `starts_at`/`ends_at` are the visit itself; `blocked_from`/`blocked_until` add
    the provider's travel before and after, and are what may not overlap for one provider
    (PostgreSQL exclusion constraint, see migrations). The address is copied at booking so a
    later change of the profile does not move a booked visit.
    """

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="visits")
    provider = models.ForeignKey(
        "roster.Provider", on_delete=models.PROTECT, related_name="visits", null=True, blank=True
    )
    clearance = models.ForeignKey(
        "patients.Clearance", on_delete=models.PROTECT, related_name="visits", null=True, blank=True
    )
    series = models.ForeignKey(Series, on_delete=models.PROTECT, related_name="visits", null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=VisitStatus.choices, default=VisitStatus.HELD)

    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    blocked_from = models.DateTimeField(_("provider blocked from"))
    blocked_until = models.DateTimeField(_("provider blocked until"))
    time_zone = models.CharField(_("time zone"), max_length=64)

    address_line1 = models.CharField(_("street address"), max_length=200, blank=True)
    address_line2 = models.CharField(_("apartment, suite, etc."), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = USStateField(_("state"))
    zip_code = USZipCodeField(_("ZIP code"))

    price_cents = models.PositiveIntegerField(_("price (cents)"), validators=[MinValueValidator(0)])
    amount_due_cents = models.PositiveIntegerField(_("due at booking (cents)"), validators=[MinValueValidator(0)])
    hold_expires_at = models.DateTimeField(_("hold expires at"), null=True, blank=True)
    origin = models.CharField(_("booked"), max_length=16, choices=BookingOrigin.choices, default=BookingOrigin.ONLINE)
    # The scheduler who booked the visit for the patient on the phone; empty when the patient
    # booked it themselves. Later changes made for the patient are in the audit trail (who, when).
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("booked by (staff, for the patient)"),
    )

    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=16, choices=CancelledBy.choices, blank=True)
    cancelled_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    cancellation_reason = models.TextField(blank=True)

    # Telehealth evaluations (issue 10): the video room, made from TELEHEALTH_URL_TEMPLATE when
    # the visit is confirmed or pasted by staff. Shown only through the join button, which the
    # server opens shortly before the start (booking/telehealth.py).
    video_url = models.URLField(_("video link"), max_length=500, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["provider", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
            models.Index(fields=["status", "hold_expires_at"]),
            # Lists of every visit in time order (admin, with its tie-break on the id), and a day's
            # visits: the first page is read from the index, not from a sort of every visit ever.
            models.Index(fields=["starts_at", "-id"]),
            # The admin list's state filter: the states in use, read from this index (concierge.admin.values_in_use).
            models.Index(fields=["state"]),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="appt_ends_after_start"),
            models.CheckConstraint(
                condition=models.Q(blocked_from__lte=models.F("starts_at"), blocked_until__gte=models.F("ends_at")),
                name="appt_block_covers_visit",
            ),
        ]

    def __str__(self):
        # In the visit's own zone, as every page shows it (an admin title in UTC read as another time).
        try:
            starts = self.starts_at.astimezone(ZoneInfo(self.time_zone))
        except (ValueError, ZoneInfoNotFoundError):
            starts = self.starts_at.astimezone(UTC)
        return f"{self.service} {starts:%Y-%m-%d %H:%M %Z} ({choice_label(VisitStatus, self.status)})"

    @property
    def is_blocking(self):
        return self.status in BLOCKING_STATUSES


def _feed_token():
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A patient's calendar subscription: every visit of theirs, at an unguessable address.

    Calendar apps fetch it without logging in, so the address is the secret; the patient can
    replace it (the old address then finds nothing). Titles say "Home visit", never why.
    """

    patient = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=_feed_token)
    created_at = models.DateTimeField(auto_now_add=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Calendar feed of user {self.patient_id}"


class HoldOutcome(models.TextChoices):
    OPEN = "open", _("On hold")
    RELEASED = "released", _("Released by a clinician")
    CANCELLED = "cancelled", _("Visit cancelled")


class SafetyHold(models.Model):
    """One hold of one visit: why (the reasons' codes, booking/safety.py), and how it ended.

    A visit has at most one open hold. A warning sign that arrives while it is open adds its
    reasons to it. Only a clinician releases a hold (with a note); or staff cancel the visit
    (refunded in full). Rows are changed only by booking's services and are audited.
    """

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="safety_holds", verbose_name=_("visit"))
    # The status the visit had, to restore on release (a hold not paid yet, a confirmed visit).
    previous_status = models.CharField(_("status before the hold"), max_length=16, choices=VisitStatus.choices)
    reasons = models.JSONField(_("reasons (codes)"), default=list)
    # What the clinical team reads (nurses, clinicians); never shown to schedulers or patients.
    staff_words = models.TextField(_("why (for the clinical team)"), blank=True)
    # A danger sign (e.g. PHQ-9 item 9): the patient's pages show 988 and 911.
    safety = models.BooleanField(_("danger sign"), default=False)
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=16, choices=HoldOutcome.choices, default=HoldOutcome.OPEN)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released or cancelled by"),
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("safety hold")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit"], condition=models.Q(outcome="open"), name="safety_hold_one_open_per_visit"
            ),
        ]

    def __str__(self):
        return f"Hold {self.pk} (visit {self.visit_id}, {self.outcome})"

    @property
    def is_open(self):
        return self.outcome == HoldOutcome.OPEN

    def clean(self):
        if self.outcome != HoldOutcome.OPEN and (self.ended_at is None or not (self.note or "").strip()):
            raise ValidationError({"note": _("Say why the hold ends, for the patient's record.")})


# --- the waitlist for freed times (issue 19) ---------------------------------------------------------


class PartOfDay(models.TextChoices):
    """When in the visit's own day a start time falls (its local hour)."""

    MORNING = "morning", _("Mornings (before noon)")
    AFTERNOON = "afternoon", _("Afternoons (noon to 5 PM)")
    EVENING = "evening", _("Evenings (from 5 PM)")

    @classmethod
    def of_hour(cls, hour: int) -> str:
        if hour < 12:
            return cls.MORNING
        return cls.AFTERNOON if hour < 17 else cls.EVENING


class TimeWaitlistStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for a time")
    BOOKED = "booked", _("Took an offered time")
    LEFT = "left", _("Left the waitlist")
    ENDED = "ended", _("Ended (the dates passed, or offers went unanswered)")


class TimeWaitlistEntry(models.Model):
    """A patient who found no time that suits them, and the times they would take.

    When a time that fits frees up, it is offered to the waiting patients it fits in the order
    they joined (`created_at`), one at a time, each offer holding it for them for a while
    (booking/services/offers.py). One waiting entry per patient and service.
    """

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_waitlist")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("visit"))
    # Days of the week as digits, Monday = 0 ("024": Mondays, Wednesdays and Fridays).
    weekdays = models.CharField(_("days of the week"), max_length=7)
    # PartOfDay values, separated by commas.
    parts_of_day = models.CharField(_("parts of the day"), max_length=40)
    first_day = models.DateField(_("from"))
    last_day = models.DateField(_("until"))
    status = models.CharField(
        _("status"), max_length=16, choices=TimeWaitlistStatus.choices, default=TimeWaitlistStatus.WAITING
    )
    lapsed_offers = models.PositiveSmallIntegerField(_("offers left unanswered"), default=0)
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        indexes = [
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["created_at", "id"]),
        ]
        ordering = ["created_at", "pk"]
        verbose_name = _("waitlist place (freed times)")
        verbose_name_plural = _("waitlist for freed times")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "service"],
                condition=models.Q(status="waiting"),
                name="one_waiting_entry_per_service",
            ),
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")), name="waitlist_days_in_order"
            ),
        ]

    def __str__(self):
        return f"{self.service} from {self.first_day:%Y-%m-%d} ({choice_label(TimeWaitlistStatus, self.status)})"

    def clean(self):
        errors = {}
        if not self.weekdays or any(ch not in "0123456" for ch in self.weekdays):
            errors["weekdays"] = _("Choose at least one day of the week.")
        parts = [p for p in self.parts_of_day.split(",") if p]
        if not parts or any(p not in PartOfDay.values for p in parts):
            errors["parts_of_day"] = _("Choose at least one part of the day.")
        if self.first_day and self.last_day and self.last_day < self.first_day:
            errors["last_day"] = _("The end must be on or after the start.")
        if errors:
            raise ValidationError(errors)

    @property
    def weekday_numbers(self) -> set[int]:
        return {int(ch) for ch in self.weekdays}

    @property
    def parts(self) -> set[str]:
        return {p for p in self.parts_of_day.split(",") if p}

    def fits(self, local_start) -> bool:
        """Whether a start time (in the visit's own zone) is one the patient would take."""
        return (
            self.first_day <= local_start.date() <= self.last_day
            and local_start.weekday() in self.weekday_numbers
            and PartOfDay.of_hour(local_start.hour) in self.parts
        )


class TimeOfferStatus(models.TextChoices):
    OPEN = "open", _("Offered, waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    LAPSED = "lapsed", _("Lapsed (no answer in time)")
    WITHDRAWN = "withdrawn", _("Withdrawn (the time went, or the patient left)")


class TimeOffer(models.Model):
    """A freed time offered to one waiting patient, held for them (a HELD visit, origin waitlist)
    until `expires_at`. Answered once; a lapsed offer passes the time to the next patient."""

    entry = models.ForeignKey(TimeWaitlistEntry, on_delete=models.PROTECT, related_name="offers")
    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="waitlist_offer")
    starts_at = models.DateTimeField(_("starts at"))
    status = models.CharField(_("status"), max_length=16, choices=TimeOfferStatus.choices, default=TimeOfferStatus.OPEN)
    expires_at = models.DateTimeField(_("held until"))
    created_at = models.DateTimeField(_("offered at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        indexes = [
            # The admin list's order: its first page read from this index (staff/tests/test_changelists.py).
            models.Index(fields=["-created_at", "-id"]),
        ]
        ordering = ["-created_at", "-pk"]
        verbose_name = _("waitlist offer")
        constraints = [
            # One offer waiting for an answer per waitlist place: two sweeps never offer it twice.
            models.UniqueConstraint(
                fields=["entry"], condition=models.Q(status="open"), name="one_open_offer_per_entry"
            ),
        ]

    def __str__(self):
        return f"Offer {self.pk} ({choice_label(TimeOfferStatus, self.status)})"
