"""Use cases that change patients' records: sign-up, profile, intake, questionnaires, safety and clearance.

Each one is a transaction of its own; emails are outbox rows written in it, sent once it has committed.
Logs name rows by id only: no answers, scores, names or diagnoses.
"""

import hashlib
import logging
import secrets
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from concierge.errors import InvalidState, NotAllowed
from concierge.models import Role, User
from concierge.services import user_create
from notifications.facts import VisitFacts
from notifications.models import Channel
from notifications.services import message_enqueue, staff_alert_email
from roster.licensure import licence_valid_in
from roster.models import Licence

from . import instruments, intake
from .models import (
    Clearance,
    ClearanceDecision,
    IntakeResponse,
    IntakeStatus,
    PatientProfile,
    SafetyAlert,
    SafetyReason,
    ScreeningResponse,
    SignUpRequest,
    TriageResult,
    WeightUnit,
    birth_date_problem,
)
from .triage import triage_evaluate
from .triage_rules import RULES_VERSION

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


logger = logging.getLogger(__name__)

KG_PER_LB = Decimal("0.45359237")


class IntakeIncomplete(InvalidState):
    default_message = _("Some questions still need an answer.")
    code = "intake_incomplete"


def weight_to_kg(value: Decimal | str | int | float, unit: str) -> Decimal:
    """A weight typed in lb or kg, in kg to one decimal place."""
    value = Decimal(value)
    kg = value * KG_PER_LB if unit == WeightUnit.POUNDS else value
    return kg.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def weight_for_display(weight_kg: Decimal | None, unit: str) -> Decimal | None:
    """The stored kg in the patient's unit: whole pounds, or kg to one place."""
    if weight_kg is None:
        return None
    if unit == WeightUnit.POUNDS:
        return (Decimal(weight_kg) / KG_PER_LB).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    return Decimal(weight_kg).quantize(Decimal("0.1"))


def _profile_locked(patient: User) -> PatientProfile:
    """The patient's profile row, locked for this transaction (made if missing)."""
    profile = PatientProfile.objects.select_for_update().filter(user=patient).first()
    if profile is None:
        profile = PatientProfile.objects.create(user=patient)
    return profile


# --- sign-up and profile ------------------------------------------------------------------------


@transaction.atomic
def patient_sign_up(
    *, email: str, password: str, date_of_birth: date, accepts_terms: bool, sms_opt_in: bool, language: str = ""
) -> None:
    """Someone asks for a patient account. Whatever the address, the same answer: an email.

    A new address gets a link to confirm it (a SignUpRequest row: no account until the link is
    used, with the same password). An address that already has an account gets an email saying
    someone tried to sign up with it, and a password-reset link (or, for a closed account, the
    clinic's phone number). Nothing here tells the person at the keyboard which it was: the same
    page, the same work (the password is hashed either way), one outbox row, and no email sent
    within the request.

    `language` (the form guesses it from the browser) is kept with the request: the email is
    written in it, and the account gets it.
    """
    if not accepts_terms:
        raise ValidationError({"accept_terms": _("Please agree to the terms and privacy notice to continue.")})
    email = User.objects.normalize_email(email).strip()
    # Hashing is most of the time this request takes: it happens for both kinds of address.
    password_hash = make_password(password)
    problem = birth_date_problem(date_of_birth)
    if problem:
        raise ValidationError({"date_of_birth": problem})
    # The same writes for both kinds of address (a request row, one outbox row), so that the time
    # the answer takes does not tell them apart either. A known address's row is never confirmable
    # (its link is sent to nobody, and confirming refuses an address with an account); it is
    # purged with the others.
    token = secrets.token_urlsafe(32)
    request = SignUpRequest(
        email=email,
        password=password_hash,
        date_of_birth=date_of_birth,
        sms_opt_in=bool(sms_opt_in),
        token_hash=_token_hash(token),
        language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
    )
    request.full_clean()
    request.save()
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        _sign_up_attempt_notice(existing)
        return
    message_enqueue(
        channel=Channel.EMAIL,
        to_address=email,
        template="signup_confirm",
        context={
            "confirm_url": settings.SITE_URL + reverse("patients:signup_confirm", kwargs={"token": token}),
            "hours": settings.SIGNUP_LINK_HOURS,
            # Nobody is logged in behind this address yet: the email is written in this language.
            "language": request.language,
        },
        unique_key=f"signup-confirm:{request.pk}",
    )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _sign_up_attempt_notice(user: User) -> None:
    """Someone tried to sign up with the address of this account: tell its owner, with a way in."""
    context: dict[str, Any] = {"login_url": settings.SITE_URL + reverse("login"), "closed": not user.is_active}
    if user.is_active:
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        context["reset_url"] = settings.SITE_URL + reverse(
            "password_reset_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)}
        )
    message_enqueue(
        channel=Channel.EMAIL,
        # By address: a closed account's owner hears too (its row would otherwise be held back).
        to_address=user.email,
        template="signup_exists",
        context=context,
        unique_key=f"signup-exists:{user.pk}:{uuid.uuid4().hex}",
    )


