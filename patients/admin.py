"""Clinicians' side of patients in Django admin: the review queue, clearances, safety alerts, and
read-only views of intake answers and questionnaires.

Who sees what is decided by the permissions in concierge/roles.py: clinical records (intake,
questionnaires, safety alerts, clearances with their diagnosis) are for clinicians; schedulers
(the staff role) see patients' contact details only. Clearances are recorded by clinicians and
never edited: a new decision is a new row. Writes go through patients/services.py.
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from concierge.errors import ApplicationError
from concierge.models import Role, User

from . import selectors, services
from .instruments import band_label
from .intake import answers_for_display
from .models import (
    Clearance,
    ClearanceDecision,
    FollowUpCheckIn,
    IntakeResponse,
    IntakeStatus,
    MessageThread,
    PatientProfile,
    ReviewQueueEntry,
    SafetyAlert,
    ScreeningResponse,
    ThreadTopic,
    TriageOutcome,
)
from .triage import rules_for_ids

REVIEW_MEDIA = {"css": {"all": ("patients/admin-review.css",)}}


def patient_label(user):
    name = user.get_full_name()
    return f"{name} ({user.email})" if name != user.email else user.email


def review_url(user):
    return reverse("admin:patients_clearance_add") + f"?patient={user.pk}"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records made by services: viewable with the view permission, never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- patients' details ---------------------------------------------------------------------------


@admin.register(PatientProfile)
class PatientProfileAdmin(ReadOnlyAdmin):
    list_display = ("full_legal_name", "user", "mobile_phone", "city", "state", "zip_code")
    list_filter = ("state",)
    search_fields = ("legal_first_name", "legal_last_name", "preferred_name", "user__email", "zip_code")
    list_select_related = ("user",)
    contact_fieldsets = (
        (None, {"fields": ("user", "legal_first_name", "legal_last_name", "preferred_name", "date_of_birth")}),
        (_("Contact"), {"fields": ("mobile_phone", "sms_opt_in", "sms_opt_in_changed_at", "terms_accepted_at")}),
        (
            _("Visit address"),
            {"fields": ("address_line1", "address_line2", "city", "state", "zip_code", "time_zone")},
        ),
        (
            _("People to call"),
            {
                "fields": (
                    "emergency_contact_name",
                    "emergency_contact_phone",
                    "emergency_contact_relationship",
                    "support_person_name",
                    "support_person_phone",
                )
            },
        ),
    )

    @admin.display(description=_("legal name"), ordering="legal_last_name")
    def full_legal_name(self, obj):
        return obj.full_legal_name or "—"

    def _clinical(self, request):
        return request.user.is_superuser or request.user.has_role(Role.CLINICIAN)

    account_fieldset = (_("Account"), {"fields": ("account_closed_at", "account_closed_reason")})
    actions = ["reopen_accounts"]

    def get_fieldsets(self, request, obj=None):
        if not self._clinical(request):
            return (*self.contact_fieldsets, self.account_fieldset)  # schedulers: no weight, no safety flag
        return (
            *self.contact_fieldsets,
            self.account_fieldset,
            (_("Clinical"), {"fields": ("weight_kg", "safety_review_required")}),
        )

    @admin.action(description=_("Reopen the selected closed accounts (the patient called)"))
    def reopen_accounts(self, request, queryset):
        from concierge.errors import ApplicationError

        from .data_rights import patient_account_reopen

        reopened = 0
        for profile in queryset.filter(account_closed_at__isnull=False).select_related("user"):
            try:
                patient_account_reopen(patient=profile.user, actor=request.user)
            except ApplicationError as error:
                self.message_user(request, error.message, level=messages.ERROR)
                return
            reopened += 1
        self.message_user(request, _("%(count)d account(s) reopened.") % {"count": reopened})

    def get_readonly_fields(self, request, obj=None):
        return [f for _name, opts in self.get_fieldsets(request, obj) for f in opts["fields"]]


# --- the review queue ------------------------------------------------------------------------------


class WorkFirstFilter(admin.SimpleListFilter):
    """A list that opens on the rows needing work (`default_label`), with one choice to see them all.

    Subclasses name the two choices and say which rows need work in `needing_work`.
    """

    title = _("show")
    parameter_name = "show"
    default_label = ""
    all_label = ""

    def lookups(self, request, model_admin):
        return (("all", self.all_label),)

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": self.default_label,
        }
        yield from list(super().choices(changelist))[1:]  # Django's own "All" is the default above

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return self.needing_work(queryset)

    def needing_work(self, queryset):
        raise NotImplementedError


class WaitingFilter(WorkFirstFilter):
    default_label = _("Waiting for review")
    all_label = _("All patients")

    def needing_work(self, queryset):
        return selectors.review_queue_waiting(queryset)


@admin.register(ReviewQueueEntry)
class ReviewQueueAdmin(ReadOnlyAdmin):
    list_display = ("review_link", "safety", "state", "intake_sent", "triage", "last_decision")
    list_display_links = None
    list_filter = (WaitingFilter,)
    search_fields = ("legal_first_name", "legal_last_name", "user__email")

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": _("Patients waiting for a clinician"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def get_ordering(self, request):
        # Annotations from selectors.review_queue: open safety alerts first, then flagged check-ins,
        # then the longest waiting.
        return selectors.REVIEW_QUEUE_ORDER

    def get_queryset(self, request):
        # Annotate first: the ordering reads the annotations.
        return selectors.review_queue(self.model._default_manager.all(), waiting_only=False)

    @admin.display(description=_("patient"))
    def review_link(self, obj):
        return format_html('<a href="{}">{}</a>', review_url(obj.user), patient_label(obj.user))

    @admin.display(description=_("safety"), ordering="-has_open_alert")
    def safety(self, obj):
        if obj.has_open_alert:
            return format_html('<strong class="review-alert">{}</strong>', _("Open safety alert"))
        if getattr(obj, "has_checkin_to_review", False):
            return format_html('<strong class="review-alert">{}</strong>', _("Check-in to review"))
        return "—"

    @admin.display(description=_("intake sent"), ordering="intake_sent_at")
    def intake_sent(self, obj):
        return obj.intake_sent_at or "—"

    @admin.display(description=_("triage"))
    def triage(self, obj):
        return TriageOutcome(obj.triage_outcome).label if obj.triage_outcome else "—"

    @admin.display(description=_("last decision"))
    def last_decision(self, obj):
        if not obj.decision:
            return _("None yet")
        return f"{ClearanceDecision(obj.decision).label} ({obj.decided_at:%Y-%m-%d})"

    class Media:
        css = REVIEW_MEDIA["css"]


# --- clearances -----------------------------------------------------------------------------------


class ClearanceForm(forms.ModelForm):
    clinician = None  # the person deciding; set by ClearanceAdmin.get_form

    class Meta:
        model = Clearance
        fields = (
            "patient",
            "diagnosis",
            "decision",
            "note",
            "infusions_planned",
            "dose_mg_per_kg",
            "infusion_minutes",
            "min_hours_between",
            "series_window_days",
            "expires_on",
            "evaluation",
        )
        help_texts = {
            "evaluation": _("The video evaluation this decision was made at, if any."),
            "note": _("Required when declining or asking for more information. Patients do not see this note."),
            "expires_on": _("After this day no new infusion can be booked without a new decision."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "patient" in self.fields:
            self.fields["patient"].queryset = User.objects.filter(groups__name=Role.PATIENT).order_by(
                "last_name", "first_name", "email"
            )
            self.fields["patient"].label_from_instance = patient_label
        if "expires_on" in self.fields and not self.initial.get("expires_on"):
            self.initial["expires_on"] = timezone.localdate() + timedelta(days=settings.CLEARANCE_DEFAULT_VALID_DAYS)
        if "evaluation" in self.fields:
            # Only the chosen patient's video evaluations (issue 10).
            raw = self.data.get("patient") if self.is_bound else self.initial.get("patient")
            patient_id = int(raw) if str(raw or "").isdigit() else None
            self.fields["evaluation"].queryset = evaluations_of(patient_id)
            self.fields["evaluation"].label_from_instance = evaluation_label

    def clean(self):
        cleaned = super().clean()
        patient, decision = cleaned.get("patient"), cleaned.get("decision")
        if patient and decision:
            problem = services.clearance_problem(patient=patient, decision=decision, clinician=self.clinician)
            if problem:
                raise ValidationError(problem)
        evaluation = cleaned.get("evaluation")
        if evaluation is not None and patient is not None and evaluation.patient_id != patient.pk:
            self.add_error("evaluation", _("That visit is not this patient's evaluation."))
        return cleaned


def evaluations_of(patient_id):
    from booking.models import Visit, VisitStatus

    if patient_id is None:
        return Visit.objects.none()
    return (
        Visit.objects.filter(patient_id=patient_id, service__is_telehealth=True)
        .exclude(status__in=(VisitStatus.HELD, VisitStatus.EXPIRED, VisitStatus.CANCELLED))
        .order_by("-starts_at")
    )


def evaluation_label(visit):
    from booking.templatetags.booking_tags import visit_day_short, visit_time

    when = f"{visit_day_short(visit.starts_at, visit.time_zone)}, {visit_time(visit.starts_at, visit.time_zone)}"
    return f"{when} ({visit.get_status_display()})"


@admin.register(Clearance)
class ClearanceAdmin(admin.ModelAdmin):
    form = ClearanceForm
    change_form_template = "admin/patients/clearance/change_form.html"
    list_display = ("patient_name", "decision", "diagnosis", "expires_on", "clinician", "decided_at")
    list_filter = ("decision", "diagnosis")
    search_fields = ("patient__email", "patient__first_name", "patient__last_name")
    list_select_related = ("patient", "clinician")
    date_hierarchy = "decided_at"
    fieldsets = (
        (None, {"fields": ("patient", "evaluation", "diagnosis", "decision", "note")}),
        (
            _("Treatment plan (when cleared)"),
            {
                "fields": (
                    "infusions_planned",
                    "dose_mg_per_kg",
                    "infusion_minutes",
                    "min_hours_between",
                    "series_window_days",
                    "expires_on",
                )
            },
        ),
    )
    view_fieldsets = (
        *fieldsets,
        (_("Decided"), {"fields": ("clinician", "decided_at", "intake")}),
    )

    class Media:
        css = REVIEW_MEDIA["css"]

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_name(self, obj):
        return patient_label(obj.patient)

    def has_add_permission(self, request):
        # A decision is a clinical act: the permission and the clinician role, superuser or not.
        return super().has_add_permission(request) and request.user.has_role(Role.CLINICIAN)

    def has_change_permission(self, request, obj=None):
        return False  # decisions are never edited; a new decision is a new row

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fieldsets(self, request, obj=None):
        return self.view_fieldsets if obj is not None else self.fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.clinician = request.user
        return form

    def _summary_patient(self, request, obj):
        if obj is not None:
            return obj.patient
        raw = request.POST.get("patient") or request.GET.get("patient")
        if raw and str(raw).isdigit():
            return User.objects.filter(pk=raw, groups__name=Role.PATIENT).first()
        return None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id) if object_id else None
        patient = self._summary_patient(request, obj)
        if patient is not None:
            extra_context["review"] = selectors.review_summary_for(patient=patient)
            extra_context["evaluation_visit"] = self._evaluation_visit(request, obj, patient)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _evaluation_visit(self, request, obj, patient):
        """The video evaluation under review (issue 10), with its join button for its clinician."""
        from booking import telehealth

        visit = obj.evaluation if obj is not None else None
        raw = request.POST.get("evaluation") or request.GET.get("evaluation")
        if visit is None and raw and str(raw).isdigit():
            visit = evaluations_of(patient.pk).filter(pk=raw).select_related("service", "provider").first()
        if visit is None:
            return None
        mine = visit.provider_id is not None and visit.provider.user_id == request.user.pk
        return {"visit": visit, "join": telehealth.join_state(visit=visit), "mine": mine}

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        clearance = services.clearance_record(
            patient=data["patient"],
            clinician=request.user,
            diagnosis=data["diagnosis"],
            decision=data["decision"],
            note=data.get("note", ""),
            infusions_planned=data["infusions_planned"],
            dose_mg_per_kg=data["dose_mg_per_kg"],
            infusion_minutes=data["infusion_minutes"],
            min_hours_between=data["min_hours_between"],
            series_window_days=data["series_window_days"],
            expires_on=data.get("expires_on"),
            evaluation=data.get("evaluation"),
        )
        obj.pk = clearance.pk
        obj.__dict__.update({k: v for k, v in clearance.__dict__.items() if not k.startswith("_")})


# --- safety alerts --------------------------------------------------------------------------------


class SafetyAlertForm(forms.ModelForm):
    action = forms.ChoiceField(
        label=_("What are you doing?"),
        choices=(
            ("acknowledge", _("I have seen this and am dealing with it")),
            ("resolve", _("Resolved: I have spoken with the patient (note required)")),
        ),
        widget=forms.RadioSelect,
    )

    class Meta:
        model = SafetyAlert
        fields = ("resolution_note",)
        help_texts = {"resolution_note": _("What was done, and the plan. Kept in the patient's record.")}

    def clean(self):
        cleaned = super().clean()
        if self.instance.resolved_at is not None:
            raise ValidationError(_("This alert was already resolved."))
        if cleaned.get("action") == "resolve" and not (cleaned.get("resolution_note") or "").strip():
            self.add_error("resolution_note", _("Say what was done, for the patient's record."))
        return cleaned


class OpenFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (("open", _("Open")), ("resolved", _("Resolved")))

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(SafetyAlert)
class SafetyAlertAdmin(admin.ModelAdmin):
    form = SafetyAlertForm
    list_display = ("__str__", "patient_name", "created_at", "status", "acknowledged_by", "resolved_by")
    list_filter = (OpenFilter,)
    list_select_related = ("patient", "acknowledged_by", "resolved_by")
    search_fields = ("patient__email", "patient__first_name", "patient__last_name")
    readonly_fields = (
        "patient_contact",
        "reason",
        "source",
        "created_at",
        "notified_at",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
        "resolved_by",
        "review",
    )

    class Media:
        css = REVIEW_MEDIA["css"]

    @admin.display(description=_("patient"))
    def patient_name(self, obj):
        return patient_label(obj.patient)

    @admin.display(description=_("status"))
    def status(self, obj):
        if obj.resolved_at:
            return _("Resolved")
        if obj.acknowledged_at:
            return _("Acknowledged")
        return format_html('<strong class="review-alert">{}</strong>', _("Open"))

    @admin.display(description=_("patient and who to call"))
    def patient_contact(self, obj):
        profile = selectors.profile_get(patient=obj.patient)
        if profile is None:
            return patient_label(obj.patient)
        name = profile.full_legal_name or obj.patient.get_full_name()
        if profile.preferred_name and profile.preferred_name != profile.legal_first_name:
            name = f'{name} ("{profile.preferred_name}")'
        return format_html(
            "{} ({})<br>{}: {}<br>{}: {} {} ({})<br>{}: {}",
            name,
            obj.patient.email,
            _("Mobile"),
            profile.mobile_phone.as_national if profile.mobile_phone else "—",
            _("Emergency contact"),
            profile.emergency_contact_name or "—",
            profile.emergency_contact_phone.as_national if profile.emergency_contact_phone else "",
            profile.emergency_contact_relationship or "—",
            _("Time zone"),
            profile.time_zone or "—",
        )

    @admin.display(description=_("from"))
    def source(self, obj):
        """The message or check-in whose words raised it (issue 10), or the questionnaire."""
        if obj.message_id:
            url = reverse("patients:staff_thread", args=[obj.message.thread_id])
            return format_html('<a href="{}">{}</a>', url, _("Open the conversation"))
        if obj.checkin_id:
            url = reverse("admin:patients_followupcheckin_change", args=[obj.checkin_id])
            return format_html('<a href="{}">{}</a>', url, _("Open the check-in"))
        if obj.screening_id:
            url = reverse("admin:patients_screeningresponse_change", args=[obj.screening_id])
            return format_html('<a href="{}">{}</a>', url, obj.screening)
        return "—"

    @admin.display(description=_("review"))
    def review(self, obj):
        return format_html('<a href="{}">{}</a>', review_url(obj.patient), _("Open this patient's review screen"))

    def get_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.resolved_at is None and self.has_change_permission(request, obj):
            return [*fields, "action", "resolution_note"]
        return [*fields, "resolution_note"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.resolved_at is None and self.has_change_permission(request, obj):
            return self.readonly_fields
        return (*self.readonly_fields, "resolution_note")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Acknowledging and resolving are clinical acts: clinicians only.
        return super().has_change_permission(request, obj) and request.user.has_role(Role.CLINICIAN)

    def save_model(self, request, obj, form, change):
        try:
            if form.cleaned_data["action"] == "resolve":
                services.safety_alert_resolve(
                    alert=obj, clinician=request.user, note=form.cleaned_data["resolution_note"]
                )
            else:
                services.safety_alert_acknowledge(alert=obj, clinician=request.user)
        except (ApplicationError, ValidationError) as error:
            messages.error(request, getattr(error, "message", None) or "; ".join(error.messages))
        obj.refresh_from_db()


# --- intake and questionnaires (read only) ----------------------------------------------------------


@admin.register(IntakeResponse)
class IntakeResponseAdmin(ReadOnlyAdmin):
    list_display = ("patient_name", "version", "submitted_at", "outcome", "questionnaire_version")
    list_select_related = ("patient", "triage")
    search_fields = ("patient__email", "patient__first_name", "patient__last_name")
    fields = ("patient", "version", "questionnaire_version", "submitted_at", "triage_rules", "answers_table")
    readonly_fields = fields

    class Media:
        css = REVIEW_MEDIA["css"]

    def get_queryset(self, request):
        # Drafts are the patient's work in progress, not part of the record yet.
        return super().get_queryset(request).filter(status=IntakeStatus.SUBMITTED)

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_name(self, obj):
        return patient_label(obj.patient)

    @admin.display(description=_("triage"))
    def outcome(self, obj):
        triage = getattr(obj, "triage", None)
        return triage.get_outcome_display() if triage else "—"

    @admin.display(description=_("rules that fired"))
    def triage_rules(self, obj):
        triage = getattr(obj, "triage", None)
        if triage is None:
            return "—"
        rows = format_html_join(
            "",
            "<li><strong>{}</strong> ({}): {}</li>",
            ((rule.id, rule.outcome, rule.staff_text) for rule in rules_for_ids(triage.fired_rules)),
        )
        return format_html(
            "{} — {} {}<ul>{}</ul>", triage.get_outcome_display(), _("rules version"), triage.rules_version, rows
        )

    @admin.display(description=_("answers"))
    def answers_table(self, obj):
        parts = []
        for section, rows in answers_for_display(obj.answers):
            body = format_html_join(
                "", "<tr><th scope='row'>{}</th><td>{}</td></tr>", ((q.label, a or "—") for q, a in rows)
            )
            parts.append(format_html("<h3>{}</h3><table class='review-answers'>{}</table>", section.title, body))
        return format_html_join("", "{}", ((p,) for p in parts))


@admin.register(ScreeningResponse)
class ScreeningResponseAdmin(ReadOnlyAdmin):
    list_display = ("patient_name", "instrument", "total", "band_words", "submitted_at", "seconds_taken")
    list_filter = ("instrument",)
    list_select_related = ("patient",)
    search_fields = ("patient__email", "patient__first_name", "patient__last_name")
    fields = (
        "patient",
        "instrument",
        "total",
        "band_words",
        "provisional_positive",
        "subscores",
        "started_at",
        "submitted_at",
        "seconds_taken",
        "items_table",
    )
    readonly_fields = fields

    class Media:
        css = REVIEW_MEDIA["css"]

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_name(self, obj):
        return patient_label(obj.patient)

    @admin.display(description=_("band"))
    def band_words(self, obj):
        return band_label(obj.instrument, obj.band)

    @admin.display(description=_("answers"))
    def items_table(self, obj):
        definition = obj.definition
        rows = [
            (number, text, answer, definition.option_label(answer))
            for number, (text, answer) in enumerate(zip(definition.items, obj.item_answers, strict=True), start=1)
        ]
        body = format_html_join("", "<tr><td>{}</td><th scope='row'>{}</th><td>{} — {}</td></tr>", rows)
        return format_html("<table class='review-answers'>{}</table>", body)


# --- the care-team portal (issue 10): message threads and follow-up check-ins --------------------


class ThreadQueueFilter(admin.SimpleListFilter):
    title = _("reply")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return (("overdue", _("Overdue for a reply")), ("yes", _("Waiting for a reply")), ("no", _("Answered")))

    def queryset(self, request, queryset):
        from .messaging_selectors import reply_due_within, threads_awaiting_reply

        if self.value() == "overdue":
            return queryset.filter(pk__in=threads_awaiting_reply(older_than=reply_due_within()).values("pk"))
        if self.value() == "yes":
            return queryset.filter(waiting_since__isnull=False)
        if self.value() == "no":
            return queryset.filter(waiting_since__isnull=True)
        return queryset


@admin.register(MessageThread)
class MessageThreadAdmin(ReadOnlyAdmin):
    """The patients' message threads; reading and answering happen on the staff inbox page.

    Schedulers see every thread and how long it has waited, but a thread about the patient's
    health shows them no subject (clinical content is for clinicians).
    """

    list_display = ("thread_link", "patient_name", "topic", "urgent", "waited", "answered_by", "answered_at")
    list_display_links = None
    list_filter = (ThreadQueueFilter, "topic", "urgent")
    search_fields = ("patient__email", "patient__first_name", "patient__last_name")
    list_select_related = ("patient", "answered_by")

    def get_ordering(self, request):
        return ("-urgent", F("waiting_since").asc(nulls_last=True), "-last_message_at")

    def get_queryset(self, request):
        from django.db.models import BooleanField, Case, Value, When

        from .messaging_selectors import may_answer_health, may_answer_logistics

        # Whether the person looking may open each thread (messaging_selectors.may_answer, as a column).
        health, logistics = may_answer_health(request.user), may_answer_logistics(request.user)
        can_open = Case(
            When(topic=ThreadTopic.HEALTH, then=Value(health)),
            default=Value(logistics),
            output_field=BooleanField(),
        )
        return super().get_queryset(request).annotate(viewer_can_open=can_open)

    @admin.display(description=_("conversation"))
    def thread_link(self, obj):
        if not obj.viewer_can_open:
            return format_html("<em>{}</em>", _("About the patient's health: for a clinician"))
        return format_html('<a href="{}">{}</a>', reverse("patients:staff_thread", args=[obj.pk]), obj.subject)

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_name(self, obj):
        return patient_label(obj.patient)

    @admin.display(description=_("waiting (working hours)"), ordering="waiting_since")
    def waited(self, obj):
        from .messaging_selectors import reply_due_within, waited_working_hours

        hours = waited_working_hours(obj)
        if hours is None:
            return "—"
        if hours >= reply_due_within().total_seconds() / 3600:
            return format_html('<strong class="review-alert">{} h</strong>', hours)
        return f"{hours} h"

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": _("Patient messages (answer them on the staff inbox page)"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # One place to read and answer: the staff inbox page (it checks who may open the thread).
        if str(object_id).isdigit():
            from django.shortcuts import redirect

            return redirect("patients:staff_thread", pk=object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    class Media:
        css = REVIEW_MEDIA["css"]


class CheckInReviewFilter(WorkFirstFilter):
    default_label = _("To review (worrying, not yet reviewed)")
    all_label = _("All check-ins")

    def needing_work(self, queryset):
        return queryset.filter(reviewed_at__isnull=True).exclude(flags=[])


class CheckInReviewForm(forms.ModelForm):
    mark_reviewed = forms.BooleanField(label=_("I have reviewed this check-in and done what it needs"), required=True)

    class Meta:
        model = FollowUpCheckIn
        fields = ()


@admin.register(FollowUpCheckIn)
class FollowUpCheckInAdmin(admin.ModelAdmin):
    """Check-ins the day after an infusion; the worrying ones are the clinicians' queue."""

    form = CheckInReviewForm
    list_display = ("__str__", "patient_name", "submitted_at", "feeling", "flag_words", "reviewed_by")
    list_filter = (CheckInReviewFilter,)
    list_select_related = ("patient", "reviewed_by")
    search_fields = ("patient__email", "patient__first_name", "patient__last_name")
    readonly_fields = (
        "patient_name",
        "visit",
        "submitted_at",
        "feeling",
        "side_effect_list",
        "side_effect_severity",
        "other_side_effect",
        "questionnaires",
        "flag_words",
        "reviewed_at",
        "reviewed_by",
    )

    class Media:
        css = REVIEW_MEDIA["css"]

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": _("Follow-up check-ins"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_name(self, obj):
        return format_html('<a href="{}">{}</a>', review_url(obj.patient), patient_label(obj.patient))

    @admin.display(description=_("visit"))
    def visit(self, obj):
        from booking.templatetags.booking_tags import visit_day_short, visit_time

        visit = obj.visit
        when = f"{visit_day_short(visit.starts_at, visit.time_zone)}, "
        return when + visit_time(visit.starts_at, visit.time_zone)

    @admin.display(description=_("side effects"))
    def side_effect_list(self, obj):
        return ", ".join(obj.side_effect_labels) or _("None")

    @admin.display(description=_("questionnaires"))
    def questionnaires(self, obj):
        rows = [
            (
                reverse("admin:patients_screeningresponse_change", args=[r.pk]),
                r.definition.name,
                r.total,
                r.definition.max_total,
            )
            for r in (obj.phq9, obj.pcl5)
            if r is not None
        ]
        if not rows:
            return _("None due")
        return format_html_join(", ", '<a href="{}">{}: {} / {}</a>', rows)

    @admin.display(description=_("needs a look because"))
    def flag_words(self, obj):
        if not obj.flags:
            return "—"
        return format_html('<strong class="review-alert">{}</strong>', "; ".join(obj.flag_labels))

    def get_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.flags and obj.reviewed_at is None and self.has_change_permission(request, obj):
            return [*fields, "mark_reviewed"]
        return fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Marking a check-in reviewed is a clinical act: clinicians only.
        return super().has_change_permission(request, obj) and request.user.has_role(Role.CLINICIAN)

    def save_model(self, request, obj, form, change):
        from .checkins import checkin_mark_reviewed

        try:
            checkin_mark_reviewed(checkin=obj, clinician=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        obj.refresh_from_db()
