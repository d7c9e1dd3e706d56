"""Changing a provider's roster in admin when booked visits depend on it.

`RosterChangeCheckMixin` goes on the provider's ModelAdmin. Saving the provider's page (weekly
pattern, date overrides, time off, licences, active, maximum visits) is tried in a transaction
with the provider's row locked (so no booking for them slips in meanwhile); if the roster as saved
would leave booked visits still to come without a valid place in it (`staff.board.
visits_orphaned_by_roster`), nothing is kept and staff see those visits and choose:

- save and keep the visits (they show as at risk on the board, to be reassigned or moved);
- save and cancel them (staff cancellation: patients are told and refunded in full);
- go back without saving.

Visits that were already outside the roster before this change are not asked about again.
"""

from django.contrib import messages
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from booking import services
from booking.models import CancelledBy
from booking.templatetags.booking_tags import visit_day_short
from concierge.errors import ApplicationError
from roster.models import Provider
from staff.board import patient_display_name, time_range_label, visits_orphaned_by_roster

DECISION = "_orphans"
KEEP, CANCEL = "keep", "cancel"


class _NeedsDecision(Exception):
    def __init__(self, orphans):
        super().__init__("roster change orphans booked visits")
        self.orphans = orphans


class RosterChangeCheckMixin:
    roster_orphans_template = "admin/roster/provider/roster_orphans.html"

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST" or object_id is None or not str(object_id).isdigit():
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            with transaction.atomic():
                # The provider's row first: the booking guard locks it too, so no visit is booked for
                # them while their roster changes.
                if not list(Provider.objects.select_for_update().filter(pk=object_id).values_list("pk")):
                    return super().changeform_view(request, object_id, form_url, extra_context)
                request._roster_before = {o.visit.pk for o in visits_orphaned_by_roster(provider_id=object_id)}
                return super().changeform_view(request, object_id, form_url, extra_context)
        except _NeedsDecision as needs:
            return self._orphans_page(request, object_id, needs.orphans)

    def response_change(self, request, obj):
        before = getattr(request, "_roster_before", None)
        if before is not None:
            orphans = [o for o in visits_orphaned_by_roster(provider_id=obj.pk) if o.visit.pk not in before]
            decision = request.POST.get(DECISION)
            if orphans and decision not in (KEEP, CANCEL):
                raise _NeedsDecision(orphans)  # rolls the whole save back
            if orphans and decision == CANCEL:
                self._cancel_orphans(request, orphans)
            elif orphans:
                self.message_user(
                    request,
                    _(
                        "%(n)s booked visits no longer fit this roster. They are marked at risk on the schedule "
                        "board: reassign or move them."
                    )
                    % {"n": len(orphans)},
                    messages.WARNING,
                )
        return super().response_change(request, obj)

    def _cancel_orphans(self, request, orphans):
        reason = _("The nurse's schedule changed (cancelled by staff from the roster).")
        done = 0
        # All their rows at once, in the one lock order: cancelled one by one (in this save's
        # transaction), the second patient would be locked after the first visit (concierge/locking.py).
        services.visits_lock(orphan.visit for orphan in orphans)
        for orphan in orphans:
            try:
                services.visit_cancel(visit=orphan.visit, by=CancelledBy.STAFF, reason=str(reason), actor=request.user)
                done += 1
            except ApplicationError as error:
                self.message_user(request, f"#{orphan.visit.pk}: {error.message}", messages.WARNING)
        if done:
            self.message_user(
                request,
                _("%(n)s visits cancelled; the patients are told and refunded in full.") % {"n": done},
                messages.SUCCESS,
            )

    def _orphans_page(self, request, object_id, orphans):
        provider = self.get_object(request, object_id)
        rows = [
            {
                "when": f"{visit_day_short(o.visit.starts_at, o.visit.time_zone)}, "
                f"{time_range_label(o.visit.starts_at, o.visit.ends_at, o.visit.time_zone)}",
                "patient": patient_display_name(o.visit.patient),
                "service": o.visit.service.name,
                "status": o.visit.get_status_display(),
                "reason": o.reason,
                "url": reverse("admin:booking_visit_change", args=[o.visit.pk]),
            }
            for o in orphans
        ]
        # Everything the form sent, to send again with the decision (the CSRF token is the template's).
        posted = [
            (key, value)
            for key in request.POST
            if key not in ("csrfmiddlewaretoken", DECISION)
            for value in request.POST.getlist(key)
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("This change leaves booked visits without a nurse"),
            "opts": self.model._meta,
            "original": provider,
            "provider": provider,
            "orphans": rows,
            "posted": posted,
            "change_url": reverse("admin:roster_provider_change", args=[object_id]),
            "KEEP": KEEP,
            "CANCEL": CANCEL,
            "DECISION": DECISION,
        }
        return TemplateResponse(request, self.roster_orphans_template, context)
