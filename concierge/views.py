import logging
import time

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import two_factor
from .landing import landing_response
from .middleware import IdleTimeoutMiddleware, idle_timeout_seconds
from .models import Role
from .services import user_language_set

logger = logging.getLogger(__name__)


@require_GET
def home(request):
    return render(request, "home.html")


@login_required
def home_for_user(request):
    """Where each role lands after logging in."""
    user = request.user
    if user.is_staff:
        return redirect("admin:index")
    response = landing_response(request)
    if response is not None:
        return response
    return render(
        request,
        "account.html",
        {
            "is_nurse": user.has_role(Role.NURSE),
            "two_factor_enabled": two_factor.two_factor_enabled(user),
            "two_factor_required": user.has_role(Role.NURSE, Role.CLINICIAN, Role.STAFF) or user.is_staff,
        },
    )


def _database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("health check: database unreachable")
        return False


def _broker_state():
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return "local"  # the local run's folder broker, or tests' in-memory one
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        return "ok" if client.ping() else "down"
    except redis.RedisError:
        logger.exception("health check: broker unreachable")
        return "down"


@never_cache
@require_GET
def healthz(request):
    """200 when the database (and the broker, where one is configured) answers; 503 otherwise."""
    checks = {
        "database": "ok" if _database_ok() else "down",
        "broker": _broker_state(),
    }
    healthy = "down" not in checks.values()
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


@require_POST
def session_keepalive(request):
    """The idle-timeout warning's "Stay logged in" button: counts as activity."""
    if not request.user.is_authenticated:
        return JsonResponse({"authenticated": False}, status=401)
    request.session[IdleTimeoutMiddleware.KEY] = int(time.time())
    return JsonResponse({"authenticated": True, "timeout_seconds": idle_timeout_seconds(request.user)})


@require_POST
def language_switch(request):
    """The header's language switch: a cookie for visitors, and the profile's choice for users.

    Any other value than a listed language changes nothing; the page the form was on is shown again.
    """
    language = request.POST.get("language", "")
    following = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(following, {request.get_host()}, require_https=request.is_secure()):
        following = "/"
    response = redirect(following)
    if language in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            user_language_set(user=request.user, language=language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
    return response
