"""Clinic-language names for the third-party apps' sections in admin ("AXES" and "OTP_STATIC"
meant nothing to a scheduler). Each is the app's own AppConfig with another verbose_name."""

from auditlog.apps import AuditlogConfig
from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.apps import DefaultConfig as StaticConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpConfig


class Axes(AxesAppConfig):
    verbose_name = _("Sign-in attempts and lockouts")


class OtpTotp(TotpConfig):
    verbose_name = _("Two-step login: authenticator apps")


class OtpStatic(StaticConfig):
    verbose_name = _("Two-step login: recovery codes")


class Auditlog(AuditlogConfig):
    verbose_name = _("Audit trail")
