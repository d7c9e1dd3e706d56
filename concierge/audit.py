"""The audit trail: who changed what and when (django-auditlog), and who viewed a patient's record.

Changes. `AUDITED` below is the one list of the models whose every create, change and delete is
kept as an `auditlog.LogEntry` (who, when, old and new values), by model label so that no other
app's models.py needs to know. `AuditlogMiddleware` (settings) ties each entry to the person
whose request made it; work done by Celery shows as "system". Changes made with a bulk
`QuerySet.update()` (hold expiry, travel blocks recomputed around a visit) bypass model signals
and are not in the trail; everything a person does goes through `save()`.

Reading. `record_view(*, user, patient, what)` adds a `PatientRecordView` row. The middleware
here writes one whenever a staff member or clinician opens a page of admin that shows one
patient's record (the pages are listed in `PATIENT_RECORD_PAGES`); the nurse's visit page
calls `record_view` itself.

Who may read the trail: a person sees the entries of the models they may view in admin (a
scheduler sees visits and payments, never clearances or charts), and clinical fields of the
patient profile only when clinical (as the patient admin does).
"""

import logging
from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from .models import PatientRecordView, Role, User

logger = logging.getLogger(__name__)

# label, options for auditlog.register. A label whose app is not installed (yet) is skipped.
AUDITED: tuple[tuple[str, dict[str, Any]], ...] = (
    # Logins and roles: the role is the groups; the password hash never goes into the trail.
    ("concierge.User", {"exclude_fields": ["password", "last_login"], "m2m_fields": {"groups"}}),
    # Patients and their clinical record.
    ("patients.PatientProfile", {}),
    ("patients.IntakeResponse", {}),
    ("patients.TriageResult", {}),
    ("patients.ScreeningResponse", {}),
    ("patients.SafetyAlert", {}),
    ("patients.Clearance", {}),
    # Visits.
    ("booking.Visit", {}),
    ("booking.Series", {}),
    ("booking.SafetyHold", {}),
    ("booking.TimeWaitlistEntry", {}),
    ("booking.TimeOffer", {}),
    # Money. The client secret of a payment is a credential for the patient's browser: never kept.
    ("payments.Payment", {"exclude_fields": ["client_secret"]}),
    ("payments.PaymentAllocation", {}),
    ("payments.Refund", {}),
    # The roster.
    ("roster.Provider", {}),
    ("roster.Licence", {}),
    ("roster.WeeklyShift", {}),
    ("roster.DateOverride", {}),
    ("roster.TimeOff", {}),
    ("patients.ConsentDocument", {}),
    ("patients.ConsentText", {}),
    ("patients.ConsentSignature", {}),
    ("roster.OnCallShift", {}),
    ("roster.OnCallPage", {}),
    ("portal.PublicHoliday", {}),
    # Visit charts (issue 7).
    ("nurses.VisitChart", {}),
    ("nurses.VitalsReading", {}),
    ("nurses.DoseRecord", {}),
    ("nurses.AdverseEvent", {}),
    ("nurses.DischargeChecklist", {}),
    ("nurses.ChartAmendment", {}),
    ("nurses.ProtocolOverride", {}),
)

# Fields of otherwise non-clinical records that only clinicians (and superusers) see in the trail,
# as in the patient admin.
CLINICAL_FIELDS = {
    "patients.patientprofile": {"weight_kg", "weight_unit", "safety_review_required"},
}


def _model(label):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def audit_register():
    """Register every model in AUDITED with django-auditlog (once; called from ConciergeConfig.ready)."""
    registered = []
    for label, options in AUDITED:
        model = _model(label)
        if model is None:
            logger.info("audit: %s is not installed; not audited", label)
            continue
        if not auditlog.contains(model):
            options = dict(options)
            # The model's own columns only: reverse relations ("the visit's messages") are not its data.
            excluded = set(options.get("exclude_fields", ()))
            options.setdefault(
                "include_fields", [f.name for f in model._meta.concrete_fields if f.name not in excluded]
            )
            auditlog.register(model, **options)
        registered.append(model)
    return registered


def audited_models():
    return [m for m in (_model(label) for label, _options in AUDITED) if m is not None]


def is_clinical_viewer(user):
    return bool(user.is_superuser or user.has_role(Role.CLINICIAN))


