import functools
import http.client
import time
from zoneinfo import ZoneInfo

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from .access import PUBLIC, WEBHOOK, rule_for
from .db import kept_row_by
from .models import Role
from .two_factor import two_factor_enabled, two_factor_required

# Nothing on the site needs these browser features; the nurse's check-in may ask for location.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(self), gyroscope=(), "
    "magnetometer=(), microphone=(), payment=(self), usb=(), interest-cohort=()"
)


class RefuseNulMiddleware:
    """400 for a NUL character anywhere in the path, the query string or a posted form.

    No field, id or link of ours ever holds one, and PostgreSQL refuses to store or compare a
    text containing it (psycopg raises ValueError: a 500). Django's form fields already refuse
    NUL; this covers what a view reads straight from the URL or request.GET.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _has_nul(request.GET) or (_is_form_post(request) and _has_nul(request.POST)):
            return HttpResponseBadRequest(_("This request contains characters we cannot read."))
        return self.get_response(request)


def _is_form_post(request):
    # Only url-encoded bodies: reading a multipart body here would consume its stream.
    return request.method == "POST" and request.content_type == "application/x-www-form-urlencoded"


def _has_nul(query):
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query.lists())


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response to a logged-in person, and on every page that is
    not public: a shared phone or a family laptop must not show a patient's pages from its cache
    (or its back button) after they logged out.

    Public pages (concierge/access.py: the home page, coverage, logging in) keep the browser's
    defaults for visitors who are not logged in. Static files never get here (WhiteNoise serves
    them before this middleware, with their own far-future headers).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or not _is_public(request):
            add_never_cache_headers(response)
        return response


def _is_public(request):
    match = getattr(request, "resolver_match", None)
    if match is None:
        return False
    rule = rule_for(match.view_name)
    return rule is not None and rule.access in (PUBLIC, WEBHOOK)


class SecurityHeadersMiddleware:
    """Headers Django does not set itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


def idle_timeout_seconds(user):
    """Staff, clinicians and nurses: 15 minutes; patients: 30 (settings)."""
    if user.is_staff or user.has_role(Role.NURSE, Role.CLINICIAN, Role.STAFF):
        return settings.SESSION_IDLE_TIMEOUT_STAFF
    return settings.SESSION_IDLE_TIMEOUT_PATIENT


class UserLanguageMiddleware:
    """A logged-in person reads the site in their own language (the profile's choice).

    Visitors get Django's LocaleMiddleware: the header switch's cookie, else the browser's
    Accept-Language. Runs after AuthenticationMiddleware. The language is the request's only: the
    thread goes back to the one it had once the response is made (code that runs after it in the
    same thread, a test's next service call, is not in the patient's language).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.language not in dict(settings.LANGUAGES):
            return self.get_response(request)
        request.LANGUAGE_CODE = user.language
        with translation.override(user.language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", user.language)  # LocaleMiddleware's, for this language
        return response


class IdleTimeoutMiddleware:
    """Ends a logged-in session after a quiet spell, measured on the server.

    The page shows a warning shortly before (static/js/session-timeout.js reads the timeout
    from the <body>); the server is the authority. Activity is written at most once a minute so
    that a busy page does not save the session on every request.
    """

    KEY = "last_activity"
    EXEMPT_PATHS = ("/healthz", "/static/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(self.EXEMPT_PATHS):
            return self.get_response(request)
        now = int(time.time())
        timeout = idle_timeout_seconds(user)
        request.idle_timeout_seconds = timeout
        last = request.session.get(self.KEY, now)
        if now - last > timeout:
            logout(request)
            messages.info(
                request,
                _("You were logged out after %(minutes)d minutes without activity.") % {"minutes": timeout // 60},
            )
            return redirect_to_login(request.get_full_path())
        if now - last >= 60 or self.KEY not in request.session:
            request.session[self.KEY] = now
        return self.get_response(request)


class TwoFactorMiddleware:
    """Sends a logged-in person who needs a second step to set it up or enter a code.

    Runs after django-otp's OTPMiddleware (TwoStepDeviceMiddleware: whether this session was verified).
    Everything is closed to them until then, the admin included, except the two-step pages,
    logging out and static files.
    """

    OPEN_PATHS = ("/accounts/2fa/", "/accounts/logout/", "/static/", "/healthz", "/session/keepalive")
    SESSION_KEY = "two_factor_not_needed"

    def _required(self, request, user):
        """Asked once per session for people who do not need it (most patients): saves two queries a page.

        A patient who turns it on in this session is verified by doing so, so the answer cannot go stale.
        """
        if request.session.get(self.SESSION_KEY):
            return False
        required = two_factor_required(user)
        if not required:
            request.session[self.SESSION_KEY] = True
        return required

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(self.OPEN_PATHS)
            and self._required(request, user)
        ):
            request.session.pop(self.SESSION_KEY, None)
            target = "two-factor-verify" if two_factor_enabled(user) else "two-factor-setup"
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class ClinicTimeZoneMiddleware:
    """Staff pages (admin, the staff inbox, the outbox) show times in the clinic's zone, labelled,
    instead of UTC next to visit-zone times. Patients' and nurses' pages keep the visit's zone."""

    STAFF_PREFIXES = ("/admin/", "/staff/", "/outbox/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(self.STAFF_PREFIXES):
            timezone.activate(ZoneInfo(settings.CLINIC_TIME_ZONE))
            try:
                return self.get_response(request)
            finally:
                timezone.deactivate()
        return self.get_response(request)


# A response names its own policy through these (django-csp's decorators: the payment page's).
_CSP_OWN_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)


@functools.cache
def _site_policy() -> str:
    """The site's Content-Security-Policy header, as django-csp builds it from the settings."""
    return build_policy()


@receiver(setting_changed)
def _site_policy_forget(*, setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _site_policy.cache_clear()


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the site's policy built once instead of for every response.

    django-csp builds the header again for each response (copying its settings into dataclasses
    and joining every directive: ~0.2 ms, an eighth of what a signed-in request costs before its
    page reads anything). A response that names no policy of its own, uses no nonce and is not
    excluded gets the same header every time: that one is kept. Everything else (the payment
    page's Stripe additions, a nonce, a report-only policy, the debug pages) goes through
    django-csp as before.
    """

    def process_response(self, request, response):
        if (
            getattr(request, "_csp_nonce", None) is None
            and not any(hasattr(response, name) for name in _CSP_OWN_POLICY)
            and HEADER not in response
            and not getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            and not (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get("EXCLUDE_URL_PREFIXES")
            and not (
                settings.DEBUG and response.status_code in (http.client.NOT_FOUND, http.client.INTERNAL_SERVER_ERROR)
            )
        ):
            response[HEADER] = _site_policy()
            # As django-csp does: a nonce asked for after the header is written is an error.
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
            return response
        return super().process_response(request, response)


class TwoStepDeviceMiddleware(OTPMiddleware):
    """django-otp's middleware, with the session's two-step device read through a statement
    compiled once per process (`concierge.db.kept_row_by`): the ORM compiled it again on every
    request of every nurse, clinician and staff member (~0.7 ms). What is done with the device
    (it must be the login's own and confirmed) is django-otp's, unchanged."""

    def _device_from_persistent_id(self, persistent_id):
        persistent_id = self._normalize_persistent_id(persistent_id)
        try:
            label, device_id = persistent_id.rsplit("/", 1)
            model = apps.get_model(label)
            device_id = int(device_id)
        except (ValueError, LookupError):
            return None
        if not issubclass(model, Device):
            return None
        return kept_row_by(model, "id", device_id)
