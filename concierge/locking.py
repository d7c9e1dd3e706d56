"""Row locks: one fixed order, a short wait, and "try again" when the wait runs out.

Every use case that changes scarce things (a nurse's time, a patient's bookings, a visit, a
payment) locks the rows it will re-read and write before it checks anything, in the order of
LOCK_ORDER and by ascending id within a kind, inside its transaction. Two use cases that need the
same rows therefore queue one behind the other instead of deadlocking, and the second one sees
what the first wrote.

Waits are bounded (`lock_timeout`, LOCK_TIMEOUT_MS): a person sees "we are busy, try again in a
moment" and a webhook answers 503 so that the provider delivers it again. Only a lock that was not
granted in time (PostgreSQL 55P03), a deadlock that got through anyway (40P01) or SQLite's busy
database becomes TryAgainLater; every other database error (a lost connection, say) stays what
it is, because retrying it as "busy" would hide a real failure.

On SQLite (the local run) there are no row locks; its write transactions already run one at a
time, so the order costs nothing there.

**The order is checked, not only written.** Under the test suite (concierge.testing's
`lock_order_watch`, installed by the root conftest) every use case's locks are noted as they are
taken (lock_rows' rows, the profile's, and any other row lock of an ordered kind, read from its
SQL): a row of a kind that comes earlier in LOCK_ORDER than a row the same use case already holds
(a profile after a visit, a provider after a visit) fails the test with both names
(LockOrderBroken), on whatever path took it. Outside the tests nothing is noted.
"""

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.db import OperationalError, connection
from django.db.models import Model

from .errors import TryAgainLater

# The one order, lowest first. A kind added here must be added in its place: a use case that
# locks a visit has already locked its provider and patient; a payment comes after its visits.
# The patient's profile comes first: it is the lock of a patient's standing (intake, clearance,
# consent, a safety alert), and a safety alert puts the patient's visits on hold, which locks
# their providers, the patient and the visits after it. A use case that locks schedule rows and
# may then raise an alert (a patient cancelling in words that suggest danger) locks the profile
# before them (patients.services.profile_lock).
LOCK_ORDER = (
    "patients.PatientProfile",
    "roster.Provider",
    "concierge.User",
    "booking.Visit",
    "payments.Payment",
    "payments.Refund",
)
_RANK = {label: rank for rank, label in enumerate(LOCK_ORDER)}

# PostgreSQL's lock_not_available (lock_timeout ran out) and deadlock_detected.
LOCK_FAILURE_CODES = frozenset({"55P03", "40P01"})


def is_lock_failure(error: BaseException) -> bool:
    """True when a database error means "someone else holds the lock", and nothing else."""
    cause = error.__cause__ or error
    if getattr(cause, "pgcode", None) in LOCK_FAILURE_CODES:
        return True
    return connection.vendor == "sqlite" and "database is locked" in str(error)


@contextmanager
def lock_failures_as_try_again() -> Iterator[None]:
    """Turn a lock that could not be had into TryAgainLater; let every other error through."""
    try:
        yield
    except OperationalError as error:
        if is_lock_failure(error):
            raise TryAgainLater() from error
        raise


class LockOrderBroken(AssertionError):
    """A use case took a lock out of LOCK_ORDER (raised only while the test suite watches)."""


def lock_order_note(label: str, ids: Iterable[int] | None) -> None:
    """Note that this use case locks these rows of `label` now; while the order is watched (tests),
    a new row of a kind earlier in LOCK_ORDER than one already held raises LockOrderBroken.

    lock_rows notes its own rows; code that locks a kind of LOCK_ORDER itself (the patient's
    profile: patients.services._profile_locked) calls this. `ids` None: rows of that kind, which
    ones not known (any other `SELECT ... FOR UPDATE`, noted by the watch from its SQL): new only
    when the use case holds no row of that kind yet."""
    token = getattr(connection, "lock_order_use_case", None)
    if token is None:
        return  # not watched: production, the local run
    state = getattr(connection, "lock_order_state", None)
    if state is None or state[0] is not token:
        state = (token, {})
        setattr(connection, "lock_order_state", state)  # noqa: B010 (not an attribute Django declares)
    held: dict[str, set[int]] = state[1]  # kind -> the ids held (empty: rows of it, ids unknown)
    rank = _RANK[_label(label)]
    new = label not in held if ids is None else bool(set(ids) - held.get(label, set()))
    later = [other for other in held if _RANK[other] > rank]
    if new and later:
        raise LockOrderBroken(
            f"{label} locked after {', '.join(later)}: LOCK_ORDER (concierge/locking.py) puts {label} first. "
            "Lock it before them."
        )
    held.setdefault(label, set()).update(ids or ())


def lock_order_next_use_case() -> None:
    """A script that runs use cases one after another inside one transaction (the demo seed) says
    where each starts: the order binds the locks of one use case, not of a whole script."""
    if getattr(connection, "lock_order_use_case", None) is not None:
        setattr(connection, "lock_order_use_case", object())  # noqa: B010


def _label(kind: str | type[Model]) -> str:
    label = kind if isinstance(kind, str) else kind._meta.label
    if label not in _RANK:
        raise ValueError(f"{label} has no place in LOCK_ORDER (concierge/locking.py)")
    return label


def lock_wait_set(milliseconds: int | None = None) -> None:
    """Bound this transaction's lock waits (PostgreSQL; SQLite waits on its own busy timeout)."""
    if not connection.in_atomic_block:
        raise RuntimeError("Row locks last until the transaction ends: lock inside transaction.atomic()")
    if connection.vendor == "postgresql":
        ms = int(milliseconds or settings.LOCK_TIMEOUT_MS)
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{ms}ms"])


def lock_rows(rows: Mapping[str | type[Model], Iterable[int | None]], *, timeout_ms: int | None = None) -> None:
    """Lock these rows (a model or its label -> ids) in LOCK_ORDER, ids ascending; None ids skipped.

    Must run inside `transaction.atomic()`; the locks last until it ends. A lock not granted in
    time raises TryAgainLater (nothing has been written by us yet: the caller's transaction rolls
    back). Rows that do not exist are simply not locked.
    """
    lock_wait_set(timeout_ms)
    wanted = {_label(kind): sorted({pk for pk in ids if pk is not None}) for kind, ids in rows.items()}
    with lock_failures_as_try_again():
        for label in sorted(wanted, key=_RANK.__getitem__):
            if wanted[label]:
                lock_order_note(label, wanted[label])
                model = apps.get_model(label)
                list(model.objects.select_for_update().filter(pk__in=wanted[label]).order_by("pk").values_list("pk"))


@contextmanager
def bounded_lock_waits(milliseconds: int | None = None) -> Iterator[None]:
    """For code that takes its locks with select_for_update itself (inside `transaction.atomic()`):
    lock waits are bounded, and a lock not granted in time is TryAgainLater."""
    lock_wait_set(milliseconds)
    with lock_failures_as_try_again():
        yield