def sign_up_request_for(token: str, now: datetime | None = None) -> SignUpRequest | None:
    """The sign-up behind a confirmation link, if the link is still good."""
    now = now or timezone.now()
    return SignUpRequest.objects.filter(
        token_hash=_token_hash(token or ""),
        created_at__gt=now - timedelta(hours=settings.SIGNUP_LINK_HOURS),
    ).first()


@transaction.atomic
def patient_sign_up_confirm(*, token: str, password: str) -> User:
    """The link from the sign-up email, and the password chosen then: the account and its profile.

    The link proves the address; the password proves it is the same person who signed up (a
    stranger who signed up with this address first cannot be confirmed by its owner). Every
    other pending sign-up for the address is dropped.
    """
    request = sign_up_request_for(token)
    if request is None:
        raise InvalidState(_("This link is no longer valid. Please sign up again to get a new one."))
    request = SignUpRequest.objects.select_for_update().get(pk=request.pk)
    if not check_password(password, request.password):
        raise ValidationError(
            {
                "password": _(
                    "That is not the password chosen when signing up with this link. If you signed up more "
                    "than once, use the link from the latest email."
                )
            }
        )
    if User.objects.filter(email__iexact=request.email).exists():
        SignUpRequest.objects.filter(email__iexact=request.email).delete()
        raise InvalidState(_("This email address already has an account. Please log in."))
    try:
        with transaction.atomic():
            user = user_create(email=request.email, password=None, role=Role.PATIENT, language=request.language)
    except (IntegrityError, ValidationError):  # confirmed a moment ago through another link
        raise InvalidState(_("This email address already has an account. Please log in.")) from None
    user.password = request.password
    user.save(update_fields=["password"])
    profile = PatientProfile(
        user=user,
        date_of_birth=request.date_of_birth,
        terms_accepted_at=request.created_at,
        sms_opt_in=request.sms_opt_in,
        sms_opt_in_changed_at=request.created_at,
    )
    profile.full_clean()
    profile.save()
    SignUpRequest.objects.filter(email__iexact=request.email).delete()
    logger.info("patient %s signed up", user.pk)
    return user


def signup_requests_purge(*, now: datetime | None = None) -> int:
    """Delete sign-ups whose link ran out: a birth date and a password hash kept for nobody."""
    now = now or timezone.now()
    deleted, _counts = SignUpRequest.objects.filter(
        created_at__lte=now - timedelta(hours=settings.SIGNUP_LINK_HOURS)
    ).delete()
    return deleted


PROFILE_FIELDS = (
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "mobile_phone",
    "sms_opt_in",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip_code",
    "weight_kg",
    "weight_unit",
    "emergency_contact_name",
    "emergency_contact_phone",
    "emergency_contact_relationship",
    "support_person_name",
    "support_person_phone",
)


@transaction.atomic
def profile_update(*, patient: User, **fields: Any) -> PatientProfile:
    """Change the patient's own details. The ZIP must be in the state; the visit time zone follows it.

    `language` (pages and messages) belongs to the login, not the clinical profile.
    """
    language = fields.pop("language", None)
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"profile_update() got unexpected fields: {sorted(unknown)}")
    profile = _profile_locked(patient)
    if "sms_opt_in" in fields and bool(fields["sms_opt_in"]) != profile.sms_opt_in:
        profile.sms_opt_in_changed_at = timezone.now()
    for name, value in fields.items():
        setattr(profile, name, value if value is not None or name in ("date_of_birth", "weight_kg") else "")
    profile.full_clean()
    profile.save()
    # The login's own name follows the profile: it greets the patient and names them in admin.
    patient.first_name = profile.display_name[:150]
    patient.last_name = profile.legal_last_name[:150]
    update = ["first_name", "last_name"]
    if language is not None:
        patient.language = language
        patient.full_clean(exclude=["password"])
        update.append("language")
    patient.save(update_fields=update)
    return profile


