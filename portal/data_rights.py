"""A patient's data rights: download everything we hold about them, and close their account.

THE EXPORT. `SECTIONS` below is the one table of what a patient's download holds: for each kind
of record, the model, how its rows lead to the patient, the fields exported and the fields left
out with the reason. A test fails when a model in our apps is in neither `SECTIONS` nor
`NOT_PATIENT_RECORDS`, or when one of its fields is neither exported nor left out, so a new
field or table is a decision, not an accident. Each section is one `.values()` query (joins for
names and service details), so the download costs the same few queries however long the history.
Times are ISO 8601 in UTC (visits also in their own zone), decimals are strings, money is cents.

CLOSING AN ACCOUNT. Records are never deleted (medical-record law). `patient_account_close`
does, in one transaction: refuses (before changing anything) when a visit is inside the online
change cut-off or under way; cancels every upcoming visit through booking's `visit_cancel`
as the patient would (the cancellation policy decides refunds); stops text messages (consent
withdrawn on the profile with its time, the number recorded as opted out); cancels every message
still waiting in the outbox; disables the login (`is_active = False`: the login backend ends every
session of theirs at its next request, concierge/backends.py); stores when and why. The audit
trail (django-auditlog) keeps the user's and the profile's changes. `account_closed_at` is the
flag anything that contacts patients unasked (marketing, which does not exist yet) must check.
`patients.services.patient_account_reopen` is the way back (staff, when the patient calls).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import CharField, F, Q, Sum, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import PhoneNumber

from booking import policy
from booking.models import BLOCKING_STATUSES, CancelledBy, Visit, VisitStatus
from booking.services import visit_cancel
from concierge.errors import NotAllowed, TryAgainLater
from concierge.models import User
from notifications import services as notify
from notifications.content import when_text
from patients.services import _profile_locked
from payments.models import Refund, RefundReason

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "conciergemd-patient-data"
EXPORT_VERSION = 1
CLOSE_REASON_MAX_LENGTH = 500
# What the cancelled visits and cancelled messages say about why.
CLOSED_VISIT_REASON = "Account closed"
CLOSED_MESSAGE_REASON = "The patient closed their account."
# The keyword recorded on the number's opt-out row (as if they had texted STOP).
CLOSED_SMS_KEYWORD = "ACCOUNT CLOSED"


def _name(path):
    """'First Last' of the user at `path` (a nurse, a clinician), joined in the query."""
    return Concat(f"{path}__first_name", Value(" "), f"{path}__last_name", output_field=CharField())


@dataclass(frozen=True)
class Section:
    """One kind of record in the download.

    `fields`: a field name (or attname such as "thread_id"), or (name in the download, lookup or
    expression). `to_patient`: the lookup from the model to the patient's User id; records tied
    to the patient by a value instead (their phone number, their email) give `match(patient,
    phone)` returning a Q. `left_out`: field -> why it is not in the download.
    """

    key: str
    title: object  # lazily translated: shown on the page and in the download
    model: str
    fields: tuple
    left_out: dict = field(default_factory=dict)
    to_patient: str | None = None
    match: Callable | None = None
    one: bool = False
    order_by: tuple = ("pk",)
    derived: Callable | None = None  # (row, patient) -> more keys computed from the row

    def where(self, patient, phone):
        if self.match is not None:
            return self.match(patient, phone)
        return Q(**{self.to_patient: patient.pk})

    def names(self):
        return [f if isinstance(f, str) else f[0] for f in self.fields]


STAFF_LOGIN = _("Which staff member's login did it; the record itself is here.")
FORM_TOKEN = _("A one-time key that stops a double-click from saving twice.")
ROW_UPDATED = _("When the row was last written (internal).")


def _account_extra(row, patient):
    return {"roles": sorted(patient.roles)}


def _visit_extra(row, patient):
    zone = ZoneInfo(row["time_zone"]) if row.get("time_zone") else None
    if zone is None:
        return {}
    starts, ends = row["starts_at"].astimezone(zone), row["ends_at"].astimezone(zone)
    return {
        "starts_at_local": starts.isoformat(),
        "ends_at_local": ends.isoformat(),
        "time_zone_abbreviation": starts.tzname(),
    }


def _alert_extra(row, patient):
    if row["resolved_at"]:
        state = "resolved"
    elif row["acknowledged_at"]:
        state = "acknowledged"
    else:
        state = "open"
    return {"state": state}


def _payment_extra(row, patient):
    return {"reference": f"P-{row['id']}"}


def _by_number(lookup):
    def match(patient, phone):
        return Q(**{lookup: phone}) if phone else Q(pk__in=[])

    return match


SECTIONS = (
    Section(
        "account",
        _("Your login: email, name, when you joined, your role"),
        "concierge.User",
        to_patient="pk",
        one=True,
        fields=("id", "email", "first_name", "last_name", "date_joined", "last_login", "is_active"),
        left_out={
            "password": _("The password's hash: never exported, never shown to anyone."),
            "is_staff": _("Admin flag (always off for patients)."),
            "is_superuser": _("Admin flag (always off for patients)."),
            "groups": _("Given as `roles`."),
            "user_permissions": _("Admin permissions (patients have none)."),
        },
        derived=_account_extra,
    ),
    Section(
        "profile",
        _("Your details: names, date of birth, phone, visit address, weight, people to call"),
        "patients.PatientProfile",
        to_patient="user",
        one=True,
        fields=(
            "legal_first_name",
            "legal_last_name",
            "preferred_name",
            "date_of_birth",
            "mobile_phone",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "zip_code",
            "time_zone",
            "weight_kg",
            "weight_unit",
            "emergency_contact_name",
            "emergency_contact_phone",
            "emergency_contact_relationship",
            "support_person_name",
            "support_person_phone",
            "safety_review_required",
            "account_closed_at",
            "account_closed_reason",
            "created_at",
            "updated_at",
        ),
        left_out={"id": _("Internal row number."), "user": _("It is you: see `account`.")},
    ),
    Section(
        "consents",
        _("Your consents: terms and privacy, text messages, with their times"),
        "patients.PatientProfile",
        to_patient="user",
        one=True,
        fields=("terms_accepted_at", "sms_opt_in", "sms_opt_in_changed_at"),
    ),
    Section(
        "intake_versions",
        _("Your health questions: every version you sent, and any draft"),
        "patients.IntakeResponse",
        to_patient="patient",
        order_by=("created_at", "id"),
        fields=(
            "id",
            "status",
            "version",
            "questionnaire_version",
            "answers",
            "created_at",
            "updated_at",
            "submitted_at",
        ),
    ),
    Section(
        "triage_results",
        _("What our triage rules found in each version of your health questions"),
        "patients.TriageResult",
        to_patient="intake__patient",
        order_by=("created_at", "id"),
        fields=(("intake_version_id", "intake_id"), "outcome", "fired_rules", "rules_version", "created_at"),
        left_out={"id": _("Internal row number.")},
    ),
    Section(
        "questionnaires",
        _("Your symptom questionnaires (PHQ-9, GAD-7, PCL-5): every answer, totals, bands, dates"),
        "patients.ScreeningResponse",
        to_patient="patient",
        order_by=("submitted_at", "id"),
        fields=(
            "id",
            "instrument",
            "item_answers",
            "difficulty",
            "total",
            "band",
            "provisional_positive",
            "subscores",
            "started_at",
            "submitted_at",
            "seconds_taken",
        ),
        left_out={"form_token": FORM_TOKEN},
    ),
    Section(
        "safety_alerts",
        _("Safety alerts: when an answer or message asked a clinician to check on you, and what happened"),
        "patients.SafetyAlert",
        to_patient="patient",
        order_by=("created_at", "id"),
        fields=(
            "id",
            "reason",
            ("questionnaire_id", "screening_id"),
            ("portal_message_id", "message_id"),
            "checkin_id",
            "created_at",
            "notified_at",
            "acknowledged_at",
            "resolved_at",
            "resolution_note",
        ),
        left_out={"acknowledged_by": STAFF_LOGIN, "resolved_by": STAFF_LOGIN},
        derived=_alert_extra,
    ),
    Section(
        "clearances",
        _("Clinicians' decisions and your treatment plans"),
        "patients.Clearance",
        to_patient="patient",
        order_by=("decided_at", "id"),
        fields=(
            "id",
            ("clinician_name", _name("clinician")),
            "diagnosis",
            "decision",
            "note",
            "infusions_planned",
            "dose_mg_per_kg",
            "infusion_minutes",
            "min_hours_between",
            "series_window_days",
            "expires_on",
            ("intake_version_id", "intake_id"),
            ("evaluation_visit_id", "evaluation_id"),
            "decided_at",
            "revoked_at",
            "revoked_reason",
        ),
    ),
    Section(
        "message_threads",
        _("Your conversations with the care team"),
        "portal.MessageThread",
        to_patient="patient",
        order_by=("created_at", "id"),
        fields=(
            "id",
            "subject",
            "topic",
            "urgent",
            "created_at",
            "last_message_at",
            "waiting_since",
            "answered_at",
            "patient_read_at",
            "care_team_read_at",
        ),
        left_out={"answered_by": STAFF_LOGIN},
    ),
    Section(
        "thread_messages",
        _("Every message in those conversations, yours and the care team's"),
        "portal.ThreadMessage",
        to_patient="thread__patient",
        order_by=("created_at", "id"),
        fields=("id", "thread_id", "sender", "body", "danger_words", "created_at"),
        left_out={"author": STAFF_LOGIN, "form_token": FORM_TOKEN},
    ),
    Section(
        "follow_up_checkins",
        _("Your check-ins after visits"),
        "portal.FollowUpCheckIn",
        to_patient="patient",
        order_by=("submitted_at", "id"),
        fields=(
            "id",
            "visit_id",
            "feeling",
            "side_effects",
            "side_effect_severity",
            "other_side_effect",
            ("phq9_questionnaire_id", "phq9_id"),
            ("pcl5_questionnaire_id", "pcl5_id"),
            "flags",
            "submitted_at",
            "reviewed_at",
        ),
        left_out={"reviewed_by": STAFF_LOGIN},
    ),
    Section(
        "visit_series",
        _("Infusions booked together as a series"),
        "booking.Series",
        to_patient="patient",
        fields=("id", "clearance_id", "created_at"),
    ),
    Section(
        "visits",
        _("Your visits: what, when (UTC and your visit's time zone), where, status, price"),
        "booking.Visit",
        to_patient="patient",
        order_by=("starts_at", "id"),
        fields=(
            "id",
            ("service_name", "service__name"),
            ("service_kind", "service__kind"),
            ("by_video", "service__is_telehealth"),
            ("nurse_or_clinician", _name("provider__user")),
            "status",
            "starts_at",
            "ends_at",
            "time_zone",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "zip_code",
            "price_cents",
            "amount_due_cents",
            "clearance_id",
            "series_id",
            "hold_expires_at",
            "confirmed_at",
            "cancelled_at",
            "cancelled_by",
            "cancellation_reason",
            "created_at",
            "updated_at",
        ),
        left_out={
            "blocked_from": _("The nurse's travel time before the visit (their schedule)."),
            "blocked_until": _("The nurse's travel time after the visit (their schedule)."),
            "cancelled_by_user": STAFF_LOGIN,
            "video_url": _("The link to a video room: a key to the room, not a record."),
        },
        derived=_visit_extra,
    ),
    Section(
        "visit_charts",
        _("Your nurse's chart of each home visit"),
        "nurses.VisitChart",
        to_patient="visit__patient",
        order_by=("created_at", "id"),
        fields=(
            "id",
            "visit_id",
            ("nurse_name", _name("nurse")),
            "created_at",
            "on_my_way_at",
            "eta_from",
            "eta_until",
            "eta_entered",
            "arrived_at",
            "arrival_latitude",
            "arrival_longitude",
            "arrival_accuracy_m",
            "adult_present",
            "prep_followed",
            "stopped_at",
            "stop_reason",
            "no_show_reason",
            "outcome",
            "signed_at",
            "signature_name",
            "locked_at",
        ),
        left_out={"signed_by": STAFF_LOGIN},
    ),
    Section(
        "vital_signs",
        _("Vital signs taken at your visits"),
        "nurses.VitalsReading",
        to_patient="chart__visit__patient",
        order_by=("taken_at", "id"),
        fields=(
            "id",
            "chart_id",
            "kind",
            "taken_at",
            "systolic",
            "diastolic",
            "heart_rate",
            "spo2",
            "respiratory_rate",
            "sedation_note",
            "alerts",
            "action_taken",
            "action_note",
            "recorded_at",
        ),
        left_out={"recorded_by": STAFF_LOGIN, "form_token": FORM_TOKEN},
    ),
    Section(
        "doses",
        _("The dose given at each visit"),
        "nurses.DoseRecord",
        to_patient="chart__visit__patient",
        order_by=("recorded_at", "id"),
        fields=(
            "id",
            "chart_id",
            "weight_entered",
            "weight_unit",
            "weight_kg",
            "dose_mg_per_kg",
            "dose_mg",
            "lot_number",
            "volume_ml",
            "started_at",
            "stopped_at",
            "recorded_at",
        ),
        left_out={"recorded_by": STAFF_LOGIN, "form_token": FORM_TOKEN},
    ),
    Section(
        "adverse_events",
        _("Reactions noted at your visits"),
        "nurses.AdverseEvent",
        to_patient="chart__visit__patient",
        order_by=("recorded_at", "id"),
        fields=("id", "chart_id", "kind", "note", "recorded_at"),
        left_out={"recorded_by": STAFF_LOGIN},
    ),
    Section(
        "discharge_checklists",
        _("The checks before your nurse left"),
        "nurses.DischargeChecklist",
        to_patient="chart__visit__patient",
        order_by=("recorded_at", "id"),
        fields=(
            "id",
            "chart_id",
            "baseline_mental_status",
            "vitals_near_baseline",
            "adult_present",
            "instructions_given",
            "note",
            "recorded_at",
        ),
        left_out={"recorded_by": STAFF_LOGIN, "form_token": FORM_TOKEN},
    ),
    Section(
        "chart_amendments",
        _("Corrections and additions to signed charts"),
        "nurses.ChartAmendment",
        to_patient="chart__visit__patient",
        order_by=("amended_at", "id"),
        fields=("id", "chart_id", "section", "text", "reason", "amended_at"),
        left_out={"amended_by": STAFF_LOGIN, "form_token": FORM_TOKEN},
    ),
    Section(
        "chart_history",
        _("The history of each chart: what was recorded, when"),
        "nurses.ChartEvent",
        to_patient="chart__visit__patient",
        order_by=("at", "id"),
        fields=("id", "chart_id", "kind", "summary", "at"),
        left_out={"actor": STAFF_LOGIN},
    ),
    Section(
        "payments",
        _("Your payments: amounts, statuses, dates"),
        "payments.Payment",
        to_patient="patient",
        order_by=("created_at", "id"),
        fields=(
            "id",
            "visit_id",
            "series_id",
            "amount_cents",
            "currency",
            "status",
            "failure_message",
            "amount_refunded_cents",
            "dispute_status",
            "succeeded_at",
            "cancelled_at",
            "disputed_at",
            "receipt_sent_at",
            "created_at",
            "updated_at",
        ),
        left_out={
            "client_secret": _("A secret the payment page uses to talk to the card processor."),
            "idempotency_key": _("A key that stops the card processor charging twice."),
            "gateway": _("Which card processor handled it (Stripe)."),
            "intent_id": _("The card processor's own reference."),
            "charge_id": _("The card processor's own reference."),
            "dispute_id": _("The card processor's own reference."),
        },
        derived=_payment_extra,
    ),
    Section(
        "payment_allocations",
        _("Which visits each payment paid for"),
        "payments.PaymentAllocation",
        to_patient="payment__patient",
        order_by=("payment_id", "id"),
        fields=("payment_id", "visit_id", "amount_cents"),
        left_out={"id": _("Internal row number.")},
    ),
    Section(
        "refunds",
        _("Money sent back to you"),
        "payments.Refund",
        to_patient="payment__patient",
        order_by=("created_at", "id"),
        fields=(
            "id",
            "payment_id",
            "visit_id",
            "amount_cents",
            "reason_code",
            "reason",
            "status",
            "failure_reason",
            "submitted_at",
            "created_at",
            "updated_at",
        ),
        left_out={
            "refund_id": _("The card processor's own reference."),
            "idempotency_key": _("A key that stops the card processor refunding twice."),
            "last_error": _("Technical errors while sending the refund (internal)."),
            "created_by": STAFF_LOGIN,
        },
    ),
    Section(
        "messages_sent_to_you",
        _("Emails and text messages we sent you (or planned to)"),
        "notifications.Message",
        to_patient="recipient",
        order_by=("created_at", "id"),
        fields=(
            "id",
            "channel",
            ("sent_to", "to_address"),
            "template",
            "visit_id",
            ("instead_of_message_id", "fallback_for_id"),
            "status",
            "due_at",
            "sent_at",
            "delivered_at",
            "subject",
            "body",
            "created_at",
        ),
        left_out={
            "context": _("Internal references the message was written from."),
            "unique_key": _("A key that stops the same message going twice."),
            "attempts": _("Sending attempts (internal)."),
            "claimed_at": _("Sending internals."),
            "attempt_started_at": _("Sending internals."),
            "provider_message_id": _("The email or text provider's own reference."),
            "last_error": _("Technical errors while sending (internal)."),
            "updated_at": ROW_UPDATED,
        },
    ),
    Section(
        "text_message_opt_out",
        _("Whether your mobile number said STOP to our texts"),
        "notifications.SmsOptOut",
        match=_by_number("phone_number"),
        one=True,
        fields=("phone_number", "is_opted_out", "keyword", "changed_at", "created_at"),
        left_out={"id": _("Internal row number.")},
    ),
    Section(
        "texts_from_your_number",
        _("Keywords texted to us from your number (STOP, START, HELP); the texts themselves are not kept"),
        "notifications.InboundSms",
        match=_by_number("from_number"),
        order_by=("received_at", "id"),
        fields=("from_number", "action", "received_at"),
        left_out={"id": _("Internal row number."), "message_sid": _("The text provider's own reference.")},
    ),
    Section(
        "waitlist",
        _("Waitlist sign-ups with your email, from before we covered your area"),
        "booking.WaitlistEntry",
        match=lambda patient, phone: Q(email__iexact=patient.email),
        order_by=("created_at", "id"),
        fields=("zip_code", "email", "phone", "created_at", "contacted_at"),
        left_out={"id": _("Internal row number.")},
    ),
)

# Models of our apps that hold nothing about one patient, or not for the download, and why.
NOT_PATIENT_RECORDS = {
    "concierge.PatientRecordView": _(
        "Who on the staff opened your record: the clinic's access log. Ask us for an accounting of it."
    ),
    "booking.Service": _("The clinic's price list."),
    "booking.ServiceArea": _("Where the clinic works."),
    "roster.Provider": _("Nurses' and clinicians' own records."),
    "roster.Licence": _("Nurses' and clinicians' own records."),
    "roster.WeeklyShift": _("Nurses' and clinicians' own records."),
    "roster.DateOverride": _("Nurses' and clinicians' own records."),
    "roster.TimeOff": _("Nurses' and clinicians' own records."),
    "payments.WebhookEvent": _("Notices from the card processor to us (their references only)."),
    "payments.FakeGatewayObject": _("The local test card processor (never used in production)."),
}

NOTES = (
    "Everything ConciergeMD holds about you, one section per kind of record.",
    "Times are ISO 8601 in UTC; visits also give their start and end in the visit's own time zone (_local).",
    "Amounts of money are whole US cents (45000 is $450.00). Decimal numbers are strings, so no digit is lost.",
    "Ids link the sections: a chart's visit_id is the id of a visit in `visits`.",
    "Nothing has been deleted: records are kept as medical-record law requires, also after an account is closed.",
)


def _plain(value):
    """A value from the database as JSON: ISO 8601 times, decimals and phone numbers as strings."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, PhoneNumber):
        return value.as_e164 if value.is_valid() else str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _rows(section, patient, phone):
    model = apps.get_model(section.model)
    plain, expressions = [], {}
    for spec in section.fields:
        if isinstance(spec, str):
            plain.append(spec)
        else:
            name, lookup = spec
            expressions[name] = F(lookup) if isinstance(lookup, str) else lookup
    query = model.objects.filter(section.where(patient, phone)).order_by(*section.order_by)
    rows = []
    for row in query.values(*plain, **expressions):
        out = {name: row[name] for name in section.names()}
        for name, value in out.items():
            if isinstance(value, str) and name in expressions and not isinstance(expressions[name], F):
                out[name] = value.strip() or None  # a joined name with nobody there
        if section.derived is not None:
            out.update(section.derived(row, patient))
        rows.append({name: _plain(value) for name, value in out.items()})
    return rows


