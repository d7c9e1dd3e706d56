"""A small fixed-window rate limit on POSTs, kept in the shared cache (Redis in production).

    @rate_limit("signup", per_hour=10)
    def signup(request): ...

Counts requests (POSTs unless told otherwise) per client address and per scope; past the limit
the view is not called and the person gets a 429 page that says how long to wait.
"""

import functools
import time

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils.translation import gettext as _


def client_address(request):
    """The client's address. Behind a proxy, the proxy we trust puts it in X-Forwarded-For."""
    if settings.RATE_LIMIT_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()  # the address our own proxy saw
    return request.META.get("REMOTE_ADDR") or None


def hit(scope, key, limit, window_seconds):
    """Count one attempt; True while the count stays within the limit."""
    window = int(time.time()) // window_seconds
    cache_key = f"ratelimit:{scope}:{key}:{window}"
    # add() is atomic: the first attempt in a window creates the counter with its expiry.
    if cache.add(cache_key, 1, timeout=window_seconds + 5):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.add(cache_key, 1, timeout=window_seconds + 5)
        return True
    return count <= limit


def rate_limit(scope, *, per_hour=None, per_minute=None, methods=("POST",)):
    if (per_hour is None) == (per_minute is None):
        raise ValueError("Give exactly one of per_hour or per_minute.")
    limit, window = (per_hour, 3600) if per_hour is not None else (per_minute, 60)

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            limited = request.method in methods and settings.RATE_LIMITS_ENABLED
            if limited and not hit(scope, client_address(request) or "unknown", limit, window):
                message = _(
                    "Too many attempts from your connection. Please wait %(minutes)d minutes and try again, or call us."
                ) % {"minutes": max(1, window // 60)}
                return render(request, "429.html", {"message": message}, status=429)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def login_identity(request, credentials=None):
    """The email a login attempt is for, lower-cased, so 'Ann@X.com' and 'ann@x.com' share a lockout."""
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email")
    if not value and request is not None:
        value = getattr(request, "POST", {}).get("username", "")
    return (value or "").strip().lower() or None