def sms_consent_apply(
    sender: object = None, *, phone_number: str, opted_in: bool, at: datetime, **kwargs: object
) -> None:
    """A number said STOP or START (notifications.signals.sms_consent_changed): the text consent of
    every profile with that mobile number follows, with the time it changed.

    Runs inside the sender's transaction: an error here rolls the STOP/START back.
    """
    PatientProfile.objects.filter(mobile_phone=phone_number, sms_opt_in=not opted_in).update(
        sms_opt_in=opted_in, sms_opt_in_changed_at=at, updated_at=at
    )


# --- medical intake -----------------------------------------------------------------------------


def _latest_sent(patient: User) -> IntakeResponse | None:
    return IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.SUBMITTED).order_by("-version").first()


@transaction.atomic
def intake_draft_start(*, patient: User) -> IntakeResponse:
    """The patient's draft, made if needed; a new draft starts from their last sent answers."""
    _profile_locked(patient)  # one intake change at a time per patient
    draft = IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.DRAFT).first()
    if draft is not None:
        return draft
    latest = _latest_sent(patient)
    draft = IntakeResponse(
        patient=patient,
        questionnaire_version=intake.INTAKE_VERSION,
        answers=dict(latest.answers) if latest else {},
    )
    draft.full_clean()
    draft.save()
    return draft


@transaction.atomic
def intake_draft_save(*, patient: User, answers: dict[str, Any]) -> IntakeResponse:
    """Keep these answers in the draft (save and come back later). Sent versions are never touched."""
    draft = intake_draft_start(patient=patient)
    draft = IntakeResponse.objects.select_for_update().get(pk=draft.pk)
    merged = {**draft.answers, **answers}
    # Empty answers are dropped; answers to questions that turn out not to apply are kept until
    # sending (the patient may still change the answer they depend on).
    draft.answers = {k: v for k, v in merged.items() if k in intake.QUESTIONS and v not in (None, "", [])}
    draft.questionnaire_version = intake.INTAKE_VERSION
    draft.full_clean()
    draft.save()
    return draft


@transaction.atomic
def intake_draft_discard(*, patient: User) -> None:
    IntakeResponse.objects.filter(patient=patient, status=IntakeStatus.DRAFT).delete()


@transaction.atomic
def intake_submit(*, patient: User) -> IntakeResponse:
    """Send the draft: it becomes the next version, is triaged, and never changes again.

    Sending twice (a double click, two tabs) sends once: the second call finds no draft and
    returns the version already sent. A draft identical to the last version is dropped.
    """
    _profile_locked(patient)
    draft = IntakeResponse.objects.select_for_update().filter(patient=patient, status=IntakeStatus.DRAFT).first()
    latest = _latest_sent(patient)
    if draft is None:
        if latest is None:
            raise IntakeIncomplete(_("Please answer the health questions first."))
        return latest
    answers = intake.clean_answers(draft.answers)
    incomplete = intake.first_incomplete_section(answers)
    if incomplete is not None:
        raise IntakeIncomplete(extra={"section": incomplete.slug})
    if latest is not None and latest.answers == answers and latest.questionnaire_version == intake.INTAKE_VERSION:
        draft.delete()
        return latest

    draft.answers = answers
    draft.status = IntakeStatus.SUBMITTED
    draft.version = (IntakeResponse.objects.filter(patient=patient).aggregate(v=Max("version"))["v"] or 0) + 1
    draft.submitted_at = timezone.now()
    draft.questionnaire_version = intake.INTAKE_VERSION
    draft.full_clean()
    draft.save()

    evaluation = triage_evaluate(answers, today=timezone.localdate())
    TriageResult.objects.create(
        intake=draft, outcome=evaluation.outcome, fired_rules=evaluation.rule_ids, rules_version=RULES_VERSION
    )
    logger.info("intake %s sent as version %s", draft.pk, draft.version)
    return draft


# --- symptom questionnaires and the safety path -------------------------------------------------


