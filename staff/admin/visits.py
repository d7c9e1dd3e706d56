"""The visits staff run the day with, in admin.

Visits are never edited as a form: every change of time, provider or status goes through the
booking services (the guard) or the staff services in staff/services.py. From a visit
(or the list, or the schedule board) staff can:

- reassign it: only providers who are eligible and free at its time are offered
  (`staff.board.reassign_candidates`), and `visit_reassign` re-checks under lock, so a
  nurse booked meanwhile, or without a licence there, is refused with a message;
- cancel it with a reason (the cancellation policy: a staff cancellation is refunded in full);
- refund it in full with a reason (e.g. a late cancellation or a no-show forgiven);
- send the patient a reminder now; mark it a no-show once its time has passed.

The schedule board (`/admin/booking/visit/board/`, a day; `.../board/week/`) lays out each
provider's day: visits, travel, free time, and the visits at risk.
"""

import contextlib
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from booking import policy, services
from booking.admin import ReadOnlyAdmin
from booking.availability import zone
from booking.errors import SlotTaken
from booking.models import CancelledBy, Visit, VisitStatus
from booking.templatetags.booking_tags import dollars, visit_day_short, visit_time
from concierge.errors import ApplicationError
from concierge.models import Role
from roster.models import Provider
from staff import board
from staff import services as staff_services
from staff.forms import ReassignForm, VisitCancelForm, VisitRefundForm

STAFF_CSS = {"all": ("concierge/staff-admin.css",)}


def clinic_today():
    return timezone.now().astimezone(zone(settings.REPORTS_TIME_ZONE)).date()


class WhenFilter(admin.SimpleListFilter):
    """Days in the clinic's zone (REPORTS_TIME_ZONE); each visit's own time is shown in its zone."""

    title = _("when")
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return (
            ("today", _("Today")),
            ("tomorrow", _("Tomorrow")),
            ("next7", _("Next 7 days")),
            ("upcoming", _("From now on")),
            ("past7", _("Past 7 days")),
        )

    def queryset(self, request, queryset):
        tz = zone(settings.REPORTS_TIME_ZONE)
        today = clinic_today()

        def midnight(day):
            return datetime.combine(day, time(0), tzinfo=tz)

        ranges = {
            "today": (midnight(today), midnight(today + timedelta(days=1))),
            "tomorrow": (midnight(today + timedelta(days=1)), midnight(today + timedelta(days=2))),
            "next7": (timezone.now(), midnight(today + timedelta(days=8))),
            "past7": (midnight(today - timedelta(days=7)), timezone.now()),
        }
        if self.value() == "upcoming":
            return queryset.filter(ends_at__gt=timezone.now())
        if self.value() in ranges:
            start, end = ranges[self.value()]
            return queryset.filter(starts_at__gte=start, starts_at__lt=end)
        return queryset


class RiskFilter(admin.SimpleListFilter):
    title = _("needs a nurse")
    parameter_name = "unassigned"

    def lookups(self, request, model_admin):
        return (("yes", _("No nurse assigned")),)

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(provider__isnull=True, status__in=policy.CHANGEABLE_STATUSES)
        return queryset


def _safe_next(request, fallback):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return fallback


