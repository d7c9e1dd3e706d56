"""The patient's state version: a number the database moves whenever anything of a patient's
changes, so that a page drawn for them can be kept under it and never shown stale.

A patient reloads their dashboard and looks through two weeks of times far more often than
anything of theirs changes. Their pages are drawn from their own rows (profile, health
questions, clearance, visits, holds, payments, messages, check-ins ...) plus what the schedule
version already covers (concierge/schedule.py: nurses, services, areas). A page can be kept
under both versions and the minute, and served again while none of them moves.

**Every write passes here, in its own transaction.** The apps that own a patient's tables
register them (`patient_state_tables_watch`, in their AppConfig.ready), each with the column that
names the patient, or the rows that lead to them (a refund's payment; a vital sign's chart, then
its visit). Logins count as people too: a login's own row, roles and two-step device are logged
under its id. After every migrate, PostgreSQL gets a row trigger on each of them
(`patient_state_triggers_install`): any INSERT, UPDATE or DELETE, from a service, the admin, a bulk
update, a data migration or a psql session, adds a row naming the patient to a change log, in
the writing transaction. The patient's version is how many such rows there are, with the id
of the last (`patient_state_version`, one statement): it moves when the write commits and never
before, and never comes back to an earlier value (log ids are never reused, even after a
rollback), so a page kept under one version is never served after a change is committed.
Nothing is locked: the log is only ever added to (a periodic task folds old rows into a count
per patient, `patient_state_log_fold`, in one statement that keeps the sum).

A page is kept per process (`page_kept`) under the view and its URL, the versions of the people
whose records it shows (`patient_page_kept`: the signed-in patient; the nurse's day: the nurse
and each patient with a visit that day), the signed-in login and their session (its contents
and CSRF cookie: the page's forms carry the session's token), the schedule version, the minute
(a page says "in 2 hours", a join button opens 10 minutes before) and the language. A page with
a message waiting to be shown, a page whose drawing wrote to the session or set a cookie,
anything but a GET, and every page on SQLite (no triggers there) are drawn afresh.
Whatever the kept page showed, booking, paying and every clinical rule are decided again by their
services under their locks (booking.guard), never from a kept page.

A test holds the pages to this: every table their statements read is watched here or by the
schedule version (concierge/tests/test_patient_state.py).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.signals import setting_changed
from django.db import connection, connections, transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from .recent import RecentlyUsed
from .schedule import schedule_cache_usable, schedule_version

LOG_TABLE = "concierge_patientstatechange"
FOLDED_TABLE = "concierge_patientstatefolded"
TRIGGER = "concierge_patient_state"
FUNCTION = "concierge_patient_state_touch"


@dataclass(frozen=True)
class Watched:
    table: str
    column: str  # the patient's id, or the id of the first row in `via` on the way to them
    via: tuple[tuple[str, str], ...] = ()  # (table, column): each row's id leads to the next


_watched: dict[str, Watched] = {}


def patient_state_tables_watch(table: str, column: str, *via: tuple[str, str]) -> None:
    """Count writes to `table` as changes of a patient's state.

    `column` holds the patient's user id; or, with `via`, the id of a row in the first (table,
    column) pair, whose column holds the id of a row in the next, up to the patient's id: a
    refund is ("payment_id", ("payments_payment", "patient_id")), a vital sign ("chart_id",
    ("nurses_visitchart", "visit_id"), ("booking_visit", "patient_id")).
    """
    _watched[table] = Watched(table, column, tuple(via))


def patient_state_watched() -> dict[str, Watched]:
    return dict(_watched)


# --- the triggers ------------------------------------------------------------------------------

_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION __FUNCTION__() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    column_name text := TG_ARGV[0];  -- then (table, column) pairs leading to the patient
    ids bigint[] := '{}';
    one bigint;
    patient bigint;
    step int;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        ids := ids || (to_jsonb(NEW) ->> column_name)::bigint;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        ids := ids || (to_jsonb(OLD) ->> column_name)::bigint;
    END IF;
    FOR one IN SELECT DISTINCT x FROM unnest(ids) AS x WHERE x IS NOT NULL LOOP
        patient := one;
        step := 1;
        WHILE step < TG_NARGS AND patient IS NOT NULL LOOP
            EXECUTE format('SELECT %I FROM %I WHERE id = $1', TG_ARGV[step + 1], TG_ARGV[step])
                INTO patient USING patient;
            step := step + 2;
        END LOOP;
        IF patient IS NOT NULL THEN
            INSERT INTO __LOG_TABLE__ (patient_id) VALUES (patient);
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$;
""".replace("__FUNCTION__", FUNCTION).replace("__LOG_TABLE__", LOG_TABLE)


def patient_state_triggers_install(using: str = "default") -> None:
    """Make the trigger function and one trigger per watched table; drop triggers of tables no
    longer watched. Idempotent (after every migrate). PostgreSQL only."""
    conn = connections[using]
    if conn.vendor != "postgresql":
        return
    with transaction.atomic(using=using), conn.cursor() as cursor:
        cursor.execute(_FUNCTION_SQL)
        for table in patient_state_triggered_tables(using=using):
            if table not in _watched:
                cursor.execute(f'DROP TRIGGER {TRIGGER} ON "{table}"')
        for watched in _watched.values():
            values = [watched.column, *(name for step in watched.via for name in step)]
            args = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
            cursor.execute(f'DROP TRIGGER IF EXISTS {TRIGGER} ON "{watched.table}"')
            cursor.execute(
                f'CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON "{watched.table}" '
                f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}({args})"
            )


def patient_state_triggers_after_migrate(*, using: str = "default", **kwargs: Any) -> None:
    patient_state_triggers_install(using=using)


