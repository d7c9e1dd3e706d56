"""Reads about patients that other apps rely on (booking asks these before it holds a time)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from concierge.db import kept_row_by
from concierge.models import User

from .models import (
    Clearance,
    ClearanceDecision,
    ConsentDocument,
    ConsentSignature,
    ConsentText,
    Instrument,
    IntakeResponse,
    IntakeStatus,
    PatientProfile,
    SafetyAlert,
    ScreeningResponse,
    TriageOutcome,
    TriageResult,
)
from .triage import patient_message
from .triage_rules import CLINICIAN_REVIEW, NOT_ELIGIBLE, RULES

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

REVIEW_RULE_IDS = {rule.id for rule in RULES if rule.outcome in (CLINICIAN_REVIEW, NOT_ELIGIBLE)}


def profile_get(*, patient: User) -> PatientProfile | None:
    """The patient's profile. Read on every patient page (patient_required), through a statement
    compiled once per process (`concierge.db.kept_row_by`)."""
    return kept_row_by(PatientProfile, "user", patient.pk)


def profile_list_by_phone(*, phone_number: str) -> QuerySet[PatientProfile]:
    """The profiles with this mobile number (E.164): usually one, sometimes a shared phone."""
    return PatientProfile.objects.filter(mobile_phone=phone_number).select_related("user")


def clearance_active_for(*, patient: User, on_date: date | None = None) -> Clearance | None:
    """The clearance that allows infusions on `on_date` (today by default), or None."""
    on_date = on_date or timezone.localdate()
    latest = (
        Clearance.objects.filter(patient=patient)
        .exclude(decision=ClearanceDecision.MORE_INFO)
        .order_by("-decided_at", "-id")
        .first()
    )
    if latest is not None and latest.is_active_on(on_date):
        return latest
    return None


class PatientRecord:
    """The rows of one patient that several selectors read on one page, each read once: the
    profile, the intake versions (the latest sent one and the draft), the clinicians' decisions,
    the questionnaire answers.

    Make one per page (request) and hand it to the selectors that take `record=`; never keep
    one across a write, it does not see it.
    """

    def __init__(self, patient: User, *, profile: PatientProfile | None = None) -> None:
        self.patient = patient
        if profile is not None:  # already read (the patient pages' decorator reads it)
            self.__dict__["profile"] = profile

    @cached_property
    def profile(self) -> PatientProfile | None:
        return profile_get(patient=self.patient)

    @cached_property
    def intakes(self) -> list[IntakeResponse]:
        """Every intake version with its triage (sent ones newest first; a draft has no number yet)."""
        return list(IntakeResponse.objects.filter(patient=self.patient).select_related("triage").order_by("-version"))

    @property
    def latest_intake(self) -> IntakeResponse | None:
        """As `intake_latest_sent`, from the versions already read."""
        return next((i for i in self.intakes if i.status == IntakeStatus.SUBMITTED), None)

    @property
    def intake_draft(self) -> IntakeResponse | None:
        """As `intake_draft_get`, from the versions already read."""
        return next((i for i in self.intakes if i.status == IntakeStatus.DRAFT), None)

    @cached_property
    def screenings(self) -> list[ScreeningResponse]:
        """As `screening_list_for_patient`: every questionnaire answer, the oldest first."""
        return list(screening_list_for_patient(patient=self.patient))

    @cached_property
    def decisions(self) -> list[Clearance]:
        """Every decision about this patient, latest first (a handful of rows)."""
        return list(Clearance.objects.filter(patient=self.patient).order_by("-decided_at", "-id"))

    def clearance_active(self, on_date: date | None = None) -> Clearance | None:
        """As `clearance_active_for`, from the decisions already read."""
        latest = next((c for c in self.decisions if c.decision != ClearanceDecision.MORE_INFO), None)
        if latest is not None and latest.is_active_on(on_date or timezone.localdate()):
            return latest
        return None


def clearance_latest_for(*, patient: User) -> Clearance | None:
    """The patient's latest decision about infusions (cleared or declined, revoked or not), or None.

    "More information needed" is not a decision about infusions: an earlier one stands.
    """
    return (
        Clearance.objects.filter(patient=patient)
        .exclude(decision=ClearanceDecision.MORE_INFO)
        .order_by("-decided_at", "-id")
        .first()
    )


def safety_alerts_open_for(*, patient: User) -> QuerySet[SafetyAlert]:
    """The patient's safety alerts no clinician has resolved yet, oldest first."""
    return SafetyAlert.objects.filter(patient=patient, resolved_at__isnull=True).order_by("created_at", "pk")


