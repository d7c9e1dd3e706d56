"""``{{ visit.pk|oid }}``: a row's key as the opaque token URLs use (concierge/opaque.py)."""

from django import template

from concierge.opaque import encode

register = template.Library()


@register.filter
def oid(value: object) -> str:
    """The token for a key; empty for anything that is not one (a template must never fail)."""
    try:
        return encode(int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return ""
