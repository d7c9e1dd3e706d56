"""Payments take their row locks through concierge.locking (the one order and timeout)."""

from collections.abc import Iterator
from contextlib import contextmanager

from concierge.locking import lock_failures_as_try_again, lock_wait_set


@contextmanager
def lock_timeout(milliseconds: int | None = None) -> Iterator[None]:
    """Use inside `transaction.atomic()`: lock waits are bounded, and a timeout is TryAgainLater."""
    lock_wait_set(milliseconds)
    with lock_failures_as_try_again():
        yield