def intake_latest_sent(*, patient: User) -> IntakeResponse | None:
    """The patient's latest sent intake version with its triage result, or None."""
    return (
        IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.SUBMITTED)
        .select_related("triage")
        .order_by("-version")
        .first()
    )


def intake_draft_get(*, patient: User) -> IntakeResponse | None:
    return IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.DRAFT).first()


def intake_list_for_patient(*, patient: User) -> QuerySet[IntakeResponse]:
    return (
        IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.SUBMITTED)
        .select_related("triage")
        .order_by("-version")
    )


def intake_get_for_patient(*, patient: User, pk: int) -> IntakeResponse | None:
    """One of this patient's sent intake versions, or None (someone else's id finds nothing)."""
    return intake_list_for_patient(patient=patient).filter(pk=pk).first()


def screening_get_for_patient(*, patient: User, pk: int) -> ScreeningResponse | None:
    return ScreeningResponse.objects.filter(patient=patient, pk=pk).first()


def screening_list_for_patient(*, patient: User) -> QuerySet[ScreeningResponse]:
    return ScreeningResponse.objects.filter(patient=patient).order_by("submitted_at", "id")


def triage_of(intake: IntakeResponse) -> TriageResult | None:
    try:
        return intake.triage
    except TriageResult.DoesNotExist:
        return None


def _raises_something_new(latest_intake: IntakeResponse | None, clearance: Clearance) -> bool:
    """True when the intake sent after this clearance fires a review rule the reviewed one did not."""
    if latest_intake is None or clearance.intake_id is None or latest_intake.pk == clearance.intake_id:
        return False
    latest_triage = triage_of(latest_intake)
    if latest_triage is None:
        return False
    reviewed = TriageResult.objects.filter(intake_id=clearance.intake_id).values_list("fired_rules", flat=True).first()
    new_rules = set(latest_triage.fired_rules) - set(reviewed or [])
    return bool(new_rules & REVIEW_RULE_IDS)


def intake_raises_something_new(*, patient: User, clearance: Clearance) -> bool:
    """True when the patient's latest sent intake fires a review rule the intake this clearance
    was decided on did not (a new answer the clinician has not seen)."""
    return _raises_something_new(intake_latest_sent(patient=patient), clearance)


@dataclass(frozen=True)
class Eligibility:
    can_book_evaluation: bool
    can_book_infusion: bool
    reason: "str | StrPromise" = ""  # for the patient, when they cannot book
    # Where the patient does what the reason asks (e.g. sign the consent), when there is a page for it.
    link: str = ""
    link_text: "str | StrPromise" = ""


# --- informed consent (issue 15) -----------------------------------------------------------------------


def _published_latest_first() -> QuerySet[ConsentDocument]:
    return ConsentDocument.objects.filter(published_at__isnull=False).order_by("-published_at", "-id")


def consent_current() -> ConsentDocument | None:
    """The consent version patients sign now: the one published last."""
    return _published_latest_first().first()


def consent_text_for(*, document: ConsentDocument, language: str | None = None) -> ConsentText | None:
    """The text of this version a reader of `language` reads (by default the active language:
    the patient's own, `User.language`, once logged in).

    The one choice of a consent text for a person, wherever one is shown: the consent page, the
    public text, the download of what they signed (`language` = the signature's) and the
    signature itself (it records `text.language`). The text in that language, else the English
    one (a version published before every language was required), else None (a draft without
    texts). The page says so when `text.language` is not the reader's language.
    """
    texts = {text.language: text for text in document.texts.all()}
    return texts.get(reader_language(language)) or texts.get(settings.LANGUAGE_CODE)


def reader_language(language: str | None = None) -> str:
    """`language`, or the active one, as a code of settings.LANGUAGES ("es-mx" reads "es")."""
    return (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]


def consent_signed_text(field: str) -> Subquery:
    """For a query of ConsentSignature rows: `field` ("title" or "body") of the text each one
    signed, its version's text in the language it records (as `consent_text_for` chose it when it
    was signed). For the patient's data download, in its one query."""
    texts = ConsentText.objects.filter(document=OuterRef("document"), language=OuterRef("language"))
    return Subquery(texts.values(field)[:1])


