"""Patient-facing forms. They check what was typed; the services decide and save."""

import secrets
import time
from datetime import UTC, datetime
from decimal import Decimal

import phonenumbers
from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from localflavor.us.forms import USStateField, USZipCodeField
from phonenumber_field.formfields import PhoneNumberField

from concierge.inputs import DayField, DayInput
from concierge.models import User
from concierge.states import state_choices

from . import intake
from .instruments import DIFFICULTY_OPTIONS
from .models import WeightUnit, birth_date_problem
from .services import weight_to_kg

ANSWER_REQUIRED = _("Please answer this question.")
MIN_KG, MAX_KG = Decimal(30), Decimal(300)


class BirthDateField(DayField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Date of birth"))
        kwargs.setdefault("widget", DayInput(attrs={"autocomplete": "bday"}))
        kwargs.setdefault("input_formats", ["%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y"])
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value:
            problem = birth_date_problem(value)
            if problem:
                raise forms.ValidationError(problem, code="age")


class USPhoneField(PhoneNumberField):
    """A US phone number; `mobile=True` also refuses numbers that cannot receive texts (landline-only)."""

    def __init__(self, *, mobile=False, **kwargs):
        self.mobile = mobile
        kwargs.setdefault("region", "US")
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"type": "tel", "autocomplete": "tel-national", "inputmode": "tel"}),
        )
        kwargs.setdefault("error_messages", {"invalid": self.invalid_message()})
        super().__init__(**kwargs)

    def invalid_message(self):
        if self.mobile:
            return _("Enter a US mobile number, for example (212) 555-0143.")
        return _("Enter a US phone number, for example (212) 555-0143.")

    def clean(self, value):
        number = super().clean(value)
        if number:
            kinds = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
            if not self.mobile:
                kinds.add(phonenumbers.PhoneNumberType.FIXED_LINE)
            if phonenumbers.region_code_for_number(number) != "US" or phonenumbers.number_type(number) not in kinds:
                raise forms.ValidationError(self.invalid_message(), code="invalid")
        return number


# Each language named in itself: someone who cannot read the page can still find their own.
LANGUAGE_CHOICES = [("en", "English"), ("es", "Español")]


def language_field():
    return forms.ChoiceField(
        label=_("Language for pages, emails and texts"),
        choices=LANGUAGE_CHOICES,
        widget=forms.RadioSelect,
        required=False,  # left out: sign-up keeps the browser's language, the profile keeps its choice
    )


class SignUpForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    date_of_birth = BirthDateField(help_text=_("You must be 18 or older."))
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters. A few unrelated words make a strong password."),
    )
    password2 = forms.CharField(
        label=_("Type the password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    accept_terms = forms.BooleanField(
        label=_("I agree to the terms of service and the privacy notice"),
        error_messages={"required": _("Please agree to the terms and privacy notice to continue.")},
    )
    sms_opt_in = forms.BooleanField(
        label=_(
            "Text me visit reminders and updates. Message and data rates may apply; reply STOP to stop, HELP for "
            "help. Not required to get care."
        ),
        required=False,
    )
    language = language_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accept_terms"].help_text = format_html(
            '<a href="{}">{}</a>', reverse("patients:terms"), _("Read the terms and privacy notice")
        )

    def clean_email(self):
        # Never "this email already has an account": that would tell anyone who is a patient here.
        # The service answers both kinds of address the same way, by email.
        return User.objects.normalize_email(self.cleaned_data["email"])

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are not the same."))
        elif password1:
            try:
                password_validation.validate_password(password1, user=User(email=cleaned.get("email", "")))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class SignUpConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
        help_text=_("The one you chose when you signed up."),
    )


