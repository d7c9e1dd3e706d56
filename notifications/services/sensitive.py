"""Sensitive templates (content.TEMPLATES: the password reset) carry a credential.

Their context and text are blanked once the message has gone, or once it never can (failed,
cancelled, suppressed, interrupted), so a sign-in link never outlives its one use in our
database; staff never see it and never resend it (sending.message_resend refuses). Every path
that ends a row's life calls `_forget_credentials`, which is why it sits below them all.
"""

from django.db.models import QuerySet

from .. import content
from ..models import Message


def _forget_credentials(rows: QuerySet[Message]) -> None:
    """Blank the context and text of the sensitive rows among `rows`: they have gone, or never will."""
    rows.filter(template__in=content.SENSITIVE_TEMPLATES).update(context={}, body="")
