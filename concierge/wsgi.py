"""WSGI entry point for gunicorn: `gunicorn concierge.wsgi`. Production settings unless told."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concierge.settings.production")

application = get_wsgi_application()
