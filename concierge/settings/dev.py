"""The local run: SQLite, fake payments, SMS and email printed and kept in the local outbox."""

from .base import *  # noqa: F403
from .base import env
from .known_keys import DEV_SECRET_KEY

DEBUG = env.bool("DEBUG", default=True)
# Not a secret: only ever used on a developer's machine; production refuses to start without one.
SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
INTERNAL_IPS = ["127.0.0.1"]
DEMO_DATA_ALLOWED = True

# Static files straight from the source folders: no collectstatic outside production.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