@transaction.atomic
def screening_submit(
    *,
    patient: User,
    instrument: str,
    item_answers: Iterable[int],
    form_token: str,
    difficulty: int | None = None,
    started_at: datetime | None = None,
) -> ScreeningResponse:
    """Score and keep one questionnaire. A PHQ-9 item 9 above 0 raises a safety alert at once.

    `form_token` identifies the form the patient filled in: sending it again returns the first
    response and raises nothing new.
    """
    existing = ScreeningResponse.objects.filter(patient=patient, form_token=form_token).first()
    if existing is not None:
        return existing
    definition = instruments.INSTRUMENTS[instrument]
    result = instruments.score(instrument, list(item_answers))
    now = timezone.now()
    if started_at is not None and (started_at > now or now - started_at > timedelta(hours=12)):
        started_at = None  # a clock that makes no sense is not a measurement
    response = ScreeningResponse(
        patient=patient,
        instrument=instrument,
        item_answers=list(item_answers),
        difficulty=difficulty if definition.difficulty_question else None,
        total=result.total,
        band=result.band.key,
        provisional_positive=result.provisional_positive,
        subscores=result.subscores or {},
        started_at=started_at,
        submitted_at=now,
        seconds_taken=int((now - started_at).total_seconds()) if started_at else None,
        form_token=form_token,
    )
    # The once-per-form rule is left to the database constraint below: checking it here too would
    # turn a double click racing this request into an error instead of the first response.
    response.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:
        # The same form sent twice at the same moment: the other request saved it.
        return ScreeningResponse.objects.get(patient=patient, form_token=form_token)
    if response.needs_safety_review:
        safety_alert_raise(screening=response)
    return response


@transaction.atomic
def safety_alert_raise(*, screening: ScreeningResponse) -> SafetyAlert:
    """Open an alert for this answer, hold infusion booking, and email the on-call clinician once."""
    alert, created = SafetyAlert.objects.get_or_create(
        screening=screening, defaults={"patient": screening.patient, "reason": SafetyReason.PHQ9_ITEM9}
    )
    profile = _profile_locked(screening.patient)
    if alert.is_open and not profile.safety_review_required:
        profile.safety_review_required = True
        profile.save(update_fields=["safety_review_required", "updated_at"])
    if created:
        logger.warning("safety alert %s raised", alert.pk)
        safety_alert_notify(alert_id=alert.pk)
    return alert


@transaction.atomic
def safety_alert_notify(*, alert_id: int) -> bool:
    """Email the on-call clinician about an alert, once. A neutral subject and only a link: no score, no answers.

    The email is an outbox row written in this transaction (so it exists exactly when the alert
    does) and sent once it commits; the outbox retries while the mail server is down. Returns
    False when the alert's email was already written.
    """
    claimed = SafetyAlert.objects.filter(pk=alert_id, notified_at__isnull=True).update(notified_at=timezone.now())
    if not claimed:
        return False
    link = settings.SITE_URL + reverse("admin:patients_safetyalert_change", args=[alert_id])
    staff_alert_email(
        to=settings.ONCALL_CLINICIAN_EMAIL,
        subject=str(_("Urgent: a patient needs a safety review")),
        body=str(
            _(
                "A patient's answers need a clinician's safety review today.\n\n"
                "Open the alert in the clinic admin (login required):\n%(link)s\n\n"
                "Infusion booking is on hold for this patient until a clinician resolves the alert.\n"
            )
        )
        % {"link": link},
        unique_key=f"safety-alert:{alert_id}",
    )
    return True


def _require_clinician(user: User) -> None:
    if not user.has_role(Role.CLINICIAN):
        raise NotAllowed(_("Only a clinician can do this."))


@transaction.atomic
def safety_alert_acknowledge(*, alert: SafetyAlert, clinician: User) -> SafetyAlert:
    """A clinician has seen the alert and is dealing with it."""
    _require_clinician(clinician)
    alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = clinician
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return alert


@transaction.atomic
def safety_alert_resolve(*, alert: SafetyAlert, clinician: User, note: str) -> SafetyAlert:
    """Close the alert with what was done. The infusion hold lifts when no other alert is open."""
    _require_clinician(clinician)
    if not (note or "").strip():
        raise ValidationError({"resolution_note": _("Say what was done, for the patient's record.")})
    alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.resolved_at is not None:
        raise InvalidState(_("This alert was already resolved."))
    now = timezone.now()
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, clinician
    alert.resolved_at, alert.resolved_by, alert.resolution_note = now, clinician, note.strip()
    alert.save()
    profile = _profile_locked(alert.patient)
    still_open = SafetyAlert.objects.filter(patient=alert.patient, resolved_at__isnull=True).exists()
    if profile.safety_review_required and not still_open:
        profile.safety_review_required = False
        profile.save(update_fields=["safety_review_required", "updated_at"])
    logger.info("safety alert %s resolved", alert.pk)
    return alert


