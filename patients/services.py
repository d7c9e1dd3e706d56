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
from django.db.models import Max, Model
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from concierge.errors import InvalidState, NotAllowed
from concierge.locking import lock_order_note
from concierge.models import Role, User
from concierge.services import user_create
from notifications.facts import VisitFacts
from notifications.models import Channel
from notifications.services import message_enqueue, staff_alert_email
from roster import oncall
from roster.licensure import licence_valid_in
from roster.models import Licence

from . import instruments, intake, selectors
from .danger_words import danger_words_in
from .models import (
    Clearance,
    ClearanceDecision,
    ConsentDocument,
    ConsentSignature,
    ConsentText,
    IntakeResponse,
    IntakeStatus,
    PatientProfile,
    SafetyAlert,
    SafetyReason,
    ScreeningResponse,
    SignUpRequest,
    TriageOutcome,
    TriageResult,
    WeightUnit,
    birth_date_problem,
)
from .signals import infusion_safety_changed
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


def _profile_locked(patient: User | int) -> PatientProfile:
    """The patient's profile row, locked for this transaction (made if missing).

    First in the one lock order (concierge/locking.py): every use case that locks it does so
    before any provider, patient login, visit or payment row."""
    patient_id = patient if isinstance(patient, int) else patient.pk
    profile = PatientProfile.objects.select_for_update().filter(user_id=patient_id).first()
    if profile is None:
        profile = PatientProfile.objects.create(user_id=patient_id)
    lock_order_note("patients.PatientProfile", [profile.pk])
    return profile


def profile_lock(*, patient_id: int) -> None:
    """Lock the patient's profile now, first in the lock order, for a use case that will lock
    schedule rows and then may raise a safety alert (which locks the profile): taken after them,
    it could deadlock with an alert raised elsewhere that holds the profile and wants the visits."""
    _profile_locked(patient_id)


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
    if evaluation.outcome in (TriageOutcome.NOT_ELIGIBLE, TriageOutcome.CLINICIAN_REVIEW):
        # A new answer may stop the next infusion (pregnancy, a new medicine): booking asks again.
        infusion_safety_announce(patient=patient, reason="triage")
    _intake_words_read(version=draft, before=latest)
    return draft


def _intake_words_read(*, version: IntakeResponse, before: IntakeResponse | None) -> None:
    """What the patient wrote in their own words is read for danger like their other words to us
    (a message, a check-in, a text, a reason for cancelling): a match raises a safety alert in the
    sending's transaction. Only answers new or changed since the version before are read: words a
    clinician has already seen (and resolved) do not raise a second alert when the patient sends
    a new version to change their medicines."""
    earlier = intake.written_answers(before.answers) if before is not None else {}
    changed = {key: text for key, text in intake.written_answers(version.answers).items() if earlier.get(key) != text}
    matched = {key: danger_words_in(text) for key, text in changed.items()}
    matched = {key: words for key, words in matched.items() if words}
    if not matched:
        return
    with translation.override(settings.LANGUAGE_CODE):  # for the clinician, in the clinic's language
        source_text = "\n".join(f"{intake.QUESTIONS[key].label}: {changed[key]}" for key in matched)
    safety_alert_raise(
        intake=version,
        patient=version.patient,
        matched_words=list(dict.fromkeys(word for words in matched.values() for word in words)),
        source_text=source_text,
    )


# --- what booking must hear: "may this patient receive an infusion now?" may have changed ---------


def infusion_safety_announce(*, patient: User, reason: str, safety: bool = False) -> None:
    """Tell the layers above (patients.signals.infusion_safety_changed) inside this transaction:
    booking asks the one question again and holds the patient's upcoming infusions it refuses.
    A receiver that fails rolls the change back, so no warning sign is kept without its holds."""
    infusion_safety_changed.send(sender=PatientProfile, patient=patient, reason=reason, safety=safety)


