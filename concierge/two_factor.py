"""Two-step login (TOTP apps such as Google Authenticator or 1Password) with recovery codes.

Required for staff, clinicians and nurses: they see protected health information. Patients may
turn it on. Built on django-otp: a confirmed `TOTPDevice` for the app, and a `StaticDevice`
holding ten single-use recovery codes. A session is "verified" once a code was accepted in it
(django_otp.login); `TwoFactorMiddleware` sends anyone who needs it to set up or verify first.
"""

import base64
from io import BytesIO

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .errors import ApplicationError
from .models import Role

RECOVERY_CODE_COUNT = 10


class InvalidCode(ApplicationError):
    default_message = _("That code did not work. Check the time on your phone and try the newest code.")
    code = "invalid_code"


def two_factor_required(user):
    """Staff, clinicians and nurses always; a patient once they turned it on."""
    if not settings.TWO_FACTOR_ENFORCED or not user.is_authenticated:
        return False
    if user.is_staff or user.has_role(Role.STAFF, Role.CLINICIAN, Role.NURSE):
        return True
    return two_factor_enabled(user)


def two_factor_enabled(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_device_start(*, user):
    """A new, unconfirmed authenticator for this user (any earlier unconfirmed one is dropped)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def totp_device_pending(*, user):
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def totp_qr_data_uri(device):
    """The otpauth:// link as an SVG QR code in a data: URI (allowed by the CSP's img-src)."""
    buffer = BytesIO()
    segno.make(device.config_url, error="m").save(buffer, kind="svg", scale=5, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def totp_secret_for_typing(device):
    """The secret in groups of four, for people who cannot scan the code."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def totp_device_confirm(*, request, device, token):
    """Check the first code from the app; on success the app is the user's second step.

    Returns the new recovery codes, which the person must see exactly once.
    """
    user = request.user
    if device.user_id != user.pk or device.confirmed or not device.verify_token(_clean(token)):
        raise InvalidCode()
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    django_otp.login(request, device)
    return recovery_codes_regenerate(user=user)


@transaction.atomic
def recovery_codes_regenerate(*, user):
    """Ten fresh single-use codes; the old ones stop working."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name="Recovery codes")
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def two_factor_verify(*, request, token):
    """Accept a code from the app or a recovery code (used up) and mark the session verified."""
    token = _clean(token)
    user = request.user
    devices = TOTPDevice.objects.filter(user=user, confirmed=True) if token.isdigit() else []
    if not token.isdigit():
        devices = StaticDevice.objects.filter(user=user, confirmed=True)
    for device in devices:
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            # django-otp doubles the wait after each wrong code, per device.
            raise InvalidCode(_("Too many wrong codes. Wait a few seconds, then type the newest code."))
        if django_otp.verify_token(user, device.persistent_id, token):
            django_otp.login(request, device)
            return device
    raise InvalidCode()


@transaction.atomic
def two_factor_disable(*, user):
    """Patients only: staff, clinicians and nurses must keep their second step."""
    if user.is_staff or user.has_role(Role.STAFF, Role.CLINICIAN, Role.NURSE):
        raise ApplicationError(_("Two-step login is required for your role and cannot be turned off."))
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def current_code(device, drift=0):
    """The code the app shows now; drift=1 is the next one (a used code is not accepted twice)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def _clean(token):
    return "".join((token or "").split()).lower()