# --- clinician clearance --------------------------------------------------------------------------


def clinician_licensed_for(*, clinician: User, state: str, on_date: date | None = None) -> bool:
    """True when the clinician holds a licence valid in `state` on `on_date` (roster.licensure rules)."""
    on_date = on_date or timezone.localdate()
    licences = Licence.objects.filter(provider__user=clinician, provider__is_active=True)
    return any(
        licence_valid_in(
            state=licence.state,
            licence_type=licence.licence_type,
            multistate=licence.multistate,
            expires_on=licence.expires_on,
            visit_state=state,
            on_date=on_date,
        )
        for licence in licences
    )


def clearance_problem(*, patient: User, decision: str, clinician: User | None = None) -> "str | StrPromise | None":
    """Why this decision cannot be recorded for this patient now, or None."""
    if not patient.has_role(Role.PATIENT):
        return _("This login is not a patient.")
    if decision != ClearanceDecision.CLEARED:
        return None
    if _latest_sent(patient) is None:
        return _("This patient has not sent their health questions yet, so they cannot be cleared.")
    profile = PatientProfile.objects.filter(user=patient).first()
    if profile is None or not profile.state:
        return _("This patient has not given their address yet, so the state they are treated in is unknown.")
    # Treatment happens where the patient lives: the clinician who clears must be licensed there.
    if clinician is not None and not clinician_licensed_for(clinician=clinician, state=profile.state):
        return _("You have no active licence on file for %(state)s, where this patient is treated.") % {
            "state": profile.state
        }
    return None


@transaction.atomic
def clearance_record(
    *,
    patient: User,
    clinician: User,
    diagnosis: str,
    decision: str,
    note: str = "",
    infusions_planned: int = 6,
    dose_mg_per_kg: Decimal = Decimal("0.5"),
    infusion_minutes: int = 40,
    min_hours_between: int = 48,
    series_window_days: int = 21,
    expires_on: date | None = None,
    evaluation: VisitFacts | None = None,
) -> Clearance:
    """Record a clinician's decision (and plan) as a new row. Earlier decisions are never changed.

    `evaluation`: the patient's telehealth evaluation visit the decision was made at, if any.
    """
    _require_clinician(clinician)
    _profile_locked(patient)
    problem = clearance_problem(patient=patient, decision=decision, clinician=clinician)
    if problem:
        raise InvalidState(problem)
    if evaluation is not None and (evaluation.patient_id != patient.pk or not evaluation.service.is_telehealth):
        raise InvalidState(_("That visit is not this patient's evaluation."))
    clearance = Clearance(
        patient=patient,
        clinician=clinician,
        diagnosis=diagnosis,
        decision=decision,
        note=note,
        infusions_planned=infusions_planned,
        dose_mg_per_kg=dose_mg_per_kg,
        infusion_minutes=infusion_minutes,
        min_hours_between=min_hours_between,
        series_window_days=series_window_days,
        expires_on=expires_on,
        intake=_latest_sent(patient),
        evaluation_id=evaluation.pk if evaluation is not None else None,
        decided_at=timezone.now(),
    )
    clearance.full_clean()
    clearance.save()
    logger.info("clearance %s recorded", clearance.pk)
    return clearance


@transaction.atomic
def patient_account_reopen(*, patient: User, actor: User | None) -> PatientProfile:
    """Staff reopen a closed account (the patient called): the login works again. Safe to call twice.

    Texts stay off: the patient opts in again on their profile (and texts START for the number).
    The closure's time and reason stay in the audit trail.
    """
    if actor is None or not (actor.is_superuser or actor.has_perm("concierge.change_user")):
        raise NotAllowed()
    profile = _profile_locked(patient)
    user = User.objects.select_for_update().get(pk=patient.pk)
    if profile.account_closed_at is None and user.is_active:
        return profile
    profile.account_closed_at, profile.account_closed_reason = None, ""
    profile.full_clean()
    profile.save()
    if not user.is_active:
        user.is_active = True
        user.full_clean(exclude=["password"])
        user.save(update_fields=["is_active"])
    patient.is_active = True
    logger.info("patient %s: account reopened by user %s", patient.pk, actor.pk)
    return profile
