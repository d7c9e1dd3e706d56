"""Short waits for row locks, and a clear answer when they run out.

Payments lock rows in one fixed order (the visits, by id, then the payment, then its refunds),
the order booking's own services use (visit first), so two writers never wait on each other in
a circle. Inside a transaction we wait at most PAYMENT_LOCK_TIMEOUT_MS for a lock: a webhook
then answers 503 and Stripe delivers it again, and a person sees "try again in a moment".
"""

from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, connection

from concierge.errors import TryAgainLater

# PostgreSQL: lock_not_available (lock_timeout), deadlock_detected.
_LOCK_CODES = {"55P03", "40P01"}


def is_lock_timeout(exc):
    cause = exc.__cause__ or exc
    if getattr(cause, "pgcode", None) in _LOCK_CODES:
        return True
    return "database is locked" in str(exc)  # SQLite, the local run


@contextmanager
def lock_timeout(milliseconds=None):
    """Use inside `transaction.atomic()`: lock waits are bounded, and a timeout is TryAgainLater."""
    ms = int(milliseconds or settings.PAYMENT_LOCK_TIMEOUT_MS)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{ms}ms'")
    try:
        yield
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise TryAgainLater() from exc
        raise
