"""Why a visit on the board may not happen as booked (see the package's docstring for the rules)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from booking.availability import LicenceData, licences_valid_in, zone
from booking.models import BLOCKING_STATUSES, Visit, VisitStatus
from roster.models import Provider

from .hours import TimeRange

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# What the board knows of a visit's provider that day: the provider, their licences (as loaded for
# the board) and their working windows that day (None: not looked at).
ProviderRowData = tuple[Provider, Sequence[LicenceData], Sequence[TimeRange] | None]


def licence_warning_days() -> int:
    return getattr(settings, "BOARD_LICENCE_WARNING_DAYS", 30)


def hold_warning() -> timedelta:
    return timedelta(minutes=getattr(settings, "BOARD_HOLD_WARNING_MINUTES", 5))


def visit_risks(*, visit: Visit, provider_row_data: ProviderRowData | None, now: datetime) -> list[StrOrPromise]:
    """Why a visit may not happen as booked (a list of short sentences; empty when all is well)."""
    if visit.status not in BLOCKING_STATUSES:
        return []
    risks: list[StrOrPromise] = []
    if visit.status == VisitStatus.ON_HOLD:
        risks.append(_("on hold for clinician review: nobody may start it"))
    if visit.status == VisitStatus.HELD and visit.hold_expires_at:
        if visit.hold_expires_at <= now:
            risks.append(_("the hold has run out (not paid)"))
        elif visit.hold_expires_at <= now + hold_warning():
            local = visit.hold_expires_at.astimezone(zone(visit.time_zone))
            risks.append(
                _("the hold runs out at %(time)s") % {"time": f"{formats.date_format(local, 'g:i A')} {local.tzname()}"}
            )
    if provider_row_data is None:
        risks.append(_("no nurse assigned"))
        return risks
    provider, licences, windows = provider_row_data
    visit_day = visit.starts_at.astimezone(zone(visit.time_zone)).date()
    valid = list(licences_valid_in(licences, visit_state=visit.state, on_date=visit_day))
    if not valid:
        risks.append(_("no licence valid in %(state)s on that day") % {"state": visit.state})
    else:
        expires = max(lic.expires_on for lic in valid)
        if expires <= visit_day + timedelta(days=licence_warning_days()):
            risks.append(
                _("licence for %(state)s expires %(date)s")
                % {"state": visit.state, "date": formats.date_format(expires, "ABBR_DATE_FORMAT")}
            )
    if not provider.is_active:
        risks.append(_("the nurse is no longer active"))
    elif windows is not None and not any(a <= visit.starts_at and visit.ends_at <= b for a, b in windows):
        risks.append(_("outside the nurse's working hours"))
    return risks
