"""The one table of what a patient's download holds: `SECTIONS`, and `NOT_PATIENT_RECORDS`.

For each kind of record: the model, how its rows lead to the patient, the fields exported and
the fields left out with the reason. A test fails when a model in our apps is in neither table,
or when one of its fields is neither exported nor left out, so a new field or table is a
decision, not an accident. The export itself (export.py) only reads this table.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db.models import CharField, Q, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from concierge.models import User
from patients.selectors import consent_signed_text
from payments.models import payment_reference

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# A row of a section's query (field name -> value), and what a section adds computed from it.
Row = dict[str, Any]
Derived = Callable[[Row, User], dict[str, Any]]
# Records tied to the patient by a value (their phone number, their email) instead of a key.
Match = Callable[[User, str | None], Q]


def _name(path: str) -> Concat:
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
    title: "str | StrPromise"  # lazily translated: shown on the page and in the download
    model: str
    fields: tuple[str | tuple[str, Any], ...]
    left_out: dict[str, "str | StrPromise"] = field(default_factory=dict)
    to_patient: str | None = None
    match: Match | None = None
    one: bool = False
    order_by: tuple[str, ...] = ("pk",)
    derived: Derived | None = None  # (row, patient) -> more keys computed from the row

    def where(self, patient: User, phone: str | None) -> Q:
        if self.match is not None:
            return self.match(patient, phone)
        if self.to_patient is None:  # every section has one of the two (SECTIONS)
            raise ValueError(f"Section {self.key!r} has neither `to_patient` nor `match`")
        return Q(**{self.to_patient: patient.pk})

    def names(self) -> list[str]:
        return [f if isinstance(f, str) else f[0] for f in self.fields]


STAFF_LOGIN = _("Which staff member's login did it; the record itself is here.")
FORM_TOKEN = _("A one-time key that stops a double-click from saving twice.")
ROW_UPDATED = _("When the row was last written (internal).")


def _account_extra(row: Row, patient: User) -> dict[str, Any]:
    return {"roles": sorted(patient.roles)}


def _visit_extra(row: Row, patient: User) -> dict[str, Any]:
    zone = ZoneInfo(row["time_zone"]) if row.get("time_zone") else None
    if zone is None:
        return {}
    starts, ends = row["starts_at"].astimezone(zone), row["ends_at"].astimezone(zone)
    return {
        "starts_at_local": starts.isoformat(),
        "ends_at_local": ends.isoformat(),
        "time_zone_abbreviation": starts.tzname(),
    }


def _alert_extra(row: Row, patient: User) -> dict[str, Any]:
    if row["resolved_at"]:
        state = "resolved"
    elif row["acknowledged_at"]:
        state = "acknowledged"
    else:
        state = "open"
    return {"state": state}


def _payment_extra(row: Row, patient: User) -> dict[str, Any]:
    return {"reference": payment_reference(row["id"])}


def _by_number(lookup: str) -> Match:
    def match(patient: User, phone: str | None) -> Q:
        return Q(**{lookup: phone}) if phone else Q(pk__in=[])

    return match


SECTIONS = (
    Section(
        "account",
        _("Your login: email, name, when you joined, your role, your language"),
        "concierge.User",
        to_patient="pk",
        one=True,
        fields=("id", "email", "first_name", "last_name", "date_joined", "last_login", "is_active", "language"),
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
            ("text_to_our_number_id", "inbound_text_id"),
            "cancelled_visit_id",
            ("intake_version_id", "intake_id"),
            "adverse_event_visit_id",
            "from_number",
            "source_text",
            "matched_words",
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
            "in_person_evaluated_on",
            "decided_at",
            "revoked_at",
            "revoked_reason",
        ),
        left_out={"expiry_announced_at": _("When our clock noticed the clearance had ended (internal).")},
    ),
    Section(
        "consent_signatures",
        _(
            "The consent forms you signed: the version, the language and text you read, your typed name, when "
            "and from where"
        ),
        "patients.ConsentSignature",
        to_patient="patient",
        order_by=("signed_at", "id"),
        fields=(
            "id",
            ("version", "document__version"),
            "language",
            # The text signed: the version's text in the language read (patients.selectors).
            ("title", consent_signed_text("title")),
            ("text", consent_signed_text("body")),
            "typed_name",
            "agreed",
            "signed_at",
            "ip_address",
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
        left_out={"booked_by": STAFF_LOGIN},
    ),
    Section(
        "time_waitlist",
        _("Your places on the waitlist for freed times: the days and times you would take"),
        "booking.TimeWaitlistEntry",
        to_patient="patient",
        order_by=("created_at", "id"),
        fields=(
            "id",
            ("service_name", "service__name"),
            "weekdays",
            "parts_of_day",
            "first_day",
            "last_day",
            "status",
            "lapsed_offers",
            "created_at",
            "ended_at",
        ),
        left_out={"service": _("Shown by its name.")},
    ),
    Section(
        "time_offers",
        _("Freed times offered to you from the waitlist, and your answers"),
        "booking.TimeOffer",
        to_patient="entry__patient",
        order_by=("created_at", "id"),
        fields=("id", "entry_id", "visit_id", "starts_at", "status", "expires_at", "created_at", "answered_at"),
    ),
    Section(
        "visit_holds",
        _("Visits put on hold until a clinician spoke with you, and how each hold ended"),
        "booking.SafetyHold",
        to_patient="visit__patient",
        order_by=("placed_at", "id"),
        fields=(
            "id",
            "visit_id",
            "previous_status",
            "reasons",
            "staff_words",
            "safety",
            "placed_at",
            "outcome",
            "ended_at",
            "note",
        ),
        left_out={"ended_by": STAFF_LOGIN},
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
            "origin",
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
            "booked_by": STAFF_LOGIN,
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
            "short_reason",
            "weight_change_confirmed",
            "recorded_at",
        ),
        left_out={"recorded_by": STAFF_LOGIN, "form_token": FORM_TOKEN},
    ),
    Section(
        "protocol_overrides",
        _("A clinician's decision to go on despite a protocol stop at your visit"),
        "nurses.ProtocolOverride",
        to_patient="chart__visit__patient",
        order_by=("recorded_at", "id"),
        fields=("id", "chart_id", "kind", ("clinician_name", _name("clinician")), "reason", "recorded_at"),
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
        _(
            "Texts to us from your number: the keyword (STOP, START, HELP) or other, and what we answered "
            "when it was not our standard answer. The texts themselves are kept only when they raised a "
            "safety alert (see safety alerts)"
        ),
        "notifications.InboundSms",
        match=_by_number("from_number"),
        order_by=("received_at", "id"),
        fields=("from_number", "action", "received_at", "reply"),
        left_out={"id": _("Internal row number."), "message_sid": _("The text provider's own reference.")},
    ),
    Section(
        "waitlist",
        _("Waitlist sign-ups with your email, from before we covered your area"),
        "booking.WaitlistEntry",
        match=lambda patient, phone: Q(email__iexact=patient.email),
        order_by=("created_at", "id"),
        fields=("zip_code", "email", "phone", "language", "created_at", "contacted_at"),
        left_out={"id": _("Internal row number.")},
    ),
)


# Models of our apps that hold nothing about one patient, or not for the download, and why.
NOT_PATIENT_RECORDS = {
    "concierge.PatientRecordView": _(
        "Who on the staff opened your record: the clinic's access log. Ask us for an accounting of it."
    ),
    "concierge.ZipCode": _("The list of US ZIP codes (public reference data)."),
    # concierge/patient_state.py: numbers only, so that the portal can show pages quickly.
    "concierge.PatientStateChange": _(
        "A count of changes to your records (no content) that lets your pages load quickly."
    ),
    "concierge.PatientStateFolded": _(
        "A count of changes to your records (no content) that lets your pages load quickly."
    ),
    "booking.CalendarFeed": _(
        "The secret address of your calendar subscription: a key, not a record (your visits are above)."
    ),
    "booking.Service": _("The clinic's price list."),
    "patients.ConsentDocument": _(
        "The clinic's consent forms: the text of each version you signed is in your consent signatures."
    ),
    "patients.ConsentText": _(
        "The clinic's consent forms in each language: the text you signed is in your consent signatures."
    ),
    "booking.ServiceArea": _("Where the clinic works."),
    "roster.Provider": _("Nurses' and clinicians' own records."),
    "roster.Licence": _("Nurses' and clinicians' own records."),
    "roster.WeeklyShift": _("Nurses' and clinicians' own records."),
    "roster.DateOverride": _("Nurses' and clinicians' own records."),
    "roster.TimeOff": _("Nurses' and clinicians' own records."),
    "payments.WebhookEvent": _("Notices from the card processor to us (their references only)."),
    "payments.FakeGatewayObject": _("The local test card processor (never used in production)."),
    "patients.SignUpRequest": _(
        "A sign-up waiting for its email to be confirmed: not yet an account, deleted once confirmed or after two days."
    ),
}
