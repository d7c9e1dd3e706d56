"""Shared test set-up: the cast of people, services that may be missing, and the browser.

Tests that need PostgreSQL, Redis, Chromium or GNU gettext are marked (`postgres`, `redis`,
`browser`, `gettext`; a test that uses Playwright's `page` is marked `browser` automatically).
Where a service is missing they are skipped with the reason, except when
CONCIERGE_REQUIRE_SERVICES=1 (CI), where they fail.
"""

import json
import os
import shutil
from pathlib import Path

import factory.random
import pytest

# The New York test world (clock, Maya, the NYC area, cleared patients), shared by every app's tests.
pytest_plugins = ["booking.tests.world"]

# The live server and Playwright's sync API share a thread with the Django ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE_JS = Path(__file__).parent / "tests" / "axe" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _missing(marker):
    if marker == "postgres":
        from django.conf import settings

        if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
            return "needs PostgreSQL: set DATABASE_URL or install PostgreSQL's server (python3 dev.py test starts one)"
    if marker == "redis" and not os.environ.get("REDIS_URL"):
        return "needs Redis: set REDIS_URL or install redis-server"
    if marker == "browser" and not Path(CHROMIUM).exists():
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    if marker == "gettext" and not (shutil.which("xgettext") and shutil.which("msgfmt")):
        return "needs GNU gettext's xgettext and msgfmt (apt-get install gettext)"
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def pytest_runtest_setup(item):
    # The factories' random names and numbers are seeded by the test's own id: a run is repeatable,
    # so a test that fails on one name ("Oliver" read as "Olive") fails the same way every time.
    factory.random.reseed_random(item.nodeid)
    for marker in ("postgres", "redis", "browser", "gettext"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _missing(marker)
        if reason is None:
            continue
        if os.environ.get("CONCIERGE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"CI requires every service, but this test {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with empty rate-limit counters (the cache is per process), with no ZIP
    remembered and no admin app list kept, so that tests counting queries count the same whatever
    ran before, and a test of what is kept sees only what it made."""
    from django.core.cache import caches

    from concierge.geo import zip_cache_clear
    from concierge.patient_state import patient_pages_forget
    from concierge.schedule import schedule_recent_clear
    from staff.admin.site import kept_clear

    for cache in caches.all():
        cache.clear()
    zip_cache_clear()
    schedule_recent_clear()
    patient_pages_forget()
    kept_clear()
    yield


# --- logging in -------------------------------------------------------------------------------


@pytest.fixture
def client():
    """Django's test client whose force_login also passes the second step (two-step login)."""
    from concierge.testing import VerifiedClient

    return VerifiedClient()


# --- the cast ---------------------------------------------------------------------------------


@pytest.fixture
def patient(db):
    from concierge.tests.factories import UserFactory

    return UserFactory(role="patient", email="pat@example.com", first_name="Pat")


@pytest.fixture
def other_patient(db):
    from concierge.tests.factories import UserFactory

    return UserFactory(role="patient", email="other@example.com", first_name="Olive", last_name="Oakenfold")


@pytest.fixture
def nurse(db):
    from concierge.tests.factories import UserFactory

    return UserFactory(role="nurse", email="nurse@example.com", first_name="Nia")


@pytest.fixture
def clinician(db):
    from concierge.tests.factories import UserFactory

    return UserFactory(role="clinician", email="clinician@example.com", first_name="Cleo")


@pytest.fixture
def staff_user(db):
    from concierge.tests.factories import UserFactory

    return UserFactory(role="staff", email="staff@example.com", first_name="Stef")


@pytest.fixture(scope="session", autouse=True)
def _lock_order_watched():
    """Every use case's row locks are checked against the one lock order (concierge/locking.py)."""
    from concierge.testing import lock_order_watch

    stop = lock_order_watch()
    yield
    stop()


# --- the browser ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE, "locale": "en-US", "timezone_id": "America/New_York"}


class AxeChecker:
    """Runs axe-core on the page the browser shows; every loaded page must be checked.

    Tests call `axe(page)` after each navigation. At the end of the test, a page that loaded but
    was never checked fails the test, so a new step cannot skip the accessibility check. WCAG 2.2's
    target size (24 px) is checked on the patients' and nurses' pages (not admin, Django's own).
    Errors in the browser's console (a refused style, a missing file, a script error) fail the
    test too.
    """

    IMPACTS = ("serious", "critical")

    def __init__(self, page):
        self.page = page
        self.loads = []  # one entry per page load: [url, checked]
        self.console_errors = []
        self.expected_errors = []  # what a test causes on purpose (expect_console_error)
        page.on("load", lambda p: self.loads.append([p.url, False]))
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.console_errors.append(f"{page.url}: {e}"))

    def _console(self, message):
        if message.type != "error":
            return
        source = (message.location or {}).get("url", "")
        if source.endswith("axe.min.js"):
            return  # axe's own measuring styles, refused by the CSP: not the page's
        # A page the test asks for on purpose that answers 403, 404 or 409: the browser says so.
        if "the server responded with a status of 4" in message.text and source == self.page.url:
            return
        if any(part in message.text or part in source for part in self.expected_errors):
            return
        self.console_errors.append(f"{self.page.url}: {message.text} ({source})")

    def __call__(self, page=None):
        page = page or self.page
        page.wait_for_load_state("load")
        violations = page.evaluate(
            """async () => {
                const admin = location.pathname.startsWith('/admin/');
                const result = await axe.run(document, {
                  resultTypes: ['violations'],
                  rules: {'target-size': {enabled: !admin}},
                });
                return result.violations
                  .filter(v => ['serious', 'critical'].includes(v.impact))
                  .map(v => ({id: v.id, impact: v.impact, help: v.help,
                              nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
            }"""
        )
        if self.loads:
            self.loads[-1][1] = True
        assert not violations, f"accessibility violations on {page.url}:\n" + json.dumps(violations, indent=2)

    def expect_console_error(self, part):
        """A console error this test causes on purpose (e.g. a blocked address): not a failure."""
        self.expected_errors.append(part)

    def unchecked(self):
        return [url for url, checked in self.loads if not checked]


@pytest.fixture
def axe(page):
    page.add_init_script(path=str(AXE_JS))
    checker = AxeChecker(page)
    yield checker
    unchecked = checker.unchecked()
    assert not unchecked, f"pages loaded without an accessibility check: {unchecked}"
    errors = checker.console_errors
    assert not errors, "errors in the browser's console:\n" + "\n".join(errors)