def consent_signature_for(*, patient: User, document: ConsentDocument | None = None) -> ConsentSignature | None:
    """The patient's signature of `document` (the current version by default), or None."""
    document = document or consent_current()
    if document is None:
        return None
    return ConsentSignature.objects.filter(patient=patient, document=document).select_related("document").first()


def consent_signature_latest(*, patient: User) -> ConsentSignature | None:
    """The last version this patient signed (what they download), or None."""
    return ConsentSignature.objects.filter(patient=patient).select_related("document").order_by("-signed_at").first()


def consent_signed_current(*, patient: User) -> bool:
    """Whether the patient signed the version patients sign now (`consent_current`), in one query."""
    current = Subquery(_published_latest_first().values("pk")[:1])
    return ConsentSignature.objects.filter(patient=patient, document=current).exists()


def booking_eligibility_for(*, patient: User, record: PatientRecord | None = None) -> Eligibility:
    """What this patient may book now, and if nothing, why (in words for the patient).

    An evaluation needs a complete profile and a sent intake whose triage is not a hard stop.
    An infusion also needs an active clearance, no open safety review, no answer changed since
    the clearance that raises something the clinician has not seen, and the current informed
    consent signed (with a link to sign it). `record`: the patient's rows already read for this
    page.
    """
    record = record or PatientRecord(patient)
    profile = record.profile
    if profile is None or not profile.is_complete:
        return Eligibility(False, False, _("Please finish your profile first."))
    latest = record.latest_intake
    if latest is None:
        return Eligibility(False, False, _("Please answer the health questions first."))
    triage = triage_of(latest)
    if triage is not None and triage.outcome == TriageOutcome.NOT_ELIGIBLE:
        return Eligibility(False, False, patient_message(triage.outcome, triage.fired_rules))
    if profile.safety_review_required:
        return Eligibility(
            True, False, _("A clinician needs to speak with you before an infusion can be booked. We will call you.")
        )
    clearance = record.clearance_active()
    if clearance is None:
        return Eligibility(True, False, _("Infusions can be booked once a clinician has cleared you."))
    if _raises_something_new(latest, clearance):
        return Eligibility(
            True,
            False,
            _("You updated your health answers. A clinician will look at them before your next infusion is booked."),
        )
    # Informed consent (issue 15): the current version, signed, before any infusion is booked. A
    # new version asks again at the next booking.
    if not consent_signed_current(patient=patient):
        signed_before = ConsentSignature.objects.filter(patient=patient).exists()
        return Eligibility(
            True,
            False,
            _("We have updated our consent form. Please read and sign it before your next infusion is booked.")
            if signed_before
            else _("Please read and sign the consent form before your first infusion is booked."),
            link=reverse("patients:consent"),
            link_text=_("Read and sign the consent form"),
        )
    return Eligibility(True, True)


# The questionnaires a clearance needs, sent within CLEARANCE_QUESTIONNAIRES_WITHIN_DAYS (issue 15).
CLEARANCE_INSTRUMENTS = (Instrument.PHQ9, Instrument.GAD7, Instrument.PCL5)


def clearance_questionnaires_missing(*, patient: User, now: datetime | None = None) -> list[str]:
    """The questionnaires (display names) this patient has not sent within the clearance window.

    A clinician clears a patient only on recent symptoms: PHQ-9, GAD-7 and PCL-5, each sent within
    settings.CLEARANCE_QUESTIONNAIRES_WITHIN_DAYS (30) of the decision.
    """
    now = now or timezone.now()
    since = now - timedelta(days=settings.CLEARANCE_QUESTIONNAIRES_WITHIN_DAYS)
    sent = set(
        ScreeningResponse.objects.filter(patient=patient, submitted_at__gte=since, submitted_at__lte=now)
        .values_list("instrument", flat=True)
        .distinct()
    )
    return [str(instrument.label) for instrument in CLEARANCE_INSTRUMENTS if instrument not in sent]


def cancellation_alert_open(*, visit_id: int) -> bool:
    """True while the safety alert raised by a patient's reason for cancelling this visit is open."""
    return SafetyAlert.objects.filter(cancelled_visit_id=visit_id, resolved_at__isnull=True).exists()


def intake_alert_open(*, intake_id: int) -> bool:
    """True while the safety alert raised by the words written in this version of the health
    questions is open."""
    return SafetyAlert.objects.filter(intake_id=intake_id, resolved_at__isnull=True).exists()