def patient_data_export(*, patient, now=None):
    """Everything we hold about this patient, as a JSON-ready dict (the table: SECTIONS)."""
    now = now or timezone.now()
    phone = None
    profile_phone = (
        apps.get_model("patients.PatientProfile")
        .objects.filter(user=patient)
        .values_list("mobile_phone", flat=True)
        .first()
    )
    if profile_phone:
        phone = profile_phone.as_e164 if isinstance(profile_phone, PhoneNumber) else str(profile_phone)
    data = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "generated_at": now.isoformat(),
        "notes": list(NOTES),
    }
    about = {}
    for section in SECTIONS:
        rows = _rows(section, patient, phone)
        data[section.key] = (rows[0] if rows else None) if section.one else rows
        about[section.key] = {
            "what": str(section.title),
            "left_out": {name: str(why) for name, why in section.left_out.items()},
        }
    data["about_each_section"] = about
    data["not_included"] = {label: str(why) for label, why in NOT_PATIENT_RECORDS.items()}
    logger.info("patient %s downloaded their data", patient.pk)
    return data


def export_filename(day):
    return f"conciergemd-my-data-{day:%Y-%m-%d}.json"


# --- closing an account ---------------------------------------------------------------------------


class AccountCloseRefused(NotAllowed):
    """A visit is too close (or under way) to cancel online: the clinic must be called first."""

    default_message = _("Your account cannot be closed online right now. Please call us.")
    code = "account_close_refused"