def _is_clinical(user):
    return user.is_superuser or user.has_role(Role.CLINICIAN)


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    change_form_template = "admin/booking/visit/change_form.html"
    list_display = ("starts_local", "patient_name", "service", "provider", "status", "state", "zip_code")
    list_display_links = ("starts_local",)
    list_filter = (
        WhenFilter,
        "status",
        RiskFilter,
        ("provider", admin.RelatedOnlyFieldListFilter),
        "state",
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
                )
            },
        ),
        (_("Where"), {"fields": ("address_line1", "address_line2", "city", "state", "zip_code", "time_zone")}),
        (_("Money"), {"fields": ("price", "due_at_booking")}),
        (
            _("Life cycle (times in UTC)"),
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
    clinical_fieldsets = ((_("Clinical"), {"fields": ("clearance",)}),)

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
        if _is_clinical(request.user):
            return (*self.fieldsets, *self.clinical_fieldsets)
        return self.fieldsets

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
        chart = _chart_of(visit)
        if chart is not None and user.has_perm("nurses.view_visitchart"):
            with contextlib.suppress(NoReverseMatch):
                context["chart_url"] = reverse("admin:nurses_visitchart_change", args=[chart.pk])
        elif chart is not None:
            context["chart_hidden"] = True
        if user.has_perm("auditlog.view_logentry"):
            from concierge import audit
            from staff.admin.audit import object_filter_value, render_changes

            entries = list(audit.log_entries_for(visit)[:10])
            # A creation lists every field: the full entry is one click away; the panel shows changes.
            context["history"] = [(e, render_changes(e) if e.action == e.Action.UPDATE else "") for e in entries]
            context["history_url"] = (
                reverse("admin:auditlog_logentry_changelist") + "?object=" + object_filter_value(visit)
            )
        return context

    def _actions_for(self, request, visit, now):
        """[(label, url, method)] of what this person may do to this visit now."""
        if not self.has_change_permission(request, visit):
            return []
        actions = []
        pk = visit.pk
        if visit.status in policy.CHANGEABLE_STATUSES and visit.ends_at > now:
            actions.append((_("Reassign…"), reverse("admin:booking_visit_reassign", args=[pk]), "get"))
        if services.transition_allowed(visit.status, VisitStatus.CANCELLED):
            actions.append((_("Cancel…"), reverse("admin:booking_visit_cancel_visit", args=[pk]), "get"))
        if visit.status in (VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE) and visit.starts_at > now:
            actions.append((_("Send a reminder now"), reverse("admin:booking_visit_remind", args=[pk]), "post"))
        if visit.status in (VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE) and visit.starts_at <= now:
            actions.append((_("Mark as no-show"), reverse("admin:booking_visit_no_show", args=[pk]), "post"))
        if request.user.has_perm("payments.refund_payment") and _paid_cents(visit):
            actions.append((_("Refund in full…"), reverse("admin:booking_visit_refund", args=[pk]), "get"))
        return actions

    # --- pages and actions ------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("board/", view(self.board_view), name="booking_board"),
            path("board/week/", view(self.board_week_view), name="booking_board_week"),
            path("<int:object_id>/reassign/", view(self.reassign_view), name="booking_visit_reassign"),
            path("<int:object_id>/cancel/", view(self.cancel_view), name="booking_visit_cancel_visit"),
            path("<int:object_id>/refund/", view(self.refund_view), name="booking_visit_refund"),
            path("<int:object_id>/remind/", view(require_POST(self.remind_view)), name="booking_visit_remind"),
            path("<int:object_id>/no-show/", view(require_POST(self.no_show_view)), name="booking_visit_no_show"),
            *super().get_urls(),
        ]

    def _page(self, request, template, title, visit=None, **extra):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "original": visit,
            "visit": visit,
            "media": self.media,
            **extra,
        }
        if visit is not None:
            context["change_url"] = reverse("admin:booking_visit_change", args=[visit.pk])
            context["visit_summary"] = visit_summary(visit)
        return TemplateResponse(request, template, context)

    def _visit_for_change(self, request, object_id):
        visit = get_object_or_404(
            Visit.objects.select_related("service", "provider__user", "patient__patient_profile"),
            pk=object_id,
        )
        if not self.has_change_permission(request, visit):
            raise PermissionDenied
        return visit

    def board_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        day = _date_param(request.GET.get("date")) or clinic_today()
        day_board = board.board_for_day(day=day)
        return self._page(
            request,
            "admin/booking/board.html",
            _("Schedule for %(day)s") % {"day": day.strftime("%A, %B %-d, %Y")},
            board=day_board,
            day=day,
            today=clinic_today(),
            previous_day=day - timedelta(days=1),
            next_day=day + timedelta(days=1),
            week_start=day - timedelta(days=day.weekday()),
            can_change=self.has_change_permission(request),
            board_path=request.get_full_path(),
        )

    def board_week_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        start = _date_param(request.GET.get("start")) or clinic_today()
        start -= timedelta(days=start.weekday())
        week = board.board_for_week(first_day=start)
        return self._page(
            request,
            "admin/booking/board_week.html",
            _("Week of %(day)s") % {"day": start.strftime("%B %-d, %Y")},
            week=week,
            start=start,
            previous_week=start - timedelta(days=7),
            next_week=start + timedelta(days=7),
            today=clinic_today(),
        )

    def reassign_view(self, request, object_id):
        visit = self._visit_for_change(request, object_id)
        back = _safe_next(request, reverse("admin:booking_visit_change", args=[visit.pk]))
        problem, offered = None, []
        if visit.status not in policy.CHANGEABLE_STATUSES or visit.ends_at <= timezone.now():
            problem = _("This visit is %(status)s: it can no longer be given to someone else.") % {
                "status": visit.get_status_display().lower()
            }
        else:
            try:
                offered = board.reassign_candidates(visit=visit)
            except ApplicationError as error:
                problem = error.message
        queryset = Provider.objects.filter(is_active=True, kind=visit.service.delivered_by).select_related("user")
        form = ReassignForm(request.POST or None, queryset=queryset, offered=offered)
        if request.method == "POST" and problem is None and form.is_valid():
            chosen = form.cleaned_data["provider"]
            try:
                services.visit_reassign(visit=visit, provider=chosen, actor=request.user)
            except SlotTaken:
                form.add_error(
                    "provider",
                    _(
                        "%(name)s cannot take this visit: they are not free then (another visit or travel "
                        "overlaps), or their licence or hours do not allow it. Nothing was changed; choose "
                        "someone else."
                    )
                    % {"name": chosen},
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    _("The visit now goes to %(name)s.") % {"name": chosen},
                    messages.SUCCESS,
                )
                return redirect(back)
            # Refused: offer who is free now.
            try:
                form.offered = board.reassign_candidates(visit=visit)
            except ApplicationError:
                form.offered = []
        return self._page(
            request,
            "admin/booking/visit/reassign.html",
            _("Reassign a visit"),
            visit,
            form=form,
            problem=problem,
            back=back,
        )

    def cancel_view(self, request, object_id):
        visit = self._visit_for_change(request, object_id)
        change_url = reverse("admin:booking_visit_change", args=[visit.pk])
        form = VisitCancelForm(request.POST or None)
        problem = None
        if not services.transition_allowed(visit.status, VisitStatus.CANCELLED):
            problem = _("This visit is %(status)s: it can no longer be cancelled.") % {
                "status": visit.get_status_display().lower()
            }
        if request.method == "POST" and problem is None and form.is_valid():
            try:
                services.visit_cancel(
                    visit=visit, by=CancelledBy.STAFF, reason=form.cleaned_data["reason"], actor=request.user
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                refunded = _refunded_for(visit)
                text = _("The visit is cancelled; the patient is told.")
                if refunded:
                    text = _("The visit is cancelled; the patient is told and %(amount)s is refunded.") % {
                        "amount": dollars(refunded)
                    }
                self.message_user(request, text, messages.SUCCESS)
                return redirect(_safe_next(request, change_url))
        return self._page(
            request,
            "admin/booking/visit/cancel.html",
            _("Cancel a visit"),
            visit,
            form=form,
            problem=problem,
            paid=_paid_cents(visit),
            back=_safe_next(request, change_url),
        )

    def refund_view(self, request, object_id):
        visit = self._visit_for_change(request, object_id)
        if not request.user.has_perm("payments.refund_payment"):
            raise PermissionDenied
        change_url = reverse("admin:booking_visit_change", args=[visit.pk])
        payment, due = staff_services.visit_refund_due(visit=visit)
        form = VisitRefundForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                refund = staff_services.visit_refund_in_full(
                    visit=visit, reason=form.cleaned_data["reason"], actor=request.user
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    _("Refund of %(amount)s recorded; its status follows the payment gateway.")
                    % {"amount": dollars(refund.amount_cents)},
                    messages.SUCCESS,
                )
                return redirect(change_url)
        return self._page(
            request,
            "admin/booking/visit/refund.html",
            _("Refund a visit in full"),
            visit,
            form=form,
            payment=payment,
            due=due,
            back=change_url,
        )

    def remind_view(self, request, object_id):
        visit = self._visit_for_change(request, object_id)
        try:
            staff_services.visit_reminder_send(visit=visit, actor=request.user)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(
                request, _("A reminder is on its way (email, and a text if the patient takes texts)."), messages.SUCCESS
            )
        return redirect(_safe_next(request, reverse("admin:booking_visit_change", args=[visit.pk])))

    def no_show_view(self, request, object_id):
        visit = self._visit_for_change(request, object_id)
        try:
            staff_services.visit_no_show_mark(visit=visit, actor=request.user)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, _("Marked as a no-show (the policy refunds nothing)."), messages.SUCCESS)
        return redirect(_safe_next(request, reverse("admin:booking_visit_change", args=[visit.pk])))

    # --- list actions ---------------------------------------------------------------------------------

    @admin.action(description=_("Cancel the selected visits (by staff)"), permissions=["change"])
    def cancel_by_staff(self, request, queryset):
        done, refused = 0, []
        for visit in queryset:
            try:
                services.visit_cancel(
                    visit=visit, by=CancelledBy.STAFF, reason=_("Cancelled by staff"), actor=request.user
                )
                done += 1
            except ApplicationError as error:
                refused.append(f"#{visit.pk}: {error.message}")
        if done:
            self.message_user(request, _("%(n)s visits cancelled.") % {"n": done}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    def _one(self, request, queryset, url_name):
        if queryset.count() != 1:
            self.message_user(request, _("Choose one visit."), messages.WARNING)
            return None
        return redirect(url_name, object_id=queryset.get().pk)

    @admin.action(description=_("Reassign the selected visit…"), permissions=["change"])
    def reassign_one(self, request, queryset):
        return self._one(request, queryset, "admin:booking_visit_reassign")

    @admin.action(description=_("Refund the selected visit in full…"), permissions=["refund"])
    def refund_one(self, request, queryset):
        return self._one(request, queryset, "admin:booking_visit_refund")

    def has_refund_permission(self, request):
        return request.user.has_perm("payments.refund_payment")

    @admin.action(description=_("Send the selected patients a reminder now"), permissions=["change"])
    def send_reminder(self, request, queryset):
        self._each(request, queryset, staff_services.visit_reminder_send, _("%(n)s reminders on their way."))

    @admin.action(description=_("Mark the selected visits as no-shows"), permissions=["change"])
    def mark_no_show(self, request, queryset):
        self._each(request, queryset, staff_services.visit_no_show_mark, _("%(n)s visits marked as no-shows."))

    def _each(self, request, queryset, service, done_text):
        done, refused = 0, []
        for visit in queryset:
            try:
                service(visit=visit, actor=request.user)
                done += 1
            except ApplicationError as error:
                refused.append(f"#{visit.pk}: {error.message}")
        if done:
            self.message_user(request, done_text % {"n": done}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)


# --- helpers for the visit pages -------------------------------------------------------------------


def visit_local_day(visit):
    return visit.starts_at.astimezone(zone(visit.time_zone)).date()


def visit_summary(visit):
    return {
        "when": f"{visit_day_short(visit.starts_at, visit.time_zone)}, "
        f"{board.time_range_label(visit.starts_at, visit.ends_at, visit.time_zone)}",
        "patient": board.patient_display_name(visit.patient),
        "service": visit.service.name,
        "provider": str(visit.provider) if visit.provider_id else _("nobody yet"),
        "status": visit.get_status_display(),
        "place": ", ".join(p for p in (visit.city, visit.state, visit.zip_code) if p),
    }


def _date_param(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _chart_of(visit):
    try:
        return visit.chart
    except Exception:  # no chart yet (RelatedObjectDoesNotExist), or the nurses app has none
        return None


def _paid_cents(visit):
    from payments.models import PAID_STATUSES, PaymentAllocation

    return (
        PaymentAllocation.objects.filter(visit=visit, payment__status__in=PAID_STATUSES).aggregate(
            s=Sum("amount_cents")
        )["s"]
        or 0
    )


def _refunded_for(visit):
    from payments.models import REFUND_COUNTING_STATUSES, Refund

    prefix = staff_services.refund_prefix(visit)
    return (
        Refund.objects.filter(status__in=REFUND_COUNTING_STATUSES)
        .filter(Q(visit=visit) | Q(visit__isnull=True, reason__startswith=prefix))
        .aggregate(s=Sum("amount_cents"))["s"]
        or 0
    )


def visit_payments(visit):
    """The payments covering a visit, each with its refunds (three queries)."""
    from payments.models import Payment

    payments = list(
        Payment.objects.filter(Q(visit=visit) | Q(allocations__visit=visit))
        .distinct()
        .prefetch_related("refunds")
        .order_by("created_at", "pk")
    )
    return payments
