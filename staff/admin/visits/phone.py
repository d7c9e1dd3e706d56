"""Booking by phone, in the visit admin: a scheduler on a call finds the patient, sees the free
times for their address and plan (booking's one search), holds one time or the plan's series
through booking's guard, and the patient gets a payment link by text and email. Moving a visit
for the patient is here too. Each page checks the permission, validates a form, calls one service
(`booking.services`), and says what happened or why not (the patient's own reason)."""

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from booking import policy, services
from booking.errors import SlotTaken
from booking.forms import StartTimeForm, parse_start, start_param
from booking.models import CancelledBy, Service
from booking.templatetags.booking_tags import visit_time
from concierge.errors import ApplicationError
from concierge.models import Role, User
from staff import phone
from staff.forms import PhoneSearchForm, PhoneSeriesForm


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class PhonePagesMixin:
    """Booking for a patient on the phone (URL names admin:booking_visit_phone...)."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("phone/", view(self.phone_view), name="booking_visit_phone"),
            path("phone/<int:patient_id>/series/", view(self.phone_series_view), name="booking_visit_phone_series"),
            path(
                "<int:object_id>/payment-link/",
                view(require_POST(self.payment_link_view)),
                name="booking_visit_payment_link",
            ),
            path("<int:object_id>/move/", view(self.move_view), name="booking_visit_move"),
            *super().get_urls(),
        ]

    def _may_book(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied

    def _patient(self, patient_id):
        return get_object_or_404(
            User.objects.select_related("patient_profile"), pk=patient_id, groups__name=Role.PATIENT
        )

    def _held(self, request, visit, *, series=False):
        until = visit_time(visit.hold_expires_at, visit.time_zone)
        text = (
            _("Held until %(time)s. The patient has the payment link by text and email; paying it books the series.")
            if series
            else _(
                "Held until %(time)s. The patient has the payment link by text and email; paying it books the visit."
            )
        )
        self.message_user(request, text % {"time": until}, messages.SUCCESS)
        return redirect(reverse("admin:booking_visit_change", args=[visit.pk]))

    # --- one visit -------------------------------------------------------------------------------

    def phone_view(self, request):
        """Find the patient, choose the visit, a day and a time; holding it sends the payment link."""
        self._may_book(request)
        search = PhoneSearchForm(request.GET or None)
        page = {"search": search, "results": []}
        if search.is_valid() and search.cleaned_data["q"]:
            page["results"] = list(phone.patient_search(query=search.cleaned_data["q"]))
        patient_id = request.GET.get("patient") or request.POST.get("patient")
        if patient_id and str(patient_id).isdigit():
            patient = self._patient(int(patient_id))
            page["patient"] = info = phone.phone_patient(patient=patient)
            option = next((o for o in info.options if o.allowed and o.service.code == request.GET.get("service")), None)
            if option is not None:
                page.update(self._times_for(request, patient, option.service))
            if request.method == "POST":
                response = self._hold(request, patient, info, page)
                if response is not None:
                    return response
        return self._page(request, "admin/booking/visit/phone.html", _("Book for a patient on the phone"), **page)

    def _times_for(self, request, patient, service):
        try:
            ctx = services.booking_context(patient=patient, service=service)
        except ApplicationError as error:
            return {"service": service, "problem": error.message}
        return {
            "service": service,
            "ctx": ctx,
            **self._days_and_times(request, ctx),
            "policy_text": policy.cancellation_policy(),
            "hold_minutes": settings.BOOKING_PHONE_HOLD_MINUTES,
            "due": policy.amount_due_cents(service),
        }

    def _days_and_times(self, request, ctx, exclude_visit_id=None):
        """Two weeks of days with free times from ?from=, and the free times of ?day= (booking's
        one search; a visit being moved left out of its own way)."""
        first = _day(request.GET.get("from")) or phone.local_today(ctx)
        page = {
            "days": phone.days_with_times(ctx=ctx, first_day=first, exclude_visit_id=exclude_visit_id),
            "time_zone": ctx.place.time_zone,
        }
        day = _day(request.GET.get("day"))
        if day is not None:
            page["day"] = day
            page["times"] = [
                (slot, start_param(slot.starts_at))
                for slot in phone.times_on(ctx=ctx, day=day, exclude_visit_id=exclude_visit_id)
            ]
        return page

    def _hold(self, request, patient, info, page):
        """POST: hold the chosen time and send the link; or say why not (on the same page)."""
        service = get_object_or_404(Service, code=request.POST.get("service", ""), is_active=True)
        form = StartTimeForm(request.POST)
        if not form.is_valid():
            page["problem"] = _("Choose a time from the list.")
            return None
        try:
            visit = services.visit_book_by_phone(
                patient=patient, service=service, starts_at=form.cleaned_data["starts_at"], booked_by=request.user
            )
        except SlotTaken as taken:
            page["problem"] = taken.message
            page["nearest"] = [(moment, start_param(moment)) for moment in taken.nearest]
            page.setdefault("service", service)
            return None
        except ApplicationError as error:
            page["problem"] = error.message
            return None
        return self._held(request, visit)

    # --- the plan's series ----------------------------------------------------------------------

    def phone_series_view(self, request, patient_id):
        """The plan's remaining infusions proposed from a day; holding them sends one payment link."""
        self._may_book(request)
        patient = self._patient(patient_id)
        info = phone.phone_patient(patient=patient)
        option = next((o for o in info.options if o.series), None)
        page = {"patient": info, "problem": None if option else info.refusal or _("This patient has no plan to book.")}
        if option is not None:
            service = option.service
            if request.method == "POST":
                response = self._hold_series(request, patient, service, page)
                if response is not None:
                    return response
            form = PhoneSeriesForm(request.GET or None, initial={"first_day": timezone.localdate()})
            page["form"] = form
            if form.is_valid():
                try:
                    proposal = services.series_propose(
                        patient=patient,
                        service=service,
                        first_day=form.cleaned_data["first_day"],
                        part_of_day=form.cleaned_data["part_of_day"] or None,
                    )
                except ApplicationError as error:
                    page["problem"] = error.message
                else:
                    page["proposal"] = proposal
                    page["starts"] = [start_param(v.starts_at) for v in proposal.visits]
                    page["due"] = policy.amount_due_cents(service) * len(proposal.visits)
            page["service"] = service
            page["policy_text"] = policy.cancellation_policy()
        return self._page(request, "admin/booking/visit/phone_series.html", _("Book the plan's series"), **page)

    def _hold_series(self, request, patient, service, page):
        try:
            starts = [(parse_start(value), None) for value in request.POST.getlist("start")]
        except Exception:
            starts = []
        if not starts:
            page["problem"] = _("Propose the times again, then hold them.")
            return None
        try:
            series = services.series_book_by_phone(
                patient=patient, service=service, visits=starts, booked_by=request.user
            )
        except ApplicationError as error:
            page["problem"] = error.message
            return None
        first = series.visits.order_by("starts_at").first()
        return self._held(request, first, series=True)

    # --- after the hold: the link again; moving a visit for the patient ------------------------

    def payment_link_view(self, request, object_id):
        visit = self._visit_for_change(request, object_id)
        try:
            services.payment_link_send(visit=visit, actor=request.user)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, _("The payment link is on its way again (text and email)."), messages.SUCCESS)
        return redirect(reverse("admin:booking_visit_change", args=[visit.pk]))

    def move_view(self, request, object_id):
        """Move a visit to another time for the patient who called: the same search and guard as
        their own reschedule page, their eligibility and notice; the policy shown first."""
        visit = self._visit_for_change(request, object_id)
        change_url = reverse("admin:booking_visit_change", args=[visit.pk])
        page = {"back": change_url, "policy_text": policy.cancellation_policy()}
        if visit.status not in policy.CHANGEABLE_STATUSES or visit.starts_at <= timezone.now():
            page["problem"] = _("This visit is %(status)s: it can no longer be moved.") % {
                "status": visit.get_status_display().lower()
            }
            return self._page(
                request, "admin/booking/visit/move.html", _("Move a visit for the patient"), visit, **page
            )
        if request.method == "POST":
            form = StartTimeForm(request.POST)
            if not form.is_valid():
                page["problem"] = _("Choose a time from the list.")
            else:
                try:
                    services.visit_reschedule(
                        visit=visit,
                        starts_at=form.cleaned_data["starts_at"],
                        by=CancelledBy.PATIENT,
                        actor=request.user,
                    )
                except ApplicationError as error:
                    page["problem"] = error.message
                else:
                    self.message_user(
                        request, _("The visit is moved; the patient is told the new time."), messages.SUCCESS
                    )
                    return redirect(change_url)
        try:
            ctx = services.booking_context_for_visit(visit=visit, patient=visit.patient)
        except ApplicationError as error:
            page["problem"] = error.message
        else:
            page.update(self._days_and_times(request, ctx, exclude_visit_id=visit.pk))
        return self._page(request, "admin/booking/visit/move.html", _("Move a visit for the patient"), visit, **page)
