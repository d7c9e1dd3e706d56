"""Reads of the roster."""

from concierge.models import Role

from .models import Provider, ProviderKind


def provider_for_nurse(*, user):
    """The nurse's Provider row, or None (not a nurse, or no roster profile yet)."""
    if not user.is_authenticated or not user.has_role(Role.NURSE):
        return None
    return Provider.objects.filter(user=user, kind=ProviderKind.NURSE).select_related("user").first()
