"""Where each role lands after logging in (`/me/`).

The core cannot import the apps that own those pages (they sit above it), so each app registers
its landing for a role when it starts (`AppConfig.ready`): the portal shows a patient their
dashboard, the nurses app sends a nurse with a roster profile to today's visits. A landing view
may return None to say "not for this person", and the next one (or the account page) answers.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

Landing = Callable[[HttpRequest], HttpResponse | None]

_landings: list[tuple[str, Landing]] = []


def landing_register(*, role: str, view: Landing) -> None:
    """Offer `view` as the landing page of people with `role` (registering twice keeps one)."""
    if (role, view) not in _landings:
        _landings.append((role, view))


def landing_response(request: HttpRequest) -> HttpResponse | None:
    """The first registered landing that answers for this person, or None."""
    user = request.user
    if not user.is_authenticated:  # only a logged-in person has a landing (/me/ requires a login)
        return None
    for role, view in _landings:
        if user.has_role(role):
            response = view(request)
            if response is not None:
                return response
    return None
