"""Tests: fast and isolated. PostgreSQL comes from DATABASE_URL (`python3 dev.py test` sets it)."""

from .base import *  # noqa: F403
from .base import CELERY_BEAT_SCHEDULE, env  # noqa: F401
from .known_keys import TEST_SECRET_KEY

DEBUG = False
SECRET_KEY = TEST_SECRET_KEY
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PAYMENT_GATEWAY = "fake"
# The killed-worker test hands its worker a gateway that hangs after the provider took the text.
SMS_BACKEND = env("TEST_SMS_BACKEND", default="memory")
STRIPE_SECRET_KEY = ""
STRIPE_WEBHOOK_SECRET = "whsec_test_secret"
SITE_URL = "http://testserver"
DEMO_DATA_ALLOWED = True

# Unit tests run tasks in the calling thread; the integration tests start a real worker on Redis
# (with CELERY_TASK_ALWAYS_EAGER=0 in the worker's environment).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = env("REDIS_URL", default="") or "memory://"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Static files straight from the source folders: no collectstatic outside production.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Tests that travel days ahead in time keep their login; the idle timeout has its own tests,
# which set the production values explicitly.
SESSION_IDLE_TIMEOUT_STAFF = 60 * 60 * 24 * 365
SESSION_IDLE_TIMEOUT_PATIENT = 60 * 60 * 24 * 365

# Two-step login is enforced in tests as everywhere: the `client` fixture's force_login passes
# the second step, and browser tests log in through concierge.testing.browser_login.
TWO_FACTOR_ENFORCED = True

# A worker process started by an integration test cannot share the test's in-memory outboxes:
# these make its emails (one file per send) and texts (one JSON line per send) countable.
if env("TEST_EMAIL_FILE_PATH", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env("TEST_EMAIL_FILE_PATH")
SMS_MEMORY_JOURNAL = env("SMS_MEMORY_JOURNAL", default="")