@dataclass(frozen=True)
class ClosePreview:
    """What closing now would do: the visits it cancels, and the ones that stop it."""

    to_cancel: list
    blocking: list


@dataclass(frozen=True)
class AccountClosure:
    closed_at: datetime
    visits_cancelled: int = 0
    refund_cents: int = 0
    messages_cancelled: int = 0
    already_closed: bool = False


def _visits_ahead(patient, now):
    return Visit.objects.filter(patient=patient, status__in=BLOCKING_STATUSES, ends_at__gt=now)


def account_close_preview(*, patient, now=None):
    """The visits that closing would cancel, and those inside the cut-off or under way that stop it."""
    now = now or timezone.now()
    to_cancel, blocking = [], []
    for visit in _visits_ahead(patient, now).select_related("service").order_by("starts_at", "pk"):
        # A hold nobody has paid for may always go; a booked visit only as the patient could cancel it online.
        if visit.status == VisitStatus.HELD or policy.patient_may_change(visit, now):
            to_cancel.append(visit)
        else:
            blocking.append(visit)
    return ClosePreview(to_cancel=to_cancel, blocking=blocking)


def refused_message(visit):
    return gettext(
        "Your visit on %(when)s is less than %(hours)s hours away or under way, so we cannot close your "
        "account online before it. Please call us at %(phone)s: we will help you cancel it and close "
        "your account."
    ) % {
        "when": when_text(visit.starts_at, visit.time_zone),
        "hours": settings.BOOKING_CHANGE_CUTOFF_HOURS,
        "phone": settings.CLINIC_PHONE,
    }


