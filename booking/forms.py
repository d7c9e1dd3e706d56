from datetime import UTC, datetime

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from phonenumber_field.formfields import PhoneNumberField

from concierge.forms import DirectTextInput
from concierge.geo import normalize_zip, zip_lookup
from concierge.inputs import DayField, in_range

from .models import PartOfDay


class ZipField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("ZIP code"))
        kwargs.setdefault("max_length", 10)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "postal-code", "pattern": "[0-9-]*"})

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        if zip_lookup(value) is None:
            raise forms.ValidationError(_("We do not recognise this ZIP code. Please check it (5 digits)."))
        return normalize_zip(value)


class CoverageForm(forms.Form):
    """The public ZIP check. Drawn by its own template (booking/_coverage_field.html), not crispy: it
    is the busiest public page, and one field does not need the layout engine."""

    zip_code = ZipField(
        help_text=_("The ZIP code of the home where you would have your infusions."), widget=DirectTextInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zip_code"].widget.attrs["class"] = "textinput form-control"

    def full_clean(self):
        super().full_clean()
        if "zip_code" in self._errors:  # as crispy marks a field in error (Bootstrap's classes)
            attrs = self.fields["zip_code"].widget.attrs
            attrs["class"] += " is-invalid"
            attrs["aria-describedby"] = "id_zip_code_helptext id_zip_code_error"


class WaitlistForm(forms.Form):
    zip_code = ZipField()
    email = forms.EmailField(label=_("Email"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = PhoneNumberField(
        label=_("Or a mobile phone number"),
        region="US",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )

    def clean(self):
        data = super().clean()
        if (
            not data.get("email")
            and not data.get("phone")
            and not self.has_error("email")
            and not self.has_error("phone")
        ):
            self.add_error("email", _("Give an email address or a phone number so we can tell you."))
        return data


class StartTimeForm(forms.Form):
    """A start time chosen from the list (UTC, ISO 8601), carried in a hidden field."""

    starts_at = forms.CharField(widget=forms.HiddenInput)

    def clean_starts_at(self):
        return parse_start(self.cleaned_data["starts_at"])


def parse_start(value):
    unreadable = _("That time could not be read. Please choose a time again.")
    try:
        moment = datetime.fromisoformat((value or "").strip()).astimezone(UTC)
    except (ValueError, OverflowError):  # also a naive time (astimezone needs the local zone), or year 1 in UTC+14
        raise forms.ValidationError(unreadable) from None
    if not in_range(moment.date()) or "T" not in (value or "").upper():
        raise forms.ValidationError(unreadable)
    return moment


def start_param(moment):
    """How a start time travels in links and forms."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you cancelling? (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Please do not include medical details; call us if something has changed with your health."),
    )


PART_OF_DAY = [("", _("Any time")), ("morning", _("Mornings")), ("afternoon", _("Afternoons"))]


class SeriesStartForm(forms.Form):
    first_day = DayField(label=_("First infusion on or after"))
    part_of_day = forms.ChoiceField(
        label=_("Preferred time of day"), choices=PART_OF_DAY, required=False, widget=forms.RadioSelect
    )

    def __init__(self, *args, first=None, last=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.first, self.last = first, last
        if first and last:
            self.fields["first_day"].widget.attrs.update({"min": first.isoformat(), "max": last.isoformat()})

    def clean_first_day(self):
        day = self.cleaned_data["first_day"]
        if self.first and day < self.first:
            raise forms.ValidationError(
                _("Please choose a date from %(date)s.")
                % {"date": formats.date_format(self.first, "MONTH_DAY_SHORT_FORMAT")}
            )
        if self.last and day > self.last:
            raise forms.ValidationError(
                _("Please choose a date up to %(date)s.")
                % {"date": formats.date_format(self.last, "MONTH_DAY_SHORT_FORMAT")}
            )
        return day


class TimeWaitlistForm(forms.Form):
    """The times a patient would take if one frees up: days of the week, parts of the day, dates."""

    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days of the week"),
        coerce=int,
        choices=[
            (0, pgettext_lazy("a day of the week, as a choice", "Monday")),
            (1, pgettext_lazy("a day of the week, as a choice", "Tuesday")),
            (2, pgettext_lazy("a day of the week, as a choice", "Wednesday")),
            (3, pgettext_lazy("a day of the week, as a choice", "Thursday")),
            (4, pgettext_lazy("a day of the week, as a choice", "Friday")),
            (5, pgettext_lazy("a day of the week, as a choice", "Saturday")),
            (6, pgettext_lazy("a day of the week, as a choice", "Sunday")),
        ],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one day of the week.")},
    )
    parts_of_day = forms.MultipleChoiceField(
        label=_("Parts of the day"),
        choices=PartOfDay.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one part of the day.")},
    )
    first_day = DayField(label=_("From"))
    last_day = DayField(label=_("Until"))

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", _("The end must be on or after the start."))
        return data


class OfferAnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=[("accept", "accept"), ("decline", "decline")])
