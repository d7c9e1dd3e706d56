"""Reads of the roster."""

from django.contrib.auth.models import AnonymousUser

from concierge.models import Role, User

from .models import Provider, ProviderKind


def provider_for_nurse(*, user: User | AnonymousUser) -> Provider | None:
    """The nurse's Provider row, or None (not a nurse, or no roster profile yet)."""
    if not user.is_authenticated or not user.has_role(Role.NURSE):
        return None
    return Provider.objects.filter(user=user, kind=ProviderKind.NURSE).select_related("user").first()
