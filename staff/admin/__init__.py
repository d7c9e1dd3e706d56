"""The back office's admin: every module here registers its pages on the default admin site."""

from django.contrib import admin

from . import audit, logins, review, roster, visits  # noqa: F401  (register their ModelAdmins)
from .site import install

install(admin.site)