def visible_content_types(user):
    """The content types whose audit entries this person may read: those they may view in admin."""
    models = [m for m in audited_models() if user.is_superuser or user.has_perm(_view_permission(m))]
    return list(ContentType.objects.get_for_models(*models).values()) if models else []


def _view_permission(model):
    return f"{model._meta.app_label}.view_{model._meta.model_name}"


def hidden_fields_for(user, log_entry):
    if is_clinical_viewer(user):
        return set()
    ct = log_entry.content_type
    return CLINICAL_FIELDS.get(f"{ct.app_label}.{ct.model}", set())


def log_entries_for(obj):
    """The audit entries of one object, newest first (with who)."""
    return LogEntry.objects.get_for_object(obj).select_related("actor").order_by("-timestamp", "-pk")


# --- who viewed a patient's record ----------------------------------------------------------------


def record_view(*, user, patient, what, path=""):
    """Note that `user` opened `patient`'s record (`what`: which page, in a few words).

    Nothing is written for an anonymous user, or for patients looking at their own record. Each
    opening is one row: the log answers "who looked, and when", so a second look is a second row.
    """
    if user is None or not user.is_authenticated or patient is None:
        return None
    patient_id = getattr(patient, "pk", patient)
    if patient_id is None or patient_id == user.pk:
        return None
    row = PatientRecordView(viewer=user, patient_id=patient_id, what=str(what)[:120], path=(path or "")[:300])
    # The two keys were just read from the database (or are the request's user): skip their lookups.
    row.full_clean(exclude=["viewer", "patient"])
    row.save()
    return row


# Admin pages that show one patient's record: url name -> (model label, path to the patient's id,
# what it is). "patients_clearance_add" is the clinician's review screen (?patient=<id>).
PATIENT_RECORD_PAGES = {
    "concierge_user_change": ("concierge.User", "pk", _("account in admin")),
    "patients_patientprofile_change": ("patients.PatientProfile", "user_id", _("patient details in admin")),
    "patients_clearance_add": (None, None, _("clinician review screen")),
    "patients_clearance_change": ("patients.Clearance", "patient_id", _("clearance decision in admin")),
    "patients_intakeresponse_change": ("patients.IntakeResponse", "patient_id", _("health questions in admin")),
    "patients_screeningresponse_change": ("patients.ScreeningResponse", "patient_id", _("questionnaire in admin")),
    "patients_safetyalert_change": ("patients.SafetyAlert", "patient_id", _("safety alert in admin")),
    "booking_visit_change": ("booking.Visit", "patient_id", _("visit in admin")),
    "nurses_visitchart_change": ("nurses.VisitChart", "visit__patient_id", _("visit chart in admin")),
    "payments_payment_change": ("payments.Payment", "patient_id", _("payment in admin")),
}


def _patient_of_page(request, url_name, kwargs):
    label, field, _what = PATIENT_RECORD_PAGES[url_name]
    if label is None:
        raw = request.GET.get("patient", "")
        return int(raw) if raw.isdigit() and User.objects.filter(pk=raw, groups__name=Role.PATIENT).exists() else None
    model = _model(label)
    object_id = kwargs.get("object_id", "")
    if model is None or not str(object_id).isdigit():
        return None
    rows = model._default_manager.filter(pk=object_id)
    if label == "concierge.User":
        rows = rows.filter(groups__name=Role.PATIENT)
    return rows.values_list(field, flat=True).first()


class PatientRecordViewMiddleware:
    """Writes a PatientRecordView when staff open a page of admin that shows one patient's record."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        if (
            match is not None
            and match.namespace == "admin"
            and match.url_name in PATIENT_RECORD_PAGES
            and request.method == "GET"
            and response.status_code == 200
            and user is not None
            and user.is_authenticated
            and user.is_staff
        ):
            try:
                patient_id = _patient_of_page(request, match.url_name, match.kwargs)
                if patient_id is not None:
                    record_view(
                        user=user,
                        patient=patient_id,
                        what=PATIENT_RECORD_PAGES[match.url_name][2],
                        path=request.path,
                    )
            except Exception:
                # The page was shown; a failure to log the reading must be seen, not shown to the user.
                logger.exception("audit: could not record a patient record view on %s", match.url_name)
        return response
