"""The visit list's actions: cancel (by staff), send a reminder, mark no-shows, and the two that open
a page for one visit (reassign, refund)."""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from booking import services
from booking.models import CancelledBy
from concierge.errors import ApplicationError
from staff import services as staff_services


class VisitActionsMixin:
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
