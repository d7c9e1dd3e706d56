import functools

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import two_factor
from .demo import DEMO_EMAIL_DOMAIN
from .errors import ApplicationError
from .ratelimit import rate_limit


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"}),
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
    )


def _next_url(request, default="home-for-user"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return resolve_url(default) if default else ""


def second_step_first(view):
    """Changing the second step needs the second step.

    These pages are open to a session that has typed only the password (so that people can get
    through the second step). Without this check such a session could pair another app, see new
    recovery codes or turn the second step off, and so skip the code altogether.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if settings.TWO_FACTOR_ENFORCED and two_factor.two_factor_enabled(user) and not user.is_verified():
            back = request.get_full_path() if request.method == "GET" else resolve_url("home-for-user")
            return redirect(f"{reverse('two-factor-verify')}?{urlencode({'next': back})}")
        return view(request, *args, **kwargs)

    return wrapped


@login_required
@second_step_first
def setup(request):
    """Pair an authenticator app: scan, type the first code, get recovery codes once."""
    device = two_factor.totp_device_pending(user=request.user)
    if device is None or (request.method == "GET" and "restart" in request.GET):
        device = two_factor.totp_device_start(user=request.user)
    form = CodeForm(request.POST or None)
    form.fields["code"].help_text = _("The 6-digit code your app shows for ConciergeMD.")
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.totp_device_confirm(request=request, device=device, token=form.cleaned_data["code"])
        except ApplicationError as error:
            form.add_error("code", error.message)
        else:
            return render(request, "account/recovery_codes.html", {"codes": codes, "next": _next_url(request)})
    return render(
        request,
        "account/two_factor_setup.html",
        {
            "form": form,
            "qr": two_factor.totp_qr_data_uri(device),
            "secret": two_factor.totp_secret_for_typing(device),
            "required": two_factor.two_factor_required(request.user),
            "next": _next_url(request, ""),
        },
    )


@login_required
@rate_limit("two-factor-verify", per_minute=10)
def verify(request):
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            two_factor.two_factor_verify(request=request, token=form.cleaned_data["code"])
        except ApplicationError as error:
            form.add_error("code", error.message)
        else:
            return redirect(_next_url(request))
    return render(
        request,
        "account/two_factor_verify.html",
        {"form": form, "next": _next_url(request, ""), "demo_code": _demo_code(request.user)},
    )


def _demo_code(user):
    """The current code of a demo login's authenticator, shown on the page in the local run only."""
    if not settings.DEMO_DATA_ALLOWED or not user.email.endswith(DEMO_EMAIL_DOMAIN):
        return ""
    device = TOTPDevice.objects.filter(user=user, name="Demo authenticator", confirmed=True).first()
    return two_factor.current_code(device) if device else ""


@login_required
@require_POST
@second_step_first
def recovery_codes(request):
    if not two_factor.two_factor_enabled(request.user):
        # Recovery codes stand in for the app: without one paired they would be a second step on their own.
        return redirect("two-factor-setup")
    codes = two_factor.recovery_codes_regenerate(user=request.user)
    return render(request, "account/recovery_codes.html", {"codes": codes, "next": ""})


@login_required
@require_POST
@second_step_first
def disable(request):
    try:
        two_factor.two_factor_disable(user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Two-step login is off."))
    return redirect("home-for-user")
