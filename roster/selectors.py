"""Reads of the roster."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _

from concierge.db import kept_row_by
from concierge.models import Role, User

from .models import Provider, ProviderKind, ProviderPhoto


def provider_for_nurse(*, user: User | AnonymousUser) -> Provider | None:
    """The nurse's Provider row, or None (not a nurse, or no roster profile yet).

    Read on every page of the nurse's, through a statement compiled once per process
    (`concierge.db.kept_row_by`); its `user` is the login asked about.
    """
    if not user.is_authenticated or not user.has_role(Role.NURSE):
        return None
    provider = kept_row_by(Provider, "user", user.pk)
    if provider is None or provider.kind != ProviderKind.NURSE:
        return None
    provider.user = user
    return provider


@dataclass(frozen=True)
class OnCall:
    """Who a nurse calls now: a number to show and the same number to dial."""

    display: str
    e164: str
    label: str


def provider_photo_url(provider: Provider) -> str:
    """The provider's portrait as a data: URL, or "" when there is none (one read, where shown)."""
    if provider.pk is None:
        return ""
    try:
        return provider.photo.data_url
    except ProviderPhoto.DoesNotExist:
        return ""


def oncall_phone_now(*, now: datetime | None = None) -> OnCall:
    """The on-call clinician's number right now (settings.ONCALL_PHONE; the clinic's by default).

    The one place nurses' pages ask; an on-call rota can answer here without changing them.
    """
    display = settings.ONCALL_PHONE or settings.CLINIC_PHONE
    e164 = settings.ONCALL_PHONE_E164 or settings.CLINIC_PHONE_E164
    return OnCall(display=display, e164=e164, label=str(_("the on-call clinician")))
