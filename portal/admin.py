"""The care-team portal in admin: message threads (the reply queue) and follow-up check-ins."""

from django import forms
from django.contrib import admin, messages
from django.db.models import BooleanField, Case, F, Value, When
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from booking.templatetags.booking_tags import visit_day_short, visit_time
from concierge.errors import ApplicationError
from concierge.models import Role
from patients.admin import REVIEW_MEDIA, ReadOnlyAdmin, WorkFirstFilter, patient_label, review_column, review_url

from .checkins import checkin_mark_reviewed
from .messaging_selectors import (
    may_answer_health,
    may_answer_logistics,
    reply_due_within,
    threads_awaiting_reply,
    waited_working_hours,
)
from .models import FollowUpCheckIn, MessageThread, PublicHoliday, ThreadTopic
from .working_hours import working_hours

# --- the care-team portal (issue 10): message threads and follow-up check-ins --------------------


class ThreadQueueFilter(admin.SimpleListFilter):
    title = _("reply")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return (("overdue", _("Overdue for a reply")), ("yes", _("Waiting for a reply")), ("no", _("Answered")))

    def queryset(self, request, queryset):
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
        return format_html('<a href="{}">{}</a>', reverse("portal:staff_thread", args=[obj.pk]), obj.subject)

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_name(self, obj):
        return patient_label(obj.patient)

    def get_list_display(self, request):
        # The care team's working hours (and the holiday table) read once for the whole list.
        working = working_hours()

        @admin.display(description=_("waiting (working hours)"), ordering="waiting_since")
        def waited(obj):
            return self.waited(obj, working)

        return tuple(waited if name == "waited" else name for name in super().get_list_display(request))

    def waited(self, obj, working=None):
        hours = waited_working_hours(obj, hours=working)
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
            return redirect("portal:staff_thread", pk=object_id)
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

    def get_list_display(self, request):
        # The name opens the review screen for those who may decide; anyone else reads it.
        return review_column(request, super().get_list_display(request), "patient_name")

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_name(self, obj):
        return format_html('<a href="{}">{}</a>', review_url(obj.patient), patient_label(obj.patient))

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_unlinked(self, obj):
        return patient_label(obj.patient)

    @admin.display(description=_("visit"))
    def visit(self, obj):
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
        try:
            checkin_mark_reviewed(checkin=obj, clinician=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        obj.refresh_from_db()


@admin.register(PublicHoliday)
class PublicHolidayAdmin(admin.ModelAdmin):
    """Days the care team is off: the reply clock skips them (portal/working_hours.py)."""

    list_display = ("date", "name")
    date_hierarchy = "date"
    search_fields = ("name",)
