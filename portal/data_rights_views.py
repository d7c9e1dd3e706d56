"""The patient's data rights pages: download my data, close my account.

Both are the patient's own (no ids in the address) and their POSTs are rate-limited. The
download needs no password typed again: the session is fresh enough (30 minutes idle at most,
the second step when the patient turned it on). Closing does: it cannot be undone online.
"""

import json

from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from booking.policy import cancellation_policy
from concierge.errors import ApplicationError
from concierge.ratelimit import rate_limit
from patients.views import patient_required

from . import data_rights

# Kept in the (new, anonymous) session after closing, for the page that says what happened.
CLOSED_SESSION_KEY = "account_closed"


class AccountCloseForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("To be sure it is you."),
    )
    confirm = forms.BooleanField(
        label=_("I understand: I will not be able to log in, and my upcoming visits will be cancelled."),
        error_messages={"required": _("Please tick the box to confirm.")},
    )
    reason = forms.CharField(
        label=_("Would you tell us why? (optional)"),
        required=False,
        max_length=data_rights.CLOSE_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That is not your password. Please try again."))
        return password


@require_http_methods(["GET", "POST"])
@patient_required
@rate_limit("data-export", per_hour=20)
def data_export(request):
    """GET: what the download holds. POST: the download (JSON, as an attachment)."""
    if request.method == "POST":
        data = data_rights.patient_data_export(patient=request.user)
        response = HttpResponse(
            json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
        )
        # The patient's own date (the view runs in their time zone).
        filename = data_rights.export_filename(timezone.localdate())
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response
    return render(
        request,
        "portal/data_rights/export.html",
        {"sections": data_rights.SECTIONS, "not_included": data_rights.NOT_PATIENT_RECORDS.values()},
    )


@require_http_methods(["GET", "POST"])
def account_close(request):
    """GET explains (and, right after closing, says what happened); POST closes."""
    closed = request.session.get(CLOSED_SESSION_KEY)
    if closed and not request.user.is_authenticated and request.method == "GET":
        return render(request, "portal/data_rights/closed.html", {"closed": closed})
    return _account_close(request)


@patient_required
@rate_limit("account-close", per_hour=10)
def _account_close(request):
    form = AccountCloseForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            closure = data_rights.patient_account_close(patient=request.user, reason=form.cleaned_data["reason"])
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            logout(request)  # this device; the others end at their next request (concierge/backends.py)
            request.session[CLOSED_SESSION_KEY] = {
                "visits_cancelled": closure.visits_cancelled,
                "refund_cents": closure.refund_cents,
            }
            return redirect("portal:account_close")
    preview = data_rights.account_close_preview(patient=request.user)
    return render(
        request,
        "portal/data_rights/close.html",
        {
            "form": form,
            "preview": preview,
            "refused": [data_rights.refused_message(v) for v in preview.blocking[:1]],
            "cancellation_policy": cancellation_policy(),
            "clinic_phone": settings.CLINIC_PHONE,
        },
    )
