"""Clinicians' side of patients in Django admin: the review queue, clearances, safety alerts, and
read-only views of intake answers and questionnaires.

Who sees what is decided by the permissions in concierge/roles.py: clinical records (intake,
questionnaires, safety alerts, clearances with their diagnosis) are for clinicians; schedulers
(the staff role) see patients' contact details only. Clearances are recorded by clinicians and
never edited: a new decision is a new row. Writes go through patients/services.py.
"""

from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from concierge.admin import ShownColumnsAdmin, ValuesInUseFilter
from concierge.errors import ApplicationError
from concierge.models import Role

from . import selectors, services
from .instruments import band_label
from .intake import answers_for_display
from .models import (
    ConsentDocument,
    ConsentSignature,
    ConsentText,
    IntakeResponse,
    IntakeStatus,
    PatientProfile,
    SafetyAlert,
    ScreeningResponse,
)
from .triage import rules_for_ids

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

REVIEW_MEDIA = {"css": {"all": ("patients/admin-review.css",)}}


def patient_label(user):
    name = user.get_full_name()
    return f"{name} ({user.email})" if name != user.email else user.email


def review_url(user):
    return reverse("admin:patients_clearance_add") + f"?patient={user.pk}"


def may_review(user) -> bool:
    """Whether `user` may open a patient's review screen, where a clearance is decided: the
    permission and the clinician role, superuser or not (a decision is a clinical act). The screen
    answers everyone else 403, so links to it are drawn only for those who may."""
    return user.has_perm("patients.add_clearance") and user.has_role(Role.CLINICIAN)


def review_column(request, shown, linked):
    """A list's columns with `linked` (the patient, linked to their review screen) swapped for
    `patient_unlinked` (the name alone) for someone who may not review."""
    return shown if may_review(request.user) else tuple("patient_unlinked" if n == linked else n for n in shown)


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
class PatientProfileAdmin(ShownColumnsAdmin, ReadOnlyAdmin):
    list_display = ("full_legal_name", "user", "mobile_phone", "city", "state", "zip_code")
    list_filter = (("state", ValuesInUseFilter),)  # the states with patients, not all 59
    search_fields = ("legal_first_name", "legal_last_name", "preferred_name", "user__email", "zip_code")
    list_select_related = ("user",)
    # Not the birth date, weight, address line, the people to call or the safety flag.
    list_columns = (
        "legal_first_name",
        "legal_last_name",
        "preferred_name",
        "user__email",
        "mobile_phone",
        "city",
        "state",
        "zip_code",
    )
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
        reopened = 0
        for profile in queryset.filter(account_closed_at__isnull=False).select_related("user"):
            try:
                services.patient_account_reopen(patient=profile.user, actor=request.user)
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
    default_label: "str | StrPromise" = ""
    all_label: "str | StrPromise" = ""

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
        "words",
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
        if obj.patient is None:
            return _("Unknown number %(number)s") % {"number": obj.from_number}
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
        if obj.patient is None:
            # A text from a number no patient has (or several share): call it back.
            named = selectors.profile_list_by_phone(phone_number=obj.from_number)
            return format_html(
                "{}: {}<br>{}",
                _("Unknown sender, texted from"),
                obj.from_number,
                ", ".join(patient_label(p.user) for p in named) or _("no patient has this number"),
            )
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
        """The message, check-in, text, reason for cancelling or health questions whose words raised it, or the
        questionnaire."""
        if obj.message_id:
            url = reverse("portal:staff_thread", args=[obj.message.thread_id])
            return format_html('<a href="{}">{}</a>', url, _("Open the conversation"))
        if obj.checkin_id:
            url = reverse("admin:portal_followupcheckin_change", args=[obj.checkin_id])
            return format_html('<a href="{}">{}</a>', url, _("Open the check-in"))
        if obj.screening_id:
            url = reverse("admin:patients_screeningresponse_change", args=[obj.screening_id])
            return format_html('<a href="{}">{}</a>', url, obj.screening)
        if obj.inbound_text_id:
            return format_html("{} {}<br><q>{}</q>", _("A text from"), obj.from_number, obj.source_text)
        if obj.cancelled_visit_id:
            url = reverse("admin:booking_visit_change", args=[obj.cancelled_visit_id])
            return format_html(
                '<a href="{}">{}</a><br><q>{}</q>', url, _("The visit they cancelled, saying:"), obj.source_text
            )
        if obj.adverse_event_visit_id:
            url = reverse("admin:booking_visit_change", args=[obj.adverse_event_visit_id])
            return format_html(
                '<a href="{}">{}</a>{}',
                url,
                _("The visit where the nurse charted it"),
                format_html("<br><q>{}</q>", obj.source_text) if obj.source_text else "",
            )
        if obj.intake_id:
            url = reverse("admin:patients_intakeresponse_change", args=[obj.intake_id])
            return format_html(
                '<a href="{}">{}</a><br><q>{}</q>', url, _("Their health questions, where they wrote:"), obj.source_text
            )
        return "—"

    @admin.display(description=_("what raised it"))
    def words(self, obj):
        """The danger ideas the words matched, or the side effects or adverse events reported."""
        return ", ".join(str(word).replace("_", " ") for word in obj.matched_words) or "—"

    @admin.display(description=_("review"))
    def review(self, obj):
        if obj.patient is None:
            return "—"
        return format_html('<a href="{}">{}</a>', review_url(obj.patient), _("Open this patient's review screen"))

    def get_fields(self, request, obj=None):
        fields = [name for name in self.readonly_fields if name != "review" or may_review(request.user)]
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
        for section, rows in answers_for_display(obj.answers, obj.questionnaire_version):
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


