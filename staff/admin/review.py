"""The clinicians' review in admin: the queue of patients waiting for a decision, and recording a
clearance (with the video evaluation it concludes). Writes go through patients/services.py.
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from booking import evaluations, telehealth
from booking.models import Visit, VisitStatus
from booking.templatetags.booking_tags import visit_day_short, visit_time
from concierge.admin import ShownColumnsAdmin
from concierge.errors import ApplicationError
from concierge.models import Role, User
from nurses import protocol
from patients import services
from patients.admin import (
    REVIEW_MEDIA,
    ReadOnlyAdmin,
    WorkFirstFilter,
    may_review,
    patient_label,
    review_column,
    review_url,
)
from patients.models import (
    Clearance,
    ClearanceDecision,
    ReviewQueueEntry,
    TriageOutcome,
)
from staff import review


class WaitingFilter(WorkFirstFilter):
    default_label = _("Waiting for review")
    all_label = _("All patients")

    def needing_work(self, queryset):
        return review.review_queue_waiting(queryset)


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
        return review.REVIEW_QUEUE_ORDER

    def get_queryset(self, request):
        # Annotate first: the ordering reads the annotations.
        return review.review_queue(self.model._default_manager.all(), waiting_only=False)

    def get_list_display(self, request):
        # The name opens the review screen for those who may decide; anyone else reads it.
        return review_column(request, super().get_list_display(request), "review_link")

    @admin.display(description=_("patient"))
    def review_link(self, obj):
        return format_html('<a href="{}">{}</a>', review_url(obj.user), patient_label(obj.user))

    @admin.display(description=_("patient"))
    def patient_unlinked(self, obj):
        return patient_label(obj.user)

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
    evaluation_took_place = forms.BooleanField(
        label=_("The video evaluation took place"),
        required=False,
        help_text=_("Tick once you have seen the patient by video: recording the decision completes the visit."),
    )

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
            "in_person_evaluated_on",
        )
        help_texts = {
            "evaluation": _("The video evaluation this decision was made at (it must be completed to clear)."),
            "in_person_evaluated_on": _("Or, when you evaluated the patient in person, the day you did."),
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
        # Field errors first (shown beside the fields), then the gate's list of what is missing.
        self._dose_cap_check(cleaned)
        evaluation = cleaned.get("evaluation")
        if evaluation is not None and patient is not None and evaluation.patient_id != patient.pk:
            self.add_error("evaluation", _("That visit is not this patient's evaluation."))
        elif patient and decision:
            # The clearance gate (issue 15): everything missing, listed, instead of saving.
            missing = evaluations.clearance_missing(
                patient=patient,
                decision=decision,
                evaluation=evaluation,
                in_person_evaluated_on=cleaned.get("in_person_evaluated_on"),
                evaluation_took_place=bool(cleaned.get("evaluation_took_place")),
            )
            if missing:
                raise ValidationError([_("Before clearing this patient:"), *missing])
        return cleaned

    def _dose_cap_check(self, cleaned):
        """The medical director's dose cap (nurses/protocol.py): no plan above it, whatever the weight."""
        if cleaned.get("decision") != ClearanceDecision.CLEARED:
            return
        mg_per_kg, patient = cleaned.get("dose_mg_per_kg"), cleaned.get("patient")
        if mg_per_kg is None:
            return
        if mg_per_kg > protocol.DOSE_MAX_MG_PER_KG:
            self.add_error(
                "dose_mg_per_kg",
                _("At most %(max)s mg/kg (the protocol's maximum).") % {"max": protocol.DOSE_MAX_MG_PER_KG},
            )
            return
        profile = getattr(patient, "patient_profile", None) if patient is not None else None
        weight = getattr(profile, "weight_kg", None)
        if weight and protocol.dose_mg(weight, mg_per_kg) > protocol.DOSE_MAX_TOTAL_MG:
            self.add_error(
                "dose_mg_per_kg",
                _(
                    "%(mgkg)s mg/kg at the patient's %(kg)s kg is %(dose)s mg, above the protocol's maximum of "
                    "%(max)s mg per infusion."
                )
                % {
                    "mgkg": mg_per_kg,
                    "kg": weight,
                    "dose": protocol.dose_mg(weight, mg_per_kg),
                    "max": protocol.DOSE_MAX_TOTAL_MG,
                },
            )


class ClearanceRevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the clearance revoked?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("Kept on the clearance. The patient is told only that the care team will call."),
        error_messages={"required": _("Say why, for the patient's record.")},
    )


