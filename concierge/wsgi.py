"""WSGI entry point for gunicorn: `gunicorn concierge.wsgi`. Production settings unless told.

Once the application is loaded (settings, apps, models, every view through the URL patterns),
what was built so far lives as long as the process, so it is moved out of the garbage
collector's sight (`gc.freeze()`): otherwise each full collection walks those ~100,000 objects
again, a 40-110 ms pause that lands in the middle of some request (bench/README.md).
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concierge.settings.production")

application = get_wsgi_application()
get_resolver().url_patterns  # noqa: B018 (imports every view now, not in the first request)
gc.freeze()