# --- informed consent (issue 15) -------------------------------------------------------------------------


def _draft(document):
    """A version whose texts may still be written: a new one, or one not published yet."""
    return document is None or document.published_at is None


class ConsentTextInline(admin.StackedInline):
    """The version's words, one text per patient language: written on a draft, read-only once published."""

    model = ConsentText
    fields = ("language", "title", "body")
    max_num = len(settings.LANGUAGES)

    def get_extra(self, request, obj=None, **kwargs):
        if obj is None:
            return len(settings.LANGUAGES)
        return len(obj.missing_languages()) if _draft(obj) else 0

    # Published texts are what patients signed: ConsentText.save refuses them too (every path).
    def has_add_permission(self, request, obj=None):
        return _draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _draft(obj) and super().has_delete_permission(request, obj)


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    """The medical director writes a new version as a draft, with a text in every patient language,
    then publishes it (never edited after)."""

    list_display = ("version", "title", "languages", "published_at", "signed_by")
    readonly_fields = ("languages", "published_at", "created_at")
    fields = ("version", "languages", "published_at", "created_at")
    inlines = [ConsentTextInline]
    actions = ["publish"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(signature_count=Count("signatures")).prefetch_related("texts")

    @admin.display(description=_("title"))
    def title(self, obj):
        texts = {text.language: text for text in obj.texts.all()}
        text = texts.get(settings.LANGUAGE_CODE) or next(iter(texts.values()), None)
        return text.title if text else "-"

    @admin.display(description=_("texts"))
    def languages(self, obj):
        names = dict(settings.LANGUAGES)
        missing = obj.missing_languages()
        written = ", ".join(str(names[code]) for code, _name in settings.LANGUAGES if code not in missing)
        if not missing:
            return written
        return format_html(
            "{}<br><strong>{}</strong>",
            written or "-",
            _("Missing, needed before publishing: %(languages)s")
            % {"languages": ", ".join(str(names[code]) for code in missing)},
        )

    @admin.display(description=_("patients who signed"), ordering="signature_count")
    def signed_by(self, obj):
        return obj.signature_count

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, ConsentTextInline) and request.method == "GET" and _draft(obj):
            # The empty texts start on the languages still missing.
            missing = obj.missing_languages() if obj is not None else [code for code, _name in settings.LANGUAGES]
            kwargs["initial"] = [{"language": code} for code in missing]
        return kwargs

    def has_change_permission(self, request, obj=None):
        # A published version is what patients signed: it never changes (a new version is a new row).
        if not _draft(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Publish: every patient signs this version before their next infusion"))
    def publish(self, request, queryset):
        for document in queryset.filter(published_at__isnull=True):
            try:
                services.consent_publish(document=document, by=request.user)
            except ApplicationError as error:
                messages.error(request, error.message)
                return
            messages.success(request, _("Version %(version)s published.") % {"version": document.version})


@admin.register(ConsentSignature)
class ConsentSignatureAdmin(ReadOnlyAdmin):
    """Who signed which version, when and from where (staff see it; nobody edits it)."""

    list_display = ("patient", "version", "language", "typed_name", "signed_at", "ip_address")
    list_filter = ("document__version", "language")
    search_fields = ("patient__email", "patient__last_name", "typed_name")
    list_select_related = ("patient", "document")
    date_hierarchy = "signed_at"

    @admin.display(description=_("version"), ordering="document__version")
    def version(self, obj):
        return obj.document.version