def safety_review_require(*, patient: User, alert: SafetyAlert) -> None:
    """An open safety alert of any origin (PHQ-9 item 9, a patient's words, a severe side effect, a
    serious adverse event): infusions wait.

    The profile says a review is needed (new bookings stop), and booking puts the visits already
    booked on hold, as a danger sign (the crisis panel with it) when the alert is one. Inside the
    caller's transaction; safe to call again for the same alert.
    """
    profile = _profile_locked(patient)
    if not alert.is_open:
        return
    if not profile.safety_review_required:
        profile.safety_review_required = True
        profile.save(update_fields=["safety_review_required", "updated_at"])
    infusion_safety_announce(patient=patient, reason="safety_alert", safety=alert.is_danger_sign)


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
    # The answers and their alert are one write: answers kept without the alert they call for
    # (the alert's locks not granted in time, say) would be a warning sign nobody is told of.
    # When the alert cannot be raised nothing is kept, and the patient is asked to send again.
    with transaction.atomic():
        try:
            with transaction.atomic():
                response.save()
        except IntegrityError:
            # The same form sent twice at the same moment: the other request saved it.
            return ScreeningResponse.objects.get(patient=patient, form_token=form_token)
        if response.needs_safety_review:
            safety_alert_raise(screening=response)
    return response


# What each source of an alert tells the on-call inbox: where to look, never the words.
_ALERT_WHERE = {
    SafetyReason.PHQ9_ITEM9: _("A patient's answers need a clinician's safety review today."),
    SafetyReason.MESSAGE: _("A patient's portal message suggests they may be in danger. Please contact them today."),
    SafetyReason.CHECKIN: _(
        "A patient's follow-up check-in suggests they may be in danger. Please contact them today."
    ),
    SafetyReason.TEXT: _(
        "A text sent to the clinic's number suggests the sender may be in danger. Please call them back today."
    ),
    SafetyReason.CANCELLATION: _(
        "A patient's reason for cancelling a visit suggests they may be in danger. Please contact them today."
    ),
    SafetyReason.INTAKE: _(
        "Words a patient wrote in their health questions suggest they may be in danger. Please contact them today."
    ),
    SafetyReason.SIDE_EFFECTS: _(
        "A patient's follow-up check-in needs a clinician's review before their next visit. Please contact them today."
    ),
    SafetyReason.ADVERSE_EVENT: _(
        "A visit's chart needs a clinician's review before the patient's next visit. Please review it and contact "
        "them today."
    ),
}