class ProfileForm(forms.Form):
    legal_first_name = forms.CharField(label=_("Legal first name"), max_length=100)
    legal_last_name = forms.CharField(label=_("Legal last name"), max_length=100)
    preferred_name = forms.CharField(label=_("Name you like to be called (optional)"), max_length=100, required=False)
    date_of_birth = BirthDateField()
    mobile_phone = USPhoneField(
        mobile=True,
        label=_("Mobile phone"),
        help_text=_("Your nurse calls or texts this number on the day of a visit."),
    )
    sms_opt_in = forms.BooleanField(
        label=_("Text me visit reminders and updates (reply STOP at any time)"), required=False
    )
    address_line1 = forms.CharField(
        label=_("Street address"),
        max_length=200,
        help_text=_("Where your visits will happen."),
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line2 = forms.CharField(
        label=_("Apartment, suite, etc. (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label=_("City"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    state = USStateField(
        label=_("State"),
        # A callable: asked at each render, in the reader's language (Django takes one; the stubs do not know).
        widget=forms.Select(attrs={"autocomplete": "address-level1"}, choices=state_choices),  # type: ignore[arg-type]
    )
    zip_code = USZipCodeField(
        label=_("ZIP code"),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
        # localflavor's own Spanish for this has a digit missing ("XXXX-XXXX"): ours is in our catalogue.
        error_messages={"invalid": _("Enter a ZIP code in the format XXXXX or XXXXX-XXXX.")},
    )
    weight = forms.DecimalField(
        label=_("Weight"),
        max_digits=5,
        decimal_places=1,
        min_value=Decimal("0.1"),
        help_text=_("Your dose is worked out from your weight."),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )
    weight_unit = forms.ChoiceField(
        label=_("Unit"), choices=WeightUnit.choices, widget=forms.RadioSelect, initial=WeightUnit.POUNDS
    )
    emergency_contact_name = forms.CharField(label=_("Emergency contact: name"), max_length=150)
    emergency_contact_phone = USPhoneField(label=_("Emergency contact: phone"))
    emergency_contact_relationship = forms.CharField(
        label=_("Emergency contact: relationship to you (optional)"), max_length=60, required=False
    )
    support_person_name = forms.CharField(
        label=_("Adult who stays with you after each visit: name"),
        max_length=150,
        help_text=_("You cannot drive until the next day, and someone must stay with you for a few hours."),
    )
    support_person_phone = USPhoneField(label=_("Their phone"))
    language = language_field()

    def clean(self):
        cleaned = super().clean()
        weight, unit = cleaned.get("weight"), cleaned.get("weight_unit")
        if weight is not None and unit:
            kg = weight_to_kg(weight, unit)
            if not MIN_KG <= kg <= MAX_KG:
                low, high = (66, 661) if unit == WeightUnit.POUNDS else (30, 300)
                self.add_error(
                    "weight",
                    _("Please check your weight: we expect between %(low)s and %(high)s %(unit)s.")
                    % {"low": low, "high": high, "unit": unit},
                )
            else:
                cleaned["weight_kg"] = kg
        return cleaned

    def profile_fields(self):
        """The cleaned values under the profile's own field names."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("weight",)}
        if not data.get("language"):
            data.pop("language", None)
        return data


# --- the intake ----------------------------------------------------------------------------------


def _month_validator(value):
    if value and not intake.MONTH_RE.match(value):
        raise forms.ValidationError(_("Enter the month and year like 2021-06."), code="month")
    if value and value > timezone.localdate().strftime("%Y-%m"):
        raise forms.ValidationError(_("That month is in the future."), code="future")


def _field_for(question):
    common = {"label": question.label, "help_text": question.help_text, "required": False}
    if question.kind == intake.YESNO:
        return forms.TypedChoiceField(
            choices=(("yes", _("Yes")), ("no", _("No"))),
            coerce=lambda v: v == "yes",
            empty_value=None,
            widget=forms.RadioSelect,
            **common,
        )
    if question.kind == intake.CHOICE:
        return forms.ChoiceField(choices=question.choices, widget=forms.RadioSelect, **common)
    if question.kind == intake.MULTI:
        return forms.MultipleChoiceField(choices=question.choices, widget=forms.CheckboxSelectMultiple, **common)
    if question.kind == intake.INTEGER:
        return forms.IntegerField(
            min_value=question.min_value,
            max_value=question.max_value,
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            **common,
        )
    if question.kind == intake.MONTH:
        return forms.CharField(
            max_length=7,
            validators=[_month_validator],
            widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
            **common,
        )
    return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), **common)


def _initial_value(question, value):
    if question.kind == intake.YESNO and isinstance(value, bool):
        return "yes" if value else "no"
    return value


class IntakeSectionForm(forms.Form):
    """One section of the intake. `draft=True` (save and come back later) lets answers be missing."""

    def __init__(self, *args, section, draft=False, answers=None, **kwargs):
        self.section = section
        self.draft = draft
        answers = answers or {}
        kwargs.setdefault(
            "initial", {q.key: _initial_value(q, answers.get(q.key)) for q in section.questions if q.key in answers}
        )
        super().__init__(*args, **kwargs)
        for question in section.questions:
            field = _field_for(question)
            # Unconditionally required questions are marked as such; the rest are checked in clean().
            field.required = question.required and question.required_when is None and not draft
            field.error_messages["required"] = ANSWER_REQUIRED
            self.fields[question.key] = field

    def clean(self):
        cleaned = super().clean()
        if self.draft:
            return cleaned
        for question in self.section.questions:
            if question.key in self.errors or question.required_when is None:
                continue
            value = cleaned.get(question.key)
            if value in (None, "", []) and question.is_required(cleaned):
                self.add_error(question.key, ANSWER_REQUIRED)
        return cleaned

    def answers(self):
        """The cleaned answers, JSON-ready, for every question of this section (empty ones as None)."""
        return {q.key: self.cleaned_data.get(q.key) for q in self.section.questions}


# --- symptom questionnaires -------------------------------------------------------------------------

SCREENING_SIGNING_SALT = "patients.screening"
TOKEN_MAX_AGE = 12 * 60 * 60


def screening_token(instrument):
    """A signed stamp for one displayed form: when it was shown (time taken) and a nonce (sent once)."""
    stamp = {"i": instrument, "t": int(time.time()), "n": secrets.token_urlsafe(16)}
    return signing.dumps(stamp, salt=SCREENING_SIGNING_SALT)


class ScreeningForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, definition, **kwargs):
        self.definition = definition
        super().__init__(*args, **kwargs)
        # The instrument's own wording in the language of a validated version (PCL-5: English).
        with translation.override(definition.shown_in(translation.get_language())):
            options = [(value, str(label)) for value, label in definition.options]
            items = [str(text) for text in definition.items]
            difficulty = str(definition.difficulty_question)
            difficulty_options = [(value, str(label)) for value, label in DIFFICULTY_OPTIONS]
        for number, text in enumerate(items, start=1):
            self.fields[f"item_{number}"] = forms.TypedChoiceField(
                label=text,
                choices=options,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": _("Please choose an answer.")},
            )
        if definition.difficulty_question:
            self.fields["difficulty"] = forms.TypedChoiceField(
                label=difficulty,
                choices=difficulty_options,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )

    def item_fields(self):
        return [self[f"item_{n}"] for n in range(1, len(self.definition.items) + 1)]

    def clean_token(self):
        try:
            stamp = signing.loads(self.cleaned_data["token"], salt=SCREENING_SIGNING_SALT, max_age=TOKEN_MAX_AGE)
        except signing.BadSignature as error:
            raise forms.ValidationError(
                _("This page was open for too long. Your answers are below: please send them again."), code="expired"
            ) from error
        if stamp.get("i") != self.definition.code:
            raise forms.ValidationError(_("Please start this questionnaire again."), code="mismatch")
        return stamp

    def item_answers(self):
        return [self.cleaned_data[f"item_{n}"] for n in range(1, len(self.definition.items) + 1)]

    def started_at(self):
        return datetime.fromtimestamp(self.cleaned_data["token"]["t"], tz=UTC)

    def form_token(self):
        return self.cleaned_data["token"]["n"]


class ConsentForm(forms.Form):
    """Sign the informed consent: the version and language of the text read, the legal name typed,
    the box ticked."""

    version = forms.CharField(widget=forms.HiddenInput)
    language = forms.ChoiceField(choices=settings.LANGUAGES, widget=forms.HiddenInput)
    typed_name = forms.CharField(
        label=_("Type your full legal name to sign"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    agreed = forms.BooleanField(
        label=_(
            "I have read this consent form, I have been able to ask questions, and I agree to receive "
            "ketamine infusions at home."
        ),
        required=True,
        error_messages={"required": _("Please tick the box to confirm you have read and agree.")},
    )


SCREENING_ITEMS_PER_STEP = 4


def screening_steps(definition) -> list[list[str]]:
    """The questionnaire's screens: a few items each; the difficulty question joins the last one."""
    names = [f"item_{n}" for n in range(1, len(definition.items) + 1)]
    steps = [names[i : i + SCREENING_ITEMS_PER_STEP] for i in range(0, len(names), SCREENING_ITEMS_PER_STEP)]
    if definition.difficulty_question:
        steps[-1] = [*steps[-1], "difficulty"]
    return steps


def step_number(value, steps) -> int:
    """The screen asked for (a query or form value), kept within the form's screens."""
    try:
        return min(max(int(value or 0), 0), len(steps) - 1)
    except (TypeError, ValueError):
        return 0
