from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.inputs import DayField
from roster.models import Provider

MAX_REPORT_DAYS = 366


class ReportRangeForm(forms.Form):
    first_day = DayField(label=_("From"))
    last_day = DayField(label=_("Until (inclusive)"))

    @classmethod
    def default_range(cls, today=None):
        today = today or timezone.localdate()
        return {"first_day": today - timedelta(days=29), "last_day": today}

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first_day"), cleaned.get("last_day")
        if first and last:
            if last < first:
                self.add_error("last_day", _("The end must be on or after the start."))
            elif (last - first).days >= MAX_REPORT_DAYS:
                self.add_error("last_day", _("Choose at most %(n)s days.") % {"n": MAX_REPORT_DAYS})
        return cleaned


class AskedBy:
    CLINIC = "clinic"
    PATIENT = "patient"


class VisitCancelForm(forms.Form):
    # Who wants the visit cancelled decides the refund: the clinic refunds in full; a patient who
    # calls to cancel gets what the cancellation policy gives them online (late fee included).
    asked_by = forms.ChoiceField(
        label=_("Who asked for the cancellation?"),
        choices=[
            (AskedBy.CLINIC, _("ConciergeMD (the clinic, a nurse, the schedule)")),
            (AskedBy.PATIENT, _("The patient, on the phone or by message")),
        ],
        initial=AskedBy.CLINIC,
        required=False,  # not answered: the clinic (a full refund, the patient is not at fault)
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Why is the visit cancelled?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text=_("Kept on the visit. The patient is told the visit is cancelled, not why."),
    )

    def clean_asked_by(self):
        return self.cleaned_data.get("asked_by") or AskedBy.CLINIC


class HoldReleaseForm(forms.Form):
    note = forms.CharField(
        label=_("What was done (a note for the patient's record)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("For example: spoke with the patient, safe to go ahead as planned."),
        error_messages={"required": _("Say what was done, for the patient's record.")},
    )


class VisitRefundForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the visit refunded in full?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text=_("Kept with the refund, e.g. 'No-show after a family emergency: refunded by the manager'."),
    )


class ReassignForm(forms.Form):
    """The nurses offered are those eligible and free; any active provider is accepted and the booking
    guard decides (someone may have booked them since the page was shown)."""

    # The queryset is the view's (active providers of the visit's kind), set in __init__.
    provider: "forms.ModelChoiceField[Provider]" = forms.ModelChoiceField(
        label=_("Give the visit to"),
        queryset=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose who takes the visit."), "invalid_choice": _("Choose a nurse offered.")},
    )

    def __init__(self, *args, queryset, offered, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = queryset
        self.offered = offered  # [(Provider, Candidate)], shown as the choices
        self.fields["provider"].choices = [(p.pk, str(p)) for p, _c in offered]


class PhoneSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find the patient on the line"),
        max_length=100,
        required=False,
        help_text=_("Name, email or phone number."),
    )


class PhoneSeriesForm(forms.Form):
    first_day = DayField(label=_("From"))
    part_of_day = forms.ChoiceField(
        label=_("Part of the day"),
        required=False,
        choices=[("", _("Any time")), ("morning", _("Mornings")), ("afternoon", _("Afternoons"))],
    )