@transaction.atomic
def safety_alert_raise(
    *,
    screening: ScreeningResponse | None = None,
    message: Model | None = None,
    checkin: Model | None = None,
    inbound_text: Model | None = None,
    cancelled_visit: Model | None = None,
    intake: IntakeResponse | None = None,
    adverse_event_visit: Model | None = None,
    side_effects: bool = False,
    patient: User | None = None,
    matched_words: Iterable[str] = (),
    source_text: str = "",
    from_number: str = "",
) -> SafetyAlert:
    """Open a safety alert for one warning sign, once per source, and start the on-call chain.

    The source is exactly one of: a PHQ-9 (`screening`, item 9 above 0), a portal `message` or a
    follow-up `checkin` whose words suggest danger (portal), an `inbound_text` to the clinic's
    number (patients/inbound.py; `patient` None when no patient has the number), a
    `cancelled_visit` whose reason for cancelling does (booking's visit_cancel), an `intake`
    version whose written answers do (intake_submit); or, not a danger sign, a `checkin` with
    `side_effects=True` (severe side effects reported after an infusion) or an
    `adverse_event_visit` (a serious adverse event charted during it: nurses' dose_record). A new alert
    holds infusion booking (`safety_review_required`), tells booking through
    `infusion_safety_changed` (safety: whether it is a danger sign), emails the on-call inbox and pages the clinician on
    call (roster/oncall.py), all in this transaction. Raising again for the same source returns
    the first alert, notifies nobody again, and only repeats the (idempotent) hold.
    """
    sources = {
        "screening": (screening, SafetyReason.PHQ9_ITEM9),
        "message": (message, SafetyReason.MESSAGE),
        "checkin": (checkin, SafetyReason.SIDE_EFFECTS if side_effects else SafetyReason.CHECKIN),
        "inbound_text": (inbound_text, SafetyReason.TEXT),
        "cancelled_visit": (cancelled_visit, SafetyReason.CANCELLATION),
        "intake": (intake, SafetyReason.INTAKE),
        "adverse_event_visit": (adverse_event_visit, SafetyReason.ADVERSE_EVENT),
    }
    given = [(name, source, reason) for name, (source, reason) in sources.items() if source is not None]
    if len(given) != 1:
        raise ValueError("A safety alert has exactly one source")
    ((source_name, source, reason),) = given
    if side_effects and source_name != "checkin":
        raise ValueError("Only a check-in reports side effects")
    if screening is not None:
        patient = screening.patient
    if patient is None and reason != SafetyReason.TEXT:
        raise ValueError("Only a text from an unknown number raises an alert with no patient")
    alert, created = SafetyAlert.objects.get_or_create(
        **{source_name: source},
        defaults={
            "patient": patient,
            "reason": reason,
            "matched_words": list(matched_words),
            "source_text": source_text,
            "from_number": from_number,
        },
    )
    if patient is not None:
        # New bookings stop and booking puts the visits already booked on hold (safe to repeat).
        safety_review_require(patient=patient, alert=alert)
    if created:
        logger.warning("safety alert %s raised", alert.pk)  # by id only: the reason is clinical
        safety_alert_notify(alert_id=alert.pk)
    return alert


def _admin_link(name: str, pk: int) -> str:
    return settings.SITE_URL + reverse(name, args=[pk])