def patient_state_triggered_tables(using: str = "default") -> set[str]:
    """The tables that carry the trigger in this database."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = %s",
            [TRIGGER],
        )
        return {table for (table,) in cursor.fetchall()}


# --- the version -------------------------------------------------------------------------------


_VERSIONS_SQL = """
SELECT people.id, COALESCE(folded.changes, 0) + log.changes, COALESCE(log.last, 0)
FROM (__PEOPLE__) AS people(id)
LEFT JOIN concierge_patientstatefolded AS folded ON folded.patient_id = people.id
CROSS JOIN LATERAL (
    SELECT count(*) AS changes, max(id) AS last FROM concierge_patientstatechange WHERE patient_id = people.id
) AS log
ORDER BY 1
"""


def patient_state_versions(people_sql: str, params: list[Any]) -> tuple[tuple[int, int, int], ...] | None:
    """(id, changes, last change's id) of each person `people_sql` selects (one column of user
    ids), in one statement; None on SQLite. See `patient_state_version`."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(_VERSIONS_SQL.replace("__PEOPLE__", people_sql), params)
        return tuple((int(who), int(changes), int(last)) for who, changes, last in cursor.fetchall())


def patient_state_version(patient_id: int) -> tuple[int, int] | None:
    """(how many committed changes of this patient's state there have been, the id of the last
    one still in the log); None on SQLite.

    The count moves with every commit and never goes back. The id keeps apart what the count
    alone would not: inside a transaction that wrote (and may roll back) a change, the count
    is one more than outside, with a log id no committed change will ever have.
    """
    versions = patient_state_versions("SELECT %s::bigint", [patient_id])
    if versions is None:
        return None
    _, changes, last = versions[0]
    return changes, last


def patient_state_log_fold() -> int:
    """Fold the change log into a count per patient, keeping every patient's sum (one statement:
    a reader sees all of it or none of it). Returns how many patients' rows were folded."""
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [LOG_TABLE])
        if not cursor.fetchone()[0]:
            return 0  # another fold is running
        cursor.execute(
            """
            WITH folded AS (DELETE FROM concierge_patientstatechange RETURNING patient_id),
            counted AS (SELECT patient_id, count(*) AS n FROM folded GROUP BY patient_id)
            INSERT INTO concierge_patientstatefolded (patient_id, changes)
            SELECT patient_id, n FROM counted ORDER BY patient_id
            ON CONFLICT (patient_id) DO UPDATE SET changes = concierge_patientstatefolded.changes + EXCLUDED.changes
            """
        )
        return cursor.rowcount


# --- kept pages --------------------------------------------------------------------------------

_pages = RecentlyUsed(200)  # a page is ~20-60 KB
_settings_generation = [0]


@receiver(setting_changed)
def _settings_changed(**kwargs: Any) -> None:
    _settings_generation[0] += 1  # a page may show any setting: none kept before counts


def patient_pages_forget() -> None:
    """Forget the pages this process kept (tests: each starts with nothing kept)."""
    _pages.clear()


def _session_fingerprint(request: HttpRequest) -> str:
    session = request.session
    items = sorted((key, repr(value)) for key, value in session.items() if key != "last_activity")
    cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "") + "|" + str(request.META.get("CSRF_COOKIE", ""))
    text = f"{session.session_key}|{cookie}|{items!r}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


People = Callable[..., tuple[str, list[Any]]]


def _page_key(request: HttpRequest, view: Callable[..., Any], people: tuple[str, list[Any]]) -> tuple[Any, ...] | None:
    if request.method != "GET" or connection.vendor != "postgresql" or not settings.PATIENT_PAGES_KEPT:
        return None
    if not schedule_cache_usable():
        return None  # this transaction changed the schedule: its version does not count that yet
    if request.headers.get("HX-Request") or len(messages.get_messages(request)) > 0:
        return None  # a partial page; a message to show once
    versions = patient_state_versions(*people)
    schedule = schedule_version()
    if versions is None or schedule is None:
        return None
    return (
        view.__module__,
        view.__qualname__,
        request.get_full_path(),
        request.user.pk,
        versions,
        schedule,
        int(timezone.now().timestamp() // 60),
        translation.get_language(),
        timezone.get_current_timezone_name(),
        _settings_generation[0],
        _session_fingerprint(request),
    )


def page_kept(people: People) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Keep a page's response under the state versions of the people it shows (`people(request,
    *args, **kwargs)`: SQL selecting their user ids, and its parameters), the schedule version,
    the minute and the rest of the module docstring's key. For pages drawn only from those
    people's rows and the schedule's tables: a test holds every such page to it."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            key = _page_key(request, view, people(request, *args, **kwargs))
            if key is None:
                return view(request, *args, **kwargs)
            kept = _pages.get(key)
            if kept is not None:
                content, headers = kept
                response = HttpResponse(content)
                for name, value in headers:
                    response.headers[name] = value
                return response
            before = _session_fingerprint(request)
            response = view(request, *args, **kwargs)
            if (
                response.status_code == 200
                and not response.streaming
                and getattr(response, "is_rendered", True)  # a TemplateResponse renders later
                and not response.cookies
                and len(messages.get_messages(request)) == 0
                and _session_fingerprint(request) == before
            ):
                _pages.put(key, (response.content, tuple(response.headers.items())))
            return response

        return wrapped

    return decorator


def _the_patient(request: HttpRequest, *args: Any, **kwargs: Any) -> tuple[str, list[Any]]:
    return "SELECT %s::bigint", [request.user.pk]


# The signed-in patient's own page (their dashboard, their booking pages).
patient_page_kept = page_kept(_the_patient)
