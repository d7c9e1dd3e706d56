from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Channel, MessageStatus


class OutboxFilterForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("Email and text")), *Channel.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *MessageStatus.choices]
    )
