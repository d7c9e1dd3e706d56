"""Forms for secure messages and follow-up check-ins. They check what was typed; the services decide."""

import secrets

from django import forms
from django.utils.translation import gettext_lazy as _

from .messaging import MAX_BODY
from .models import Feeling, SideEffect, SideEffectSeverity, ThreadTopic


def new_form_token():
    """One per displayed form: sending the same form twice sends once."""
    return secrets.token_hex(16)


class _TokenMixin(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_token(self):
        token = self.cleaned_data["token"]
        if not token.isalnum():
            raise forms.ValidationError(_("Please reload the page and try again."))
        return token


def _body_field(label, help_text=""):
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": MAX_BODY}),
        error_messages={"required": _("Please write your message.")},
    )


class ThreadStartForm(_TokenMixin):
    topic = forms.ChoiceField(
        label=_("What is it about?"),
        choices=ThreadTopic.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose what it is about.")},
        help_text=_("Questions about your health are answered by a clinician."),
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=120,
        error_messages={"required": _("Please give your message a subject.")},
    )
    body = _body_field(_("Your message"))


class ReplyForm(_TokenMixin):
    body = _body_field(_("Your reply"))


class TopicForm(forms.Form):
    topic = forms.ChoiceField(label=_("Who should answer"), choices=ThreadTopic.choices)


class CheckInForm(forms.Form):
    feeling = forms.TypedChoiceField(
        label=_("How are you feeling today?"),
        choices=Feeling.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose how you are feeling.")},
    )
    side_effects = forms.MultipleChoiceField(
        label=_("Since your visit, have you had any of these? Tick all that apply, or none."),
        choices=SideEffect.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    side_effect_severity = forms.ChoiceField(
        label=_("If you ticked any: how bad were they?"),
        choices=SideEffectSeverity.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    other_side_effect = forms.CharField(
        label=_("Something else: what did you notice?"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean(self):
        cleaned = super().clean()
        effects = cleaned.get("side_effects") or []
        if effects and not cleaned.get("side_effect_severity"):
            self.add_error("side_effect_severity", _("Please say how bad the side effects were."))
        if SideEffect.OTHER in effects and not (cleaned.get("other_side_effect") or "").strip():
            self.add_error("other_side_effect", _("Please tell us what else you noticed."))
        return cleaned