def account_is_closed(*, patient):
    """THE check for anything that contacts patients without their asking (marketing): closed is never."""
    try:
        return patient.patient_profile.account_closed_at is not None or not patient.is_active
    except ObjectDoesNotExist:
        return not patient.is_active


@transaction.atomic
def patient_account_close(*, patient, reason="", now=None):
    """Close the patient's account; nothing is deleted. Safe to call twice (the second does nothing).

    Raises AccountCloseRefused, before changing anything, when a visit is inside the online
    cut-off or under way; TryAgainLater when a booking raced the closure.
    """
    now = now or timezone.now()
    # The profile row first: two closings of one account queue here, and the second finds it
    # closed. Booking never locks profiles, so this cannot deadlock with its provider->patient order.
    profile = _profile_locked(patient)
    if profile.account_closed_at is not None and not User.objects.filter(pk=patient.pk, is_active=True).exists():
        return AccountClosure(closed_at=profile.account_closed_at, already_closed=True)

    preview = account_close_preview(patient=patient, now=now)
    if preview.blocking:
        raise AccountCloseRefused(refused_message(preview.blocking[0]))
    cancelled = [
        visit_cancel(visit=visit, by=CancelledBy.PATIENT, reason=CLOSED_VISIT_REASON, actor=patient, now=now)
        for visit in preview.to_cancel
    ]

    # The patient's row, in booking's order (after the providers the cancellations locked): from
    # here no booking for them can commit. One that committed in between means: start again.
    list(User.objects.select_for_update().filter(pk=patient.pk).values_list("pk"))
    if _visits_ahead(patient, now).exists():
        raise TryAgainLater()

    reason = (reason or "").strip()[:CLOSE_REASON_MAX_LENGTH]
    if profile.sms_opt_in:
        profile.sms_opt_in, profile.sms_opt_in_changed_at = False, now
    profile.account_closed_at, profile.account_closed_reason = now, reason
    profile.full_clean()
    profile.save()
    if profile.mobile_phone:
        # The number too, as if it had texted STOP: nothing goes to it until it texts START.
        notify.sms_opt_out_record(phone_number=profile.mobile_phone.as_e164, keyword=CLOSED_SMS_KEYWORD)
    messages_cancelled = notify.messages_cancel_pending_for(user=patient, reason=CLOSED_MESSAGE_REASON)

    user = User.objects.get(pk=patient.pk)
    user.is_active = False
    user.full_clean(exclude=["password"])
    user.save(update_fields=["is_active"])
    patient.is_active = False

    refund_cents = (
        Refund.objects.filter(visit__in=[v.pk for v in cancelled], reason_code=RefundReason.CANCELLATION).aggregate(
            total=Sum("amount_cents")
        )["total"]
        or 0
    )
    logger.info("patient %s closed their account (%s visits cancelled)", patient.pk, len(cancelled))
    return AccountClosure(
        closed_at=now,
        visits_cancelled=len(cancelled),
        refund_cents=refund_cents,
        messages_cancelled=messages_cancelled,
    )