@transaction.atomic
def safety_alert_notify(*, alert_id: int) -> bool:
    """Tell the on-call chain about an alert, once: an email to the on-call inbox (a neutral
    subject, only links: no score, no answers, no words) and a page to the clinician on call
    (roster/oncall.py: a text and an email, escalated to the backup when not acknowledged).

    Both are outbox rows written in this transaction (so they exist exactly when the alert
    does) and sent once it commits; the outbox retries while the mail server is down. Returns
    False when the alert was already notified.
    """
    claimed = SafetyAlert.objects.filter(pk=alert_id, notified_at__isnull=True).update(notified_at=timezone.now())
    if not claimed:
        return False
    alert = SafetyAlert.objects.get(pk=alert_id)
    links = [_admin_link("admin:patients_safetyalert_change", alert_id)]
    if alert.message is not None:
        links.append(_admin_link("portal:staff_thread", alert.message.thread_id))
    staff_alert_email(
        to=settings.ONCALL_CLINICIAN_EMAIL,
        subject=str(_("Urgent: a patient needs a safety review")),
        body=str(
            _(
                "%(where)s\n\n"
                "Open it in the clinic admin (login required):\n%(links)s\n\n"
                "Infusions are on hold for this patient (no new booking; booked visits wait for a "
                "clinician's release).\n"
            )
        )
        % {"where": _ALERT_WHERE[SafetyReason(alert.reason)], "links": "\n".join(links)},
        unique_key=f"safety-alert:{alert_id}",
    )
    oncall.oncall_page(
        key=f"safety-alert:{alert_id}", link=reverse("admin:patients_safetyalert_change", args=[alert_id])
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
    # Seen where it lives: the page about it needs no escalation.
    oncall.oncall_page_acknowledge_key(key=f"safety-alert:{alert.pk}", by=clinician)
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
    oncall.oncall_page_acknowledge_key(key=f"safety-alert:{alert.pk}", by=clinician)
    if alert.patient is not None:
        profile = _profile_locked(alert.patient)
        still_open = SafetyAlert.objects.filter(patient=alert.patient, resolved_at__isnull=True).exists()
        if profile.safety_review_required and not still_open:
            profile.safety_review_required = False
            profile.save(update_fields=["safety_review_required", "updated_at"])
        # Holds are released by a clinician, visit by visit (never by this); booking still hears it.
        infusion_safety_announce(patient=alert.patient, reason="safety_alert")
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
    in_person_evaluated_on: date | None = None,
) -> Clearance:
    """Record a clinician's decision (and plan) as a new row. Earlier decisions are never changed.

    `evaluation`: the patient's telehealth evaluation visit the decision was made at, if any;
    `in_person_evaluated_on`: or the day of an in-person evaluation. The gate that a *cleared*
    decision passes first (a completed evaluation, recent questionnaires) is booking's
    `booking.evaluations.clearance_decide`, which every clinician's decision goes through; this
    writer is called directly only by demo data and test factories.
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
        in_person_evaluated_on=in_person_evaluated_on,
        decided_at=timezone.now(),
    )
    clearance.full_clean()
    clearance.save()
    infusion_safety_announce(patient=patient, reason="clearance")
    logger.info("clearance %s recorded", clearance.pk)
    return clearance


@transaction.atomic
def clearance_revoke(*, clearance: Clearance, clinician: User, reason: str) -> Clearance:
    """A clinician withdraws a clearance (with the reason): no infusion under it from now on.

    The decision itself is not changed; the row records when and why it was withdrawn, and booking
    puts the patient's upcoming infusions on hold. Revoking twice changes nothing.
    """
    _require_clinician(clinician)
    if not (reason or "").strip():
        raise ValidationError({"revoked_reason": _("Say why, for the patient's record.")})
    _profile_locked(clearance.patient)
    clearance = Clearance.objects.select_for_update().get(pk=clearance.pk)
    if clearance.revoked_at is not None:
        return clearance
    if clearance.decision != ClearanceDecision.CLEARED:
        raise InvalidState(_("Only a clearance can be revoked; this decision did not clear the patient."))
    clearance.revoked_at, clearance.revoked_reason = timezone.now(), reason.strip()
    clearance.full_clean()
    clearance.save(update_fields=["revoked_at", "revoked_reason"])
    infusion_safety_announce(patient=clearance.patient, reason="clearance")
    logger.info("clearance %s revoked by user %s", clearance.pk, clinician.pk)
    return clearance


def clearances_expired_announce(*, today: date | None = None) -> int:
    """Clearances in force that ran out (past their expiry date): booking hears each once.

    Run by the clock every hour (patients.tasks). Expiry is a matter of time, not of anything a
    person does: this is how the visits booked under a clearance that ran out go on hold. Each
    clearance is claimed with a conditional update, so two runs never announce one twice.
    Returns how many were announced.
    """
    today = today or timezone.localdate()
    expired = Clearance.objects.filter(
        decision=ClearanceDecision.CLEARED,
        revoked_at__isnull=True,
        expires_on__lt=today,
        expiry_announced_at__isnull=True,
    ).values_list("pk", "patient_id")
    announced = 0
    for clearance_id, patient_id in list(expired[:500]):
        with transaction.atomic():
            claimed = Clearance.objects.filter(pk=clearance_id, expiry_announced_at__isnull=True).update(
                expiry_announced_at=timezone.now()
            )
            if claimed:
                infusion_safety_announce(patient=User.objects.get(pk=patient_id), reason="clearance")
                announced += 1
    if announced:
        logger.info("%s expired clearances announced", announced)
    return announced


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


# --- informed consent (issue 15) -------------------------------------------------------------------


def _name_key(name: str) -> str:
    return " ".join(name.replace(".", " ").replace(",", " ").split()).casefold()


@transaction.atomic
def consent_sign(
    *, patient: User, text: ConsentText, typed_name: str, agreed: bool, ip_address: str | None = None
) -> ConsentSignature:
    """The patient signs the consent text they read: their legal name typed, the box ticked.

    `text` is the text shown to them (selectors.consent_text_for); the signature records its
    version and its language. Only the current version can be signed (a page left open over a
    new version asks again). A version is signed once: signing it again, in any language,
    returns the first signature.
    """
    if not patient.has_role(Role.PATIENT):
        raise NotAllowed(_("Only a patient can sign their consent."))
    document = text.document
    current = selectors.consent_current()
    if current is None or current.pk != document.pk:
        raise InvalidState(_("The consent form has changed. Please read the new version and sign it."))
    existing = ConsentSignature.objects.filter(patient=patient, document=document).first()
    if existing is not None:
        return existing
    if not agreed:
        raise InvalidState(_("Please tick the box to confirm you have read and agree."))
    profile = PatientProfile.objects.filter(user=patient).first()
    legal = f"{profile.legal_first_name} {profile.legal_last_name}" if profile else ""
    if not legal.strip() or _name_key(typed_name) != _name_key(legal):
        raise InvalidState(_("Please type your full legal name, as on your profile, to sign."))
    signature = ConsentSignature(
        patient=patient,
        document=document,
        language=text.language,
        typed_name=" ".join(typed_name.split()),
        agreed=True,
        signed_at=timezone.now(),
        ip_address=ip_address or None,
    )
    signature.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            signature.save()
    except IntegrityError:  # the same form sent twice at once: the first one counts
        return ConsentSignature.objects.get(patient=patient, document=document)
    logger.info("consent %s signed in %s (signature %s)", document.pk, text.language, signature.pk)
    return signature


class ConsentTextsMissing(InvalidState):
    code = "consent_texts_missing"


@transaction.atomic
def consent_publish(*, document: ConsentDocument, by: User) -> ConsentDocument:
    """Publish a consent version: from now on every patient signs it before their next infusion.

    It needs a text in every patient language (settings.LANGUAGES), so that no patient reads it
    in another language than their own. Patients who signed an earlier version are told to
    booking (`infusion_safety_changed`, reason "consent", safety False): it asks its question
    again and holds their upcoming visits until they sign. Publishing twice changes nothing.
    """
    if not (by.is_superuser or by.has_role(Role.CLINICIAN)):
        raise NotAllowed(_("Only a clinician can publish a consent form."))
    # The texts cannot change under us: lock the draft while it is checked and published.
    locked = ConsentDocument.objects.select_for_update().filter(pk=document.pk).first()
    if locked is None or locked.published_at is not None:
        document.refresh_from_db()
        return document
    missing = locked.missing_languages()
    if missing:
        names = dict(settings.LANGUAGES)
        raise ConsentTextsMissing(
            _(
                "Version %(version)s cannot be published: it has no text in %(languages)s. Every version needs "
                "a text in each language patients read, so that nobody reads it in another language."
            )
            % {"version": locked.version, "languages": ", ".join(str(names[code]) for code in missing)}
        )
    ConsentDocument.objects.filter(pk=document.pk, published_at__isnull=True).update(published_at=timezone.now())
    document.refresh_from_db()
    earlier = (
        ConsentSignature.objects.exclude(document=document).values_list("patient_id", flat=True).distinct().order_by()
    )
    for patient in User.objects.filter(pk__in=list(earlier)):
        infusion_safety_changed.send(sender=ConsentDocument, patient=patient, reason="consent", safety=False)
    logger.info("consent %s published", document.pk)
    return document


def consent_first_version_ensure() -> ConsentDocument:
    """The first version as the migrations seeded it, with its texts (for a database emptied by a test)."""
    from .consent import FIRST_TEXTS, FIRST_VERSION

    with transaction.atomic():
        document, created = ConsentDocument.objects.get_or_create(version=FIRST_VERSION)
        if created:  # a draft until its texts are written, then published as the migrations left it
            for language, (title, body) in FIRST_TEXTS.items():
                ConsentText.objects.create(
                    document=document,
                    language=language,
                    title=title,
                    body=body.format(clinic_phone=settings.CLINIC_PHONE),
                )
            ConsentDocument.objects.filter(pk=document.pk).update(published_at=timezone.now())
            document.refresh_from_db()
    return document
