"""Roles are Django groups; this module says which permissions each one carries.

The table below is the single place to change what a role may do in admin. `roles_sync` runs
after every `migrate` and makes the groups match it (adding and removing permissions).
Permissions named here that do not exist yet (an app not migrated) are skipped.
"""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

from .models import Role

# The nurse's visit chart and everything in it: view only (admin shows it read-only).
CHART_VIEW_PERMISSIONS = [
    f"nurses.view_{model}"
    for model in (
        "visitchart",
        "vitalsreading",
        "doserecord",
        "adverseevent",
        "dischargechecklist",
        "chartamendment",
        "chartevent",
        "protocoloverride",
    )
]

ROLE_PERMISSIONS = {
    Role.PATIENT: [],
    Role.NURSE: [],
    Role.CLINICIAN: [
        "concierge.view_user",
        # Patients (issue 3): clinical records are for clinicians only. Clearances are added,
        # never changed; safety alerts are acknowledged and resolved ("change").
        "patients.view_patientprofile",
        "patients.view_reviewqueueentry",
        "patients.view_intakeresponse",
        "patients.view_screeningresponse",
        "patients.view_safetyalert",
        "patients.change_safetyalert",
        "patients.view_clearance",
        "patients.add_clearance",
        # Care-team portal (issue 10): clinicians read and answer every patient message thread
        # (health ones only they may), and review flagged follow-up check-ins ("change").
        "portal.view_messagethread",
        "portal.answer_health_thread",
        "portal.answer_logistics_thread",
        "portal.view_followupcheckin",
        "portal.change_followupcheckin",
        # Visit charts (issue 7): read in admin, never edited there (amendments come from the nurse).
        *CHART_VIEW_PERMISSIONS,
        # On call (issue 15): clinicians see the rota and acknowledge the alerts paged to them ("change").
        "roster.view_oncallshift",
        # Informed consent (issue 15): clinicians (the medical director) write and publish versions.
        # A version's texts, one per language (issue 19), are written with it while it is a draft.
        *(f"patients.{action}_consentdocument" for action in ("view", "add", "change")),
        *(f"patients.{action}_consenttext" for action in ("view", "add", "change", "delete")),
        "patients.view_consentsignature",
        "portal.view_publicholiday",
        "roster.view_oncallpage",
        "roster.change_oncallpage",
    ],
    Role.STAFF: [
        "concierge.view_user",
        "concierge.add_user",
        "concierge.change_user",
        # Patients: contact details and visit address only; no intake, questionnaires, safety
        # alerts or clearances (those carry clinical answers and diagnoses).
        "patients.view_patientprofile",
        # Care-team portal (issue 10): schedulers see the reply queue (every waiting thread and
        # how long it waited) and answer threads about visits, payments and the account; threads
        # about the patient's health (clinical content) are the clinicians'.
        "portal.view_messagethread",
        "portal.answer_logistics_thread",
        # Informed consent (issue 15): schedulers see who signed which version (not change it).
        "patients.view_consentdocument",
        "patients.view_consenttext",
        "patients.view_consentsignature",
        # Public holidays (issue 15): days the reply clock does not count; schedulers keep the table.
        *(f"portal.{action}_publicholiday" for action in ("view", "add", "change", "delete")),
        # Notifications: see every message (admin and /outbox/); "change" is the resend action.
        "notifications.view_message",
        "notifications.change_message",
        "notifications.view_smsoptout",
        "notifications.view_inboundsms",
        # Payments (issue 5): see payments, refunds and gateway events; refund with a reason.
        "payments.view_payment",
        "payments.view_paymentallocation",
        "payments.view_refund",
        "payments.view_webhookevent",
        "payments.refund_payment",
        # Booking and the roster (issue 4): providers with licences, shifts, overrides and time
        # off; services and areas; the waitlist. Visits are read-only in admin ("change" is the
        # cancel action): every change of time goes through the booking services.
        *(
            f"roster.{action}_{model}"
            for model in ("provider", "licence", "weeklyshift", "dateoverride", "timeoff", "oncallshift")
            for action in ("view", "add", "change", "delete")
        ),
        *(f"booking.{action}_{model}" for model in ("service", "servicearea") for action in ("view", "add", "change")),
        "booking.view_waitlistentry",
        "booking.change_waitlistentry",
        # The waitlist for freed times and its offers (issue 19): seen, never edited.
        "booking.view_timewaitlistentry",
        "booking.view_timeoffer",
        "booking.view_visit",
        "booking.change_visit",
        "booking.view_series",
        # The audit trail (issue 8): entries of the models this role may view (concierge/audit.py).
        "auditlog.view_logentry",
        # Visit charts (issue 7) are clinical answers: schedulers do not read them (issue 8); the
        # clinicians and managers do (CHART_VIEW_PERMISSIONS above and below).
    ],
}
# Managers (issue 8): everything schedulers do, the visit charts, the reports, the whole audit
# trail of what they may view, and who viewed patients' records. Not intake answers, scores,
# safety alerts or clearances (clinical answers are the clinicians').
ROLE_PERMISSIONS[Role.MANAGER] = [
    *ROLE_PERMISSIONS[Role.STAFF],
    *CHART_VIEW_PERMISSIONS,
    "concierge.view_reports",
    "concierge.view_patientrecordview",
    # On call (issue 15): managers watch whether urgent alerts are acknowledged in time.
    "roster.view_oncallpage",
]
# Clinicians also see the visits (their video evaluations, the board) and the audit trail of
# what they may view.
ROLE_PERMISSIONS[Role.CLINICIAN] += ["booking.view_visit", "booking.view_series", "auditlog.view_logentry"]
# Safety holds (issue 14): why a visit waits is clinical (an alert, a triage answer), so only
# clinicians read the holds; they release them from the visit's page (a clinical act, with a note).
# Schedulers and managers see the visit's status ("on hold") and may cancel it (refunded in full).
ROLE_PERMISSIONS[Role.CLINICIAN] += ["booking.view_safetyhold"]

# Roles that work in Django admin.
ADMIN_ROLES = {Role.STAFF, Role.CLINICIAN, Role.MANAGER}


def _permissions(names):
    wanted = {tuple(name.split(".", 1)) for name in names}
    perms = Permission.objects.select_related("content_type").filter(codename__in=[codename for _, codename in wanted])
    return [p for p in perms if (p.content_type.app_label, p.codename) in wanted]


def roles_sync():
    """Make every role group carry exactly the permissions in ROLE_PERMISSIONS."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set(_permissions(names))


def roles_sync_after_migrate(sender, using="default", **kwargs):
    # post_migrate fires once per app, and Django makes each app's permissions in its own
    # handler; make them all first so that the groups can be given permissions of any app.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    roles_sync()
