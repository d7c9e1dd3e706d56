"""The production settings, as gunicorn runs them, plus what the page benchmark needs.

Two additions only: a bare view (`/bench/hello/`, no database, no template) to measure every
page against, and a header with each response's number of SQL statements. bench/pages.py sets
the environment production insists on (secrets are throwaway values) before starting gunicorn.
"""

import os

from concierge.settings.production import *  # noqa: F403
from concierge.settings.production import MIDDLEWARE, STATIC_ROOT

STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", STATIC_ROOT)

ROOT_URLCONF = "bench.urls"
MIDDLEWARE = ["bench.middleware.StatementCount", *MIDDLEWARE]
# The benchmark speaks plain HTTP on loopback, as a TLS-terminating proxy would to the app.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# Every request comes from one address: the per-address limits would answer 429 within seconds.
RATE_LIMITS_ENABLED = False