def evaluations_of(patient_id):
    if patient_id is None:
        return Visit.objects.none()
    return (
        Visit.objects.filter(patient_id=patient_id, service__is_telehealth=True)
        .exclude(status__in=(VisitStatus.HELD, VisitStatus.EXPIRED, VisitStatus.CANCELLED))
        .order_by("-starts_at")
    )


def evaluation_label(visit):
    when = f"{visit_day_short(visit.starts_at, visit.time_zone)}, {visit_time(visit.starts_at, visit.time_zone)}"
    return f"{when} ({visit.get_status_display()})"


@admin.register(Clearance)
class ClearanceAdmin(ShownColumnsAdmin):
    form = ClearanceForm
    change_form_template = "admin/patients/clearance/change_form.html"
    list_display = ("patient_name", "decision", "diagnosis", "expires_on", "clinician", "decided_at")
    list_filter = ("decision", "diagnosis")
    search_fields = ("patient__email", "patient__first_name", "patient__last_name")
    list_select_related = ("patient", "clinician")
    # Not the note or the dose: the list shows neither.
    list_columns = (
        "decision",
        "diagnosis",
        "expires_on",
        "decided_at",
        "patient__first_name",
        "patient__last_name",
        "patient__email",
        "clinician__email",
    )
    date_hierarchy = "decided_at"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "patient",
                    "evaluation",
                    "evaluation_took_place",
                    "in_person_evaluated_on",
                    "diagnosis",
                    "decision",
                    "note",
                )
            },
        ),
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
        (None, {"fields": ("patient", "evaluation", "in_person_evaluated_on", "diagnosis", "decision", "note")}),
        *fieldsets[1:],
        (_("Decided"), {"fields": ("clinician", "decided_at", "intake", "revoked_at", "revoked_reason")}),
    )

    class Media:
        css = REVIEW_MEDIA["css"]

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_name(self, obj):
        return patient_label(obj.patient)

    def has_add_permission(self, request):
        return may_review(request.user)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:object_id>/revoke/", view(self.revoke_view), name="patients_clearance_revoke"),
            *super().get_urls(),
        ]

    def revoke_view(self, request, object_id):
        """A clinician revokes a clearance with a reason: the patient's upcoming infusions go on hold."""
        clearance = get_object_or_404(Clearance.objects.select_related("patient"), pk=object_id)
        if not self.has_add_permission(request):  # the same clinical act as deciding
            raise PermissionDenied
        change_url = reverse("admin:patients_clearance_change", args=[clearance.pk])
        form = ClearanceRevokeForm(request.POST or None)
        problem = None
        if clearance.revoked_at is not None:
            problem = _("This clearance was already revoked.")
        elif clearance.decision != ClearanceDecision.CLEARED:
            problem = _("Only a clearance can be revoked; this decision did not clear the patient.")
        if request.method == "POST" and problem is None and form.is_valid():
            try:
                services.clearance_revoke(
                    clearance=clearance, clinician=request.user, reason=form.cleaned_data["reason"]
                )
            except (ApplicationError, ValidationError) as error:
                form.add_error(None, getattr(error, "message", None) or "; ".join(error.messages))
            else:
                self.message_user(
                    request,
                    _("The clearance is revoked. The patient's upcoming infusions are on hold."),
                    messages.SUCCESS,
                )
                return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Revoke a clearance"),
            "opts": self.model._meta,
            "original": clearance,
            "clearance": clearance,
            "patient": patient_label(clearance.patient),
            "form": form,
            "problem": problem,
            "back": change_url,
        }
        return TemplateResponse(request, "admin/patients/clearance/revoke.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        clearance = self.get_object(request, object_id)
        if (
            clearance is not None
            and clearance.decision == ClearanceDecision.CLEARED
            and clearance.revoked_at is None
            and self.has_add_permission(request)
        ):
            extra_context["revoke_url"] = reverse("admin:patients_clearance_revoke", args=[clearance.pk])
        return super().change_view(request, object_id, form_url, extra_context)

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
            extra_context["review"] = review.review_summary_for(patient=patient)
            extra_context["evaluation_visit"] = self._evaluation_visit(request, obj, patient)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _evaluation_visit(self, request, obj, patient):
        """The video evaluation under review (issue 10), with its join button for its clinician."""
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
        clearance = evaluations.clearance_decide(
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
            in_person_evaluated_on=data.get("in_person_evaluated_on"),
            evaluation_took_place=bool(data.get("evaluation_took_place")),
        )
        obj.pk = clearance.pk
        obj.__dict__.update({k: v for k, v in clearance.__dict__.items() if not k.startswith("_")})
