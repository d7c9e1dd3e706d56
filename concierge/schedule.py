"""The schedule version: one token that changes whenever anything a search for free times reads
is written, so that search results can be cached under it and never served stale.

Free times are read far more often than they change (a patient browsing two weeks opens fifteen
pages; a booking happens once). Booking caches its search results under this version
(`booking.selectors.availability_for`); the version changes after every committed write to a
table the search reads, so a cached answer is never used after a change is committed.

**Every write passes here.** Instead of a call added to each service (and forgotten in the next
one, or in the admin, a bulk update, a data migration), each database connection runs its
statements through `_watch`, which recognises the writes (INSERT, UPDATE, DELETE) to the
watched tables. The apps that own those tables register them at start-up
(`schedule_tables_watch`, in roster's and booking's AppConfig.ready). After such a write, the
version is bumped once the transaction commits (or at once outside a transaction), so a reader
never computes from data older than the version it read.

Inside a transaction that has written a watched table and not committed yet, the cache is not
used at all (`schedule_cache_usable`): that transaction sees its own writes, the cache does not.

The cache is the `schedule` cache alias (Redis in production, a file cache in the local run, shared
by the web process and the worker; local memory in tests). Correctness never rests on it alone:
the booking guard re-checks availability under its locks, with fresh data, before it writes.
"""

import logging
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

from .recent import RecentlyUsed

logger = logging.getLogger(__name__)

CACHE_ALIAS = "schedule"
VERSION_KEY = "schedule:version"

# table -> the columns of which an UPDATE must name one to count (None: every write counts)
_watched: dict[str, frozenset[str] | None] = {}
_MISSING = object()
T = TypeVar("T")
_WRITE = re.compile(r'(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+"?([A-Za-z0-9_]+)"?')


def schedule_tables_watch(*tables: str, only_updates_of: str | tuple[str, ...] | None = None) -> None:
    """Count writes to these tables as schedule changes. With `only_updates_of` (a column or
    several), only UPDATEs that name one of them count (e.g. a login's is_active, not its
    last_login). Registered twice, a table counts the columns of both (every write, if either
    said so)."""
    if only_updates_of is None:
        columns = None
    else:
        columns = frozenset([only_updates_of] if isinstance(only_updates_of, str) else only_updates_of)
    for table in tables:
        if table in _watched and _watched[table] is None:
            continue  # every write counts already
        _watched[table] = None if columns is None else (_watched.get(table) or frozenset()) | columns


def _counts(sql: str) -> bool:
    if not sql.startswith(("UPDATE", "INSERT", "DELETE")):
        return False
    match = _WRITE.match(sql)
    if match is None or match.group(1) not in _watched:
        return False
    columns = _watched[match.group(1)]
    if columns is None:
        return True
    # An UPDATE naming one of the columns anywhere counts: a column named only in its WHERE costs
    # a needless new version at worst, while cutting the SET clause out of a statement with
    # subqueries could miss a change.
    return sql.startswith("UPDATE") and any(f'"{column}"' in sql for column in columns)


def _bump() -> None:
    try:
        caches[CACHE_ALIAS].set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:  # the cache being down must not fail a committed booking
        logger.exception("schedule: could not change the schedule version")


def schedule_changed(using: str = "default") -> None:
    """The schedule changed in the current transaction: a new version once it commits."""
    connection = connections[using]
    if connection.in_atomic_block and _pending(connection):
        return  # one new version per transaction is enough
    transaction.on_commit(_bump, using=using, robust=True)


def _pending(connection: BaseDatabaseWrapper) -> bool:
    return any(entry[1] is _bump for entry in connection.run_on_commit)


def _watch(execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: dict[str, Any]) -> Any:
    result = execute(sql, params, many, context)
    # After the statement: outside a transaction the version changes once the write is in.
    if isinstance(sql, str) and _counts(sql):
        schedule_changed(using=context["connection"].alias)
    return result


def _install(*, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    # First in the list (the outermost): `connection.execute_wrapper()` blocks pop the last one.
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _watch)


def schedule_watch_connections() -> None:
    """Run every connection's statements through `_watch` (concierge's AppConfig.ready)."""
    connection_created.connect(_install, dispatch_uid="concierge.schedule.watch")
    for connection in connections.all(initialized_only=True):
        _install(connection=connection)


def schedule_cache_usable(using: str = "default") -> bool:
    """False inside a transaction that changed the schedule and has not committed yet."""
    connection = connections[using]
    return not (connection.in_atomic_block and _pending(connection))


def schedule_version() -> str | None:
    """The current version (made on first use); None when the cache cannot be reached."""
    cache = caches[CACHE_ALIAS]
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(VERSION_KEY)
    except Exception:
        logger.exception("schedule: the schedule cache cannot be reached; searching without it")
        return None
    return version


def schedule_cached(key: str, compute: Callable[[], T]) -> T:
    """`compute()`'s answer, kept in the schedule cache under the current version.

    For answers read only from watched tables (free times, which areas cover a ZIP): a write
    to any of them makes a new version, so a kept answer is never used after a change commits.
    Computed afresh, and not kept, inside a transaction that changed the schedule or when the
    cache cannot be reached. The answer must pickle.
    """
    if not schedule_cache_usable():
        return compute()
    version = schedule_version()  # read before the database: a change after it makes a new one
    if version is None:
        return compute()
    full_key = f"{key}:{version}"
    found = _recent.get(full_key, _MISSING)
    if found is not _MISSING:
        return found
    cache = caches[CACHE_ALIAS]
    try:
        found = cache.get(full_key, _MISSING)
    except Exception:
        logger.exception("schedule: the schedule cache cannot be read; computing without it")
        return compute()
    if found is _MISSING:
        found = compute()
        try:
            cache.set(full_key, found, timeout=settings.SCHEDULE_CACHE_SECONDS)
        except Exception:
            logger.exception("schedule: the schedule cache cannot be written")
    _recent.put(full_key, found)
    return found


# The last answers this process used, by key and version: a version is never reused, so an entry
# cannot go stale; it only saves asking Redis again (and unpickling). A board, a few coverage
# answers, a few searches' days.
_recent = RecentlyUsed(128)


def schedule_recent_clear() -> None:
    """Forget the answers this process kept (tests: each starts with nothing remembered)."""
    _recent.clear()


def schedule_recent_get_many(keys: Iterable[str]) -> dict[str, Any]:
    """What this process remembers under these keys, each of which must name the version it was
    read under (then an entry cannot go stale: a version is never reused)."""
    return _recent.get_many(keys)


def schedule_recent_put_many(entries: dict[str, Any]) -> None:
    """Remember entries read or written under the current version (keys naming it)."""
    _recent.put_many(entries)
