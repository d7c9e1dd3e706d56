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
from django.utils.translation import gettext_lazy as _

from .signals import password_reset_requested

logger = logging.getLogger(__name__)


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
