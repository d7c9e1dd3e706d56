"""Chart forms for a phone: big fields, numeric keypads, every error beside its field.

Forms are rendered with `novalidate`: the server checks everything and re-renders with what was
typed, so a phone's own validation never hides a value or a message.
"""

import uuid
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from concierge.inputs import finite_number
from concierge.models import Role, User

from . import protocol
from .models import ActionTaken, AdverseEventKind, ChartSection

NUMERIC = {"inputmode": "numeric", "autocomplete": "off"}
DECIMAL = {"inputmode": "decimal", "autocomplete": "off"}


def _token():
    return uuid.uuid4().hex


class TokenMixin(forms.Form):
    """A token per rendered form: sending the same form twice records it once."""

    form_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64, initial=_token)


def _int_field(name, label, help_text=""):
    low, high = protocol.PLAUSIBLE[name]
    message = _("Enter a value between %(low)s and %(high)s.") % {"low": low, "high": high}
    return forms.IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        help_text=help_text,
        widget=forms.TextInput(attrs=NUMERIC),
        error_messages={
            "min_value": message,
            "max_value": message,
            "invalid": _("Enter a whole number."),
            "required": _("Enter this value."),
        },
    )


class VitalsFields(forms.Form):
    """Blood pressure, heart rate, SpO2, breathing and sedation; protocol limits ask for the action taken."""

    systolic = _int_field("systolic", _("Systolic (mmHg)"))
    diastolic = _int_field("diastolic", _("Diastolic (mmHg)"))
    heart_rate = _int_field("heart_rate", _("Heart rate (/min)"))
    spo2 = _int_field("spo2", _("SpO2 (%)"))
    respiratory_rate = _int_field("respiratory_rate", _("Resp. rate (/min)"))
    sedation_note = forms.CharField(
        label=_("Sedation / dissociation"),
        required=False,
        max_length=300,
        help_text=_("For example: calm, mild dissociation, responds to voice."),
    )
    action_taken = forms.ChoiceField(
        label=_("Action taken"),
        choices=ActionTaken.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    action_note = forms.CharField(label=_("What you did (details)"), required=False, max_length=300)

    VITALS_FIELDS = ("systolic", "diastolic", "heart_rate", "spo2", "respiratory_rate")

    def __init__(self, *args, paused=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.alerts = []
        # The infusion was paused or stopped: the next reading may say it resumed.
        self.paused = paused

    def clean(self):
        data = super().clean()
        systolic, diastolic = data.get("systolic"), data.get("diastolic")
        if systolic is not None and diastolic is not None and diastolic >= systolic:
            self.add_error("diastolic", _("The diastolic (bottom) number must be below the systolic."))
        values = {name: data.get(name) for name in self.VITALS_FIELDS}
        self.alerts = protocol.vitals_alerts(values)
        if self.alerts and not data.get("action_taken"):
            self.add_error("action_taken", _("This reading is past the protocol limits: choose what you did."))
        return data

    @property
    def alert_messages(self):
        return protocol.alert_messages(self.alerts)

    @property
    def only_needs_action(self):
        """The reading is valid and only waits for the action taken (the warning says it all)."""
        return bool(self.alerts) and set(self.errors) == {"action_taken"}

    @property
    def show_action(self):
        return self.paused or bool(self.alerts) or bool(self.data.get("action_taken")) or "action_taken" in self.errors


def _time_field(label, required=True, help_text=""):
    return forms.TimeField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        input_formats=["%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p"],
        error_messages={"invalid": _("Enter a time such as 09:40."), "required": _("Enter the time.")},
    )


class OnMyWayForm(forms.Form):
    eta_from = _time_field(_("Arriving from"), required=False)
    eta_until = _time_field(_("Arriving by"), required=False)

    def clean(self):
        data = super().clean()
        if (data.get("eta_from") is None) != (data.get("eta_until") is None) and not self.errors:
            missing = "eta_until" if data.get("eta_until") is None else "eta_from"
            self.add_error(missing, _("Give both times, or leave both empty to use the estimate."))
        return data


def _coordinate(value, limit):
    # The phone's script fills these; anything else (NaN, Infinity, text) means "no location".
    number = finite_number(value)
    if number is None or not -limit <= number <= limit:
        return None
    return number.quantize(Decimal("0.000001"))


class CheckInForm(VitalsFields):
    adult_present = forms.BooleanField(
        label=_("The adult who stays is here"),
        error_messages={"required": _("The adult who stays must be there before you start.")},
    )
    prep_followed = forms.BooleanField(
        label=_("The patient followed the preparation (no food for 6 hours, clear liquids until 2 hours before)"),
        error_messages={
            "required": _("Confirm the preparation was followed, or record a no-show or call the clinician.")
        },
    )
    # Filled by the phone (nurses/static/nurses/check-in.js) when it shares its location.
    latitude = forms.CharField(widget=forms.HiddenInput, required=False)
    longitude = forms.CharField(widget=forms.HiddenInput, required=False)
    accuracy = forms.CharField(widget=forms.HiddenInput, required=False)

    field_order = ["adult_present", "prep_followed", *VitalsFields.VITALS_FIELDS, "sedation_note"]

    def location(self):
        """(latitude, longitude, accuracy in m) when the phone gave a usable one, else Nones."""
        lat = _coordinate(self.cleaned_data.get("latitude"), 90)
        lng = _coordinate(self.cleaned_data.get("longitude"), 180)
        if lat is None or lng is None:
            return None, None, None
        metres = finite_number(self.cleaned_data.get("accuracy"))
        accuracy = None
        if metres is not None:
            accuracy = max(0, min(100000, round(metres))) or None
        return lat, lng, accuracy


class VitalsForm(TokenMixin, VitalsFields):
    taken_at = _time_field(_("Time taken"))

    field_order = ["taken_at", *VitalsFields.VITALS_FIELDS, "sedation_note"]


class DoseForm(TokenMixin):
    weight = forms.DecimalField(
        label=_("Weight today"),
        max_digits=5,
        decimal_places=1,
        min_value=Decimal("1"),
        widget=forms.TextInput(attrs=DECIMAL),
        error_messages={
            "invalid": _("Enter a number, such as 181.5."),
            "required": _("Weigh the patient and enter the weight."),
            "max_decimal_places": _("Use at most one decimal place."),
            "max_digits": _("That weight is too large."),
            "min_value": _("Enter the weight."),
        },
    )
    weight_unit = forms.ChoiceField(
        label=_("Unit"), choices=[("lb", _("lb")), ("kg", _("kg"))], widget=forms.RadioSelect, initial="lb"
    )
    confirmed_dose_mg = forms.DecimalField(widget=forms.HiddenInput, required=False, max_digits=6, decimal_places=1)
    confirm = forms.BooleanField(label=_("I have checked this dose against the plan"), required=False)
    lot_number = forms.CharField(label=_("Lot number"), max_length=40, required=False)
    volume_ml = forms.DecimalField(
        label=_("Volume (mL)"),
        max_digits=6,
        decimal_places=1,
        required=False,
        min_value=protocol.VOLUME_ML_RANGE[0],
        max_value=protocol.VOLUME_ML_RANGE[1],
        widget=forms.TextInput(attrs=DECIMAL),
        error_messages={
            "invalid": _("Enter a number, such as 100."),
            "min_value": _("Enter a volume between 1 and 1000 mL."),
            "max_value": _("Enter a volume between 1 and 1000 mL."),
        },
    )
    started_at = _time_field(_("Infusion started"), required=False)
    stopped_at = _time_field(_("Infusion stopped"), required=False, help_text=_("Leave empty while it runs."))
    adverse_events = forms.MultipleChoiceField(
        label=_("Adverse events"),
        choices=AdverseEventKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    adverse_event_note = forms.CharField(
        label=_("Adverse events: details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    weight_change_confirmed = forms.BooleanField(
        label=_("I weighed again: the change from the last weight is real"), required=False
    )
    short_reason = forms.CharField(
        label=_("Why was it shorter than planned?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when the infusion ran less than 80% of the plan's minutes."),
    )

    def __init__(self, *args, last_weight_kg=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The patient's last recorded weight: an impossible weight, or one in the wrong unit, is caught
        # before the dose is shown.
        self.last_weight_kg = last_weight_kg

    def clean(self):
        data = super().clean()
        weight, unit = data.get("weight"), data.get("weight_unit")
        if weight is not None and unit:
            refusal = protocol.weight_refusal(weight, unit, self.last_weight_kg)
            if refusal is not None:
                self.add_error("weight", refusal)
        return data

    def weight_kg(self):
        """Today's weight in kg once the weight fields are valid, else None."""
        if self.errors.get("weight") or self.errors.get("weight_unit"):
            return None
        data = getattr(self, "cleaned_data", {})
        if data.get("weight") is None or not data.get("weight_unit"):
            return None
        return protocol.weight_kg(data["weight"], data["weight_unit"])

    def check_record(self):
        """The checks that apply when recording (not when only calculating); errors go beside fields."""
        data = self.cleaned_data
        if not data.get("confirm"):
            self.add_error("confirm", _("Confirm the dose before recording it."))
        if not (data.get("lot_number") or "").strip():
            self.add_error("lot_number", _("Enter the lot number from the vial."))
        if data.get("volume_ml") is None and "volume_ml" not in self.errors:
            self.add_error("volume_ml", _("Enter the volume in mL."))
        if data.get("started_at") is None and "started_at" not in self.errors:
            self.add_error("started_at", _("Enter the time the infusion started."))
        if "other" in (data.get("adverse_events") or []) and not (data.get("adverse_event_note") or "").strip():
            self.add_error("adverse_event_note", _("Describe the other event."))
        return not self.errors


class DischargeForm(TokenMixin):
    baseline_mental_status = forms.BooleanField(
        label=_("Back to their baseline mental status (alert, oriented, talking as before)"),
        error_messages={"required": _("Confirm this before the patient is discharged.")},
    )
    vitals_near_baseline = forms.BooleanField(
        label=_("Vitals back near the baseline"),
        error_messages={"required": _("Confirm this before the patient is discharged.")},
    )
    adult_present = forms.BooleanField(
        label=_("The adult who stays is present"),
        error_messages={"required": _("Confirm this before the patient is discharged.")},
    )
    instructions_given = forms.BooleanField(
        label=_("Instructions given: no driving until the next day, no alcohol for 24 hours"),
        error_messages={"required": _("Confirm this before the patient is discharged.")},
    )
    note = forms.CharField(label=_("Note (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SignForm(forms.Form):
    signature_name = forms.CharField(
        label=_("Type your full name to sign"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Type your full name to sign.")},
    )
    confirm = forms.BooleanField(
        label=_("I confirm this chart is complete and correct"),
        error_messages={"required": _("Confirm the chart to sign it.")},
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("What happened"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("Say what happened.")},
    )


class OverrideForm(TokenMixin):
    """A clinician's override of a protocol stop, as the nurse heard it on the phone."""

    clinician = forms.ModelChoiceField(
        label=_("Clinician who decided"),
        queryset=User.objects.none(),
        error_messages={"required": _("Choose the clinician who decided.")},
    )
    reason = forms.CharField(
        label=_("Their decision and why"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("Say why the clinician decided to go on.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["clinician"]
        field.queryset = User.objects.filter(groups__name=Role.CLINICIAN, is_active=True).order_by(
            "last_name", "first_name"
        )
        field.label_from_instance = lambda user: user.get_full_name() or user.email


class AmendForm(TokenMixin):
    section = forms.ChoiceField(label=_("Part of the chart"), choices=ChartSection.choices)
    text = forms.CharField(
        label=_("Correction or addition"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        error_messages={"required": _("Write the correction or addition.")},
    )
    reason = forms.CharField(
        label=_("Reason for the amendment"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": _("Give the reason for the amendment.")},
    )
