"""The visit admin: the list staff run the day with and one visit's page (read-only: every change goes
through the pages and actions of pages.py and actions.py)."""

import contextlib

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from booking import policy, safety, services
from booking.admin import ReadOnlyAdmin
from booking.models import Visit, VisitStatus
from booking.templatetags.booking_tags import dollars, visit_day_short, visit_time
from concierge import audit
from concierge.admin import ShownColumnsAdmin, ValuesInUseFilter, unlinked_where_refused
from concierge.models import Role
from staff import board
from staff.admin.audit import object_filter_value, render_changes

from .actions import VisitActionsMixin
from .filters import ProviderFilter, RiskFilter, WhenFilter
from .pages import VisitPagesMixin, may_release_holds
from .phone import PhonePagesMixin
from .summary import chart_of, paid_cents, visit_local_day, visit_payments, visit_summary

STAFF_CSS = {"all": ("concierge/staff-admin.css",)}


def _is_clinical(user):
    return user.is_superuser or user.has_role(Role.CLINICIAN)


@admin.register(Visit)
class VisitAdmin(VisitActionsMixin, PhonePagesMixin, VisitPagesMixin, ShownColumnsAdmin, ReadOnlyAdmin):
    change_form_template = "admin/booking/visit/change_form.html"
    list_display = ("starts_local", "patient_name", "service", "provider", "status", "state", "zip_code")
    list_display_links = ("starts_local",)
    list_filter = (
        WhenFilter,
        "status",
        RiskFilter,
        ("provider", ProviderFilter),
        ("state", ValuesInUseFilter),  # the states with visits, not all 59
        "service",
        ("starts_at", admin.DateFieldListFilter),
    )
    search_fields = (
        "patient__email",
        "patient__first_name",
        "patient__last_name",
        "patient__patient_profile__legal_first_name",
        "patient__patient_profile__legal_last_name",
        "patient__patient_profile__preferred_name",
        "provider__user__last_name",
        "zip_code",
    )
    search_help_text = _("Patient's name, email or phone; nurse's last name; ZIP code.")
    date_hierarchy = "starts_at"
    list_select_related = ("service", "provider__user", "patient__patient_profile")
    # What the columns and each row's name (Visit.__str__, for its checkbox) read.
    list_columns = (
        "starts_at",
        "time_zone",
        "status",
        "state",
        "zip_code",
        "service__name",
        "provider__user__first_name",
        "provider__user__last_name",
        "patient__first_name",
        "patient__last_name",
        "patient__patient_profile__preferred_name",
        "patient__patient_profile__legal_first_name",
        "patient__patient_profile__legal_last_name",
    )
    list_per_page = 50
    actions = ["cancel_by_staff", "reassign_one", "send_reminder", "mark_no_show", "refund_one"]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "patient_link",
                    "contact",
                    "service",
                    "status",
                    "provider",
                    "when_local",
                    "travel",
                    "series",
                    "origin",
                    "booked_by",
                )
            },
        ),
        (_("Where"), {"fields": ("address_line1", "address_line2", "city", "state", "zip_code", "time_zone")}),
        (_("Money"), {"fields": ("price", "due_at_booking")}),
        (
            _("Life cycle"),
            {
                "fields": (
                    "hold_expires_at",
                    "confirmed_at",
                    "cancelled_at",
                    "cancelled_by",
                    "cancelled_by_user",
                    "cancellation_reason",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    clinical_fieldsets = ((_("Clinical"), {"fields": ("clearance", "holds")}),)

    class Media:
        css = STAFF_CSS

    # --- the list -------------------------------------------------------------------------------

    @admin.display(description=_("starts (visit's time zone)"), ordering="starts_at")
    def starts_local(self, obj):
        return f"{visit_day_short(obj.starts_at, obj.time_zone)}, {visit_time(obj.starts_at, obj.time_zone)}"

    @admin.display(description=_("patient"), ordering="patient__last_name")
    def patient_name(self, obj):
        return board.patient_display_name(obj.patient)

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        digits = "".join(ch for ch in search_term if ch.isdigit())
        if len(digits) >= 7:
            # Phones are stored as +1XXXXXXXXXX: "(212) 555-0123" and "212-555-0123" both find it.
            results |= queryset.filter(patient__patient_profile__mobile_phone__contains=digits[-10:])
        return results, may_have_duplicates

    # --- one visit ------------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        fieldsets = (*self.fieldsets, *self.clinical_fieldsets) if _is_clinical(request.user) else self.fieldsets
        return unlinked_where_refused(self, request, fieldsets)

    def get_readonly_fields(self, request, obj=None):
        return [name for _title, opts in self.get_fieldsets(request, obj) for name in opts["fields"]]

    @admin.display(description=_("patient"))
    def patient_link(self, obj):
        name = board.patient_display_name(obj.patient)
        try:
            url = reverse("admin:patients_patientprofile_change", args=[obj.patient.patient_profile.pk])
        except (NoReverseMatch, Exception):
            return f"{name} ({obj.patient.email})"
        return format_html('<a href="{}">{}</a> ({})', url, name, obj.patient.email)

    @admin.display(description=_("phone"))
    def contact(self, obj):
        profile = getattr(obj.patient, "patient_profile", None)
        if profile is None or not profile.mobile_phone:
            return "—"
        return profile.mobile_phone.as_national

    @admin.display(description=_("when (visit's time zone)"))
    def when_local(self, obj):
        return visit_summary(obj)["when"]

    @admin.display(description=_("travel"))
    def travel(self, obj):
        if obj.service.is_telehealth:
            return _("none (by video)")
        before = board.minutes_between(obj.blocked_from, obj.starts_at)
        after = board.minutes_between(obj.ends_at, obj.blocked_until)
        return _("%(before)s min before, %(after)s min after") % {"before": before, "after": after}

    @admin.display(description=_("safety holds"))
    def holds(self, obj):
        """Every hold of the visit (why, and how it ended): for clinicians only (the reasons are clinical)."""
        rows = list(obj.safety_holds.select_related("ended_by"))
        if not rows:
            return "—"
        return format_html_join(
            "",
            "<p><strong>{}</strong> ({}): {} {}<br>{}</p>",
            (
                (
                    hold.get_outcome_display(),
                    timezone.localtime(hold.placed_at).strftime("%Y-%m-%d %H:%M"),
                    safety.reason_labels(hold.reasons),
                    _("(a danger sign: 988/911 shown to the patient)") if hold.safety else "",
                    (
                        f"{hold.ended_by.get_full_name() if hold.ended_by else ''}: {hold.note}"
                        if not hold.is_open
                        else hold.staff_words
                    ),
                )
                for hold in rows
            ),
        )

    @admin.display(description=_("price"))
    def price(self, obj):
        return dollars(obj.price_cents)

    @admin.display(description=_("due at booking"))
    def due_at_booking(self, obj):
        return dollars(obj.amount_due_cents)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service", "provider__user", "patient__patient_profile")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        visit = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "title": _("Visit"),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        if visit is not None:
            extra_context.update(self._visit_context(request, visit))
        return super().change_view(request, object_id, form_url, extra_context)

    def _visit_context(self, request, visit):
        user = request.user
        now = timezone.now()
        context = {
            "visit_actions": self._actions_for(request, visit, now),
            "board_url": reverse("admin:booking_board") + f"?date={visit_local_day(visit).isoformat()}",
        }
        if user.has_perm("payments.view_payment"):
            context["visit_payments"] = visit_payments(visit)
        if user.has_perm("notifications.view_message"):
            context["visit_messages"] = list(visit.messages.order_by("due_at", "pk"))
        chart = chart_of(visit)
        if chart is not None and user.has_perm("nurses.view_visitchart"):
            with contextlib.suppress(NoReverseMatch):
                context["chart_url"] = reverse("admin:nurses_visitchart_change", args=[chart.pk])
        elif chart is not None:
            context["chart_hidden"] = True
        if user.has_perm("auditlog.view_logentry"):
            entries = list(audit.log_entries_for(visit)[:10])
            # A creation lists every field: the full entry is one click away; the panel shows changes.
            context["history"] = [(e, render_changes(e) if e.action == e.Action.UPDATE else "") for e in entries]
            context["history_url"] = (
                reverse("admin:auditlog_logentry_changelist") + "?object=" + object_filter_value(visit)
            )
        return context

    def _actions_for(self, request, visit, now):
        """[(label, url, method)] of what this person may do to this visit now."""
        actions = []
        pk = visit.pk
        if visit.status == VisitStatus.ON_HOLD and may_release_holds(request.user):
            actions.append((_("Release the hold…"), reverse("admin:booking_visit_release_hold", args=[pk]), "get"))
        if not self.has_change_permission(request, visit):
            return actions
        if visit.status == VisitStatus.HELD and visit.hold_expires_at and visit.hold_expires_at > now:
            actions.append(
                (_("Send the payment link again"), reverse("admin:booking_visit_payment_link", args=[pk]), "post")
            )
        if visit.status in policy.CHANGEABLE_STATUSES and visit.starts_at > now:
            actions.append((_("Move for the patient…"), reverse("admin:booking_visit_move", args=[pk]), "get"))
        if visit.status in policy.CHANGEABLE_STATUSES and visit.ends_at > now:
            actions.append((_("Reassign…"), reverse("admin:booking_visit_reassign", args=[pk]), "get"))
        if services.transition_allowed(visit.status, VisitStatus.CANCELLED):
            actions.append((_("Cancel…"), reverse("admin:booking_visit_cancel_visit", args=[pk]), "get"))
        if visit.status in (VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE) and visit.starts_at > now:
            actions.append((_("Send a reminder now"), reverse("admin:booking_visit_remind", args=[pk]), "post"))
        if visit.status in (VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE) and visit.starts_at <= now:
            actions.append((_("Mark as no-show"), reverse("admin:booking_visit_no_show", args=[pk]), "post"))
        if request.user.has_perm("payments.refund_payment") and paid_cents(visit):
            actions.append((_("Refund in full…"), reverse("admin:booking_visit_refund", args=[pk]), "get"))
        return actions
