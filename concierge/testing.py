"""Test helpers for logging in with both steps (password and authenticator code)."""

import threading

import django_otp
from django.db import connections
from django.http import HttpRequest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from concierge.two_factor import current_code, two_factor_required

__all__ = ["Outcome", "VerifiedClient", "authenticator_for", "browser_login", "current_code", "race"]


def authenticator_for(user):
    """The user's confirmed authenticator app (made on first use), as a phone would hold it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)


class VerifiedClient(Client):
    """`force_login` as a person who also typed their authenticator code.

    Tests that exercise the login pages themselves post to them and get the real two steps.
    """

    def login(self, **credentials):
        # django-axes needs the request to know the client's address.
        credentials.setdefault("request", HttpRequest())
        return super().login(**credentials)

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        if two_factor_required(user):
            session = self.session
            session[django_otp.DEVICE_ID_SESSION_KEY] = authenticator_for(user).persistent_id
            session.save()


def browser_login(page, base_url, user, password, axe=None, next_path=""):
    """Log in through the real pages in Playwright, typing the authenticator code when asked."""
    page.goto(f"{base_url}/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    if axe:
        axe(page)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
    if two_factor_required(user):
        device = authenticator_for(user)
        page.wait_for_url("**/accounts/2fa/verify/**")
        if axe:
            axe(page)
        page.get_by_label("Code").fill(current_code(device))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state("load")


# --- races ---------------------------------------------------------------------------------------


class Outcome:
    """What one racer got: its return value, or the exception it raised."""

    def __init__(self, value=None, error=None):
        self.value, self.error = value, error

    @property
    def ok(self):
        return self.error is None

    def __repr__(self):
        return f"Outcome(error={self.error!r})" if self.error else f"Outcome(value={self.value!r})"


def race(*workers, timeout=60):
    """Run the callables at the same moment, each in its own thread with its own database connection.

    The threads wait at a barrier and are released together, so their transactions really
    overlap (PostgreSQL, `django_db(transaction=True)`). Returns one Outcome per worker, in order;
    a worker still running after `timeout` seconds fails the test.
    """
    barrier = threading.Barrier(len(workers))
    outcomes = [Outcome(error=TimeoutError("did not finish")) for _ in workers]

    def run(index, work):
        try:
            barrier.wait(timeout)
            outcomes[index] = Outcome(value=work())
        except Exception as error:  # every error is the test's to assert on
            outcomes[index] = Outcome(error=error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a racer did not finish in time"
    return outcomes


# --- the lock order, watched -------------------------------------------------------------------------


def lock_order_watch():
    """Watch every use case's locks for the rest of the process (the root conftest calls it once).

    Each time a use case's transaction starts (an atomic block entered while no block of the code's
    own is open: the test's own wrapping blocks do not count), its connection gets a fresh token;
    concierge.locking.lock_order_note keeps the rows that use case has locked under it and raises
    LockOrderBroken on a lock out of LOCK_ORDER. Returns a function that stops watching."""
    import re

    from django.apps import apps
    from django.db import transaction
    from django.db.backends.signals import connection_created

    from concierge.locking import LOCK_ORDER, lock_order_note

    original = transaction.Atomic.__enter__

    def enter(self):
        connection = transaction.get_connection(self.using)
        if all(block._from_testcase for block in connection.atomic_blocks):
            connection.lock_order_use_case = object()
        return original(self)

    # Any other row lock of an ordered kind (a `select_for_update()` written by hand) is noted
    # from its SQL: the table it reads first.
    labels = {apps.get_model(label)._meta.db_table: label for label in LOCK_ORDER}
    first_table = re.compile(r'\bFROM "?([A-Za-z0-9_]+)"?')

    def raw_locks(execute, sql, params, many, context):
        if isinstance(sql, str) and sql.startswith("SELECT") and " FOR UPDATE" in sql:
            match = first_table.search(sql)
            if match and match.group(1) in labels:
                lock_order_note(labels[match.group(1)], None)
        return execute(sql, params, many, context)

    def install(*, connection, **kwargs):
        if raw_locks not in connection.execute_wrappers:
            connection.execute_wrappers.insert(0, raw_locks)  # first: execute_wrapper() blocks pop the last

    transaction.Atomic.__enter__ = enter
    connection_created.connect(install, dispatch_uid="concierge.testing.lock_order_watch")
    for connection in connections.all(initialized_only=True):
        install(connection=connection)

    def stop():
        transaction.Atomic.__enter__ = original
        connection_created.disconnect(dispatch_uid="concierge.testing.lock_order_watch")
        for connection in connections.all(initialized_only=True):
            if raw_locks in connection.execute_wrappers:
                connection.execute_wrappers.remove(raw_locks)

    return stop


# --- races over HTTP -------------------------------------------------------------------------------


class HttpBrowser:
    """One browser (or tab) talking to the live server over real HTTP, logged in with both steps.

    Made for races through the whole stack (middleware, views, services, the database, each
    request in the server's own thread with its own connection). It carries the session cookie
    and a CSRF cookie, and puts the matching token in every POST, as a page's form would.
    `tab()` is a second tab of the same browser: the same session, its own connection.
    """

    CSRF_TOKEN = "r" * 32  # any 32 letters: the cookie and the form only have to agree

    def __init__(self, base_url, user=None, *, _cookies=None):
        import requests
        from django.conf import settings

        self.base_url = base_url.rstrip("/")
        self.user = user
        self.http = requests.Session()
        if _cookies is not None:
            self.http.cookies.update(_cookies)
            return
        self.http.cookies.set(settings.CSRF_COOKIE_NAME, self.CSRF_TOKEN)
        if user is not None:
            client = VerifiedClient()
            client.force_login(user)
            self.http.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)

    def tab(self):
        return HttpBrowser(self.base_url, self.user, _cookies=self.http.cookies.copy())

    def get(self, path, **kwargs):
        return self.http.get(self.base_url + path, timeout=60, **kwargs)

    def post(self, path, data=None, **kwargs):
        data = {"csrfmiddlewaretoken": self.CSRF_TOKEN, **(data or {})}
        return self.http.post(self.base_url + path, data=data, timeout=60, **kwargs)


def http_race(*requests_, timeout=60):
    """Send these requests (callables that return a response) at the same moment; their responses.

    Each runs in its own thread, released together at a barrier, so the server handles them in
    overlapping threads. A request that raised (the connection broke, say) fails the test.
    """
    outcomes = race(*requests_, timeout=timeout)
    failed = [o.error for o in outcomes if not o.ok]
    assert not failed, f"a request did not get an answer: {failed}"
    return [o.value for o in outcomes]


def page_text(response):
    """The page's visible words, one space between them (tags, scripts and styles dropped)."""
    import html
    import re

    body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", response.text)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()
