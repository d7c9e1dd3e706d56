"""The visit admin's own pages: the schedule board (a day, a week), and reassigning, cancelling,
refunding, reminding and marking a no-show one visit. Each page checks the permission, validates a
form, calls one service (booking's guard or staff/services.py) and says what happened."""

import hashlib
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import urlencode
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from booking import policy, services
from booking.errors import SlotTaken
from booking.models import CancelledBy, Visit, VisitStatus
from booking.templatetags.booking_tags import dollars
from concierge.errors import ApplicationError
from concierge.inputs import day_from
from concierge.models import Role
from concierge.schedule import schedule_cached
from roster.models import Provider
from staff import board
from staff import services as staff_services
from staff.forms import AskedBy, HoldReleaseForm, ReassignForm, VisitCancelForm, VisitRefundForm

from .filters import clinic_today
from .summary import paid_cents, refunded_cents, visit_summary

URL_PK = "9990999"  # a visit id reversed into the board's links once, then replaced by each visit's


def _safe_next(request, fallback):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return fallback


def may_release_holds(user):
    """Releasing a safety hold is a clinical act: clinicians only (superuser or not), who may read holds."""
    return user.has_role(Role.CLINICIAN) and user.has_perm("booking.view_safetyhold")


def _date_param(value):
    return day_from(value)


def _kept_board(key, draw):
    """A board's HTML (`draw(now)`), drawn once a minute at most while nothing on it changes.

    Kept under the schedule version (concierge/schedule.py): every table a board reads is watched
    (visits, services, the roster, and the names shown: staff/apps.py), so a kept board is never
    shown after a change commits (a test checks the tables). What moves with the clock (the now
    line, late and hold warnings, the visits at risk) is drawn for the current minute, part of
    the key, as is the language.
    """
    now = timezone.now().replace(second=0, microsecond=0)
    kept = schedule_cached(f"{key}:{now:%Y%m%d%H%M}:{get_language()}", lambda: draw(now))
    return mark_safe(kept)  # noqa: S308 (our own template's output)


class VisitPagesMixin:
    """The pages above, on the visit admin (their URLs are named admin:booking_...)."""

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
            path("<int:object_id>/release/", view(self.release_view), name="booking_visit_release_hold"),
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
        return self._page(
            request,
            "admin/booking/board.html",
            _("Schedule for %(day)s") % {"day": formats.date_format(day, "DAY_YEAR_FORMAT")},
            board_html=self._board_html(request, day),
            # The board needs the page's width; the apps are a click away on the breadcrumbs.
            is_nav_sidebar_enabled=False,
            day=day,
            today=clinic_today(),
            previous_day=day - timedelta(days=1),
            next_day=day + timedelta(days=1),
            week_start=day - timedelta(days=day.weekday()),
        )

    def _board_html(self, request, day):
        """The day's board, drawn once a minute at most while nothing on it changes (`_kept_board`);
        its key also holds the path (the links back) and the right to reassign."""
        can_change = self.has_change_permission(request)
        full_path = request.get_full_path()

        def draw(now):
            day_board = board.board_for_day(day=day, now=now)
            board.board_urls_attach(
                day_board,
                change_url=reverse("admin:booking_visit_change", args=[URL_PK]),
                reassign_url=reverse("admin:booking_visit_reassign", args=[URL_PK]),
                placeholder=URL_PK,
            )
            context = {
                "board": day_board,
                "can_change": can_change,
                "board_next": urlencode(full_path),  # once, not once per visit in the template
            }
            return render_to_string("admin/booking/board_body.html", context)

        path_key = hashlib.sha256(full_path.encode()).hexdigest()[:16]
        return _kept_board(f"board:{day.isoformat()}:{int(can_change)}:{path_key}", draw)

    def board_week_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        start = _date_param(request.GET.get("start")) or clinic_today()
        start -= timedelta(days=start.weekday())
        title = _("Week of %(day)s") % {"day": formats.date_format(start, "LONG_DATE_FORMAT")}
        return self._page(
            request,
            "admin/booking/board_week.html",
            title,
            week_html=self._week_html(start, title),
            start=start,
            previous_week=start - timedelta(days=7),
            next_week=start + timedelta(days=7),
            today=clinic_today(),
        )

    def _week_html(self, start, title):
        """The week's table, kept as the day's board is (`_kept_board`): the same six reads, so the
        same watched tables."""

        def draw(now):
            week = board.board_for_week(first_day=start, now=now)
            context = {"week": week, "title": title, "today": clinic_today(now)}  # kept per minute: today is too
            return render_to_string("admin/booking/board_week_body.html", context)

        return _kept_board(f"board-week:{start.isoformat()}", draw)

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
            by = CancelledBy.PATIENT if form.cleaned_data["asked_by"] == AskedBy.PATIENT else CancelledBy.STAFF
            try:
                services.visit_cancel(visit=visit, by=by, reason=form.cleaned_data["reason"], actor=request.user)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                refunded = refunded_cents(visit)
                text = _("The visit is cancelled; the patient is told.")
                if refunded:
                    text = _("The visit is cancelled; the patient is told and %(amount)s is refunded.") % {
                        "amount": dollars(refunded)
                    }
                self.message_user(request, text, messages.SUCCESS)
                return redirect(_safe_next(request, change_url))
        paid = paid_cents(visit)
        return self._page(
            request,
            "admin/booking/visit/cancel.html",
            _("Cancel a visit"),
            visit,
            form=form,
            problem=problem,
            paid=paid,
            # The policy, before confirming: what each answer to "who asked" refunds now.
            if_patient=policy.refund_if_cancelled_now(visit=visit, by=CancelledBy.PATIENT, paid_cents=paid),
            policy_text=policy.cancellation_policy(),
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

    def release_view(self, request, object_id):
        """A clinician releases a visit's safety hold, with a note (booking's safety_hold_release)."""
        visit = get_object_or_404(
            Visit.objects.select_related("service", "provider__user", "patient__patient_profile"), pk=object_id
        )
        if not may_release_holds(request.user) or not self.has_view_permission(request, visit):
            raise PermissionDenied
        change_url = reverse("admin:booking_visit_change", args=[visit.pk])
        hold = services.hold_open_for(visit) if visit.status == VisitStatus.ON_HOLD else None
        form = HoldReleaseForm(request.POST or None)
        problem = None if hold is not None else _("This visit is not on hold.")
        if request.method == "POST" and problem is None and form.is_valid():
            try:
                released = services.safety_hold_release(
                    visit=visit, clinician=request.user, note=form.cleaned_data["note"]
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                text = (
                    _("The hold is released: the visit is %(status)s again and its reminders are planned.")
                    % {"status": released.get_status_display().lower()}
                    if released.status != VisitStatus.CANCELLED
                    else _("The visit's time had passed: it is cancelled and the patient is refunded in full.")
                )
                self.message_user(request, text, messages.SUCCESS)
                return redirect(change_url)
        return self._page(
            request,
            "admin/booking/visit/release.html",
            _("Release a hold"),
            visit,
            form=form,
            hold=hold,
            problem=problem,
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
