import logging

from django import forms
from django.conf import settings
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from .signals import password_reset_requested

logger = logging.getLogger(__name__)


class DirectTextInput(forms.TextInput):
    """A text input that writes Django's markup directly instead of through the form renderer's
    templates (django/forms/widgets/input.html and attrs.html): a tenth of the time of the
    busiest public page, the coverage check. concierge/tests/test_forms_direct.py holds it to
    Django's own rendering."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        html = format_html('<input type="{}" name="{}"', widget["type"], widget["name"])
        if widget["value"] is not None:
            html += format_html(' value="{}"', widget["value"])
        for attr, attr_value in widget["attrs"].items():
            if attr_value is True:
                html += format_html(" {}", attr)
            elif attr_value is not False:
                html += format_html(' {}="{}"', attr, attr_value)
        return format_html("{}>", html)  # each part went through format_html: safe, kept as is


class EmailLoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "That email and password do not match an account. Both are case-sensitive "
            "except the email; check them and try again."
        ),
        "inactive": _("This account is closed. Please call us if you need it again."),
    }


class ResetRequestForm(PasswordResetForm):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        help_text=_("We will email a link to reset your password if this address has an account."),
    )

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        """Hand the reset link to the outbox (notifications, through the signal) instead of sending it here.

        Django calls this once per account with that address. Sending from the request made an
        address with an account answer measurably slower than one without; now no mail server is
        contacted in the request either way, and the outbox sends the email (its link hidden from
        staff). As in Django's own send_mail, a failure is logged, not shown.
        """
        user = context["user"]
        reset_url = settings.SITE_URL + reverse(
            "password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]}
        )
        try:
            written = password_reset_requested.send(sender=type(self), user=user, reset_url=reset_url)
        except Exception:
            logger.exception("password reset: the email for user %s could not be written", user.pk)
            return
        if not written:
            logger.error("password reset: nothing listens to password_reset_requested; no email was written")


class NewPasswordForm(SetPasswordForm):
    pass


class ChangePasswordForm(PasswordChangeForm):
    pass
