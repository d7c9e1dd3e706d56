"""The coverage waitlist: people outside our areas who want to hear when we come, and telling them.

(The waitlist for freed times, for patients we already serve, is services/offers.py.)
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from concierge.geo import zip_lookup
from concierge.tasks import enqueue_on_commit
from notifications import services as notify
from notifications.models import Channel

from .. import selectors
from ..models import WaitlistEntry

COVERAGE_TEMPLATE = "coverage_open"


@transaction.atomic
def waitlist_join(*, zip_code: str, email: str = "", phone: str = "", language: str = "") -> WaitlistEntry:
    """Someone outside our areas wants to hear when we come. Asking twice keeps one entry.

    `language`: the one they read the page in, which we write to them in.
    """
    email = (email or "").strip().lower()
    phone = str(phone or "").strip()
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    existing = WaitlistEntry.objects.filter(
        zip_code=zip_code, email=email, phone=phone, contacted_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    entry = WaitlistEntry(zip_code=zip_code, email=email, phone=phone, language=language)
    entry.full_clean()
    entry.save()
    return entry


def coverage_waitlist_notify_soon() -> None:
    """An area changed (staff in admin): tell whoever it now covers, once this transaction commits."""
    enqueue_on_commit("booking.tasks.coverage_waitlist_notify", once=True)


def coverage_waitlist_notify(*, now: datetime | None = None) -> int:
    """Tell each person on the coverage waitlist whose ZIP we now cover: once, by email and/or text.

    Runs every few minutes and right after staff change an area. An entry is claimed with a
    conditional update (contacted_at still empty), so two runs never tell anyone twice. Returns
    how many people were told.
    """
    now = now or timezone.now()
    told = 0
    covered: dict[str, bool] = {}
    for entry in WaitlistEntry.objects.filter(contacted_at__isnull=True).order_by("created_at", "pk")[:1000]:
        if entry.zip_code not in covered:
            covered[entry.zip_code] = selectors.coverage_for_zip(zip_code=entry.zip_code).covered
        if not covered[entry.zip_code]:
            continue
        with transaction.atomic():
            if not WaitlistEntry.objects.filter(pk=entry.pk, contacted_at__isnull=True).update(contacted_at=now):
                continue
            _coverage_tell(entry)
            told += 1
    return told


def _coverage_tell(entry: WaitlistEntry) -> None:
    info = zip_lookup(entry.zip_code)
    context = {
        "zip_code": entry.zip_code,
        "coverage_url": settings.SITE_URL + reverse("booking:coverage") + f"?zip_code={entry.zip_code}",
        # Nobody is logged in behind these: the entry says the language and the zone (quiet hours).
        "language": entry.language,
        "time_zone": info.time_zone if info is not None else settings.NOTIFICATIONS_DEFAULT_TIME_ZONE,
    }
    for channel, address in ((Channel.EMAIL, entry.email), (Channel.SMS, entry.phone)):
        if address:
            notify.message_enqueue(
                channel=channel,
                to_address=address,
                template=COVERAGE_TEMPLATE,
                context=context,
                unique_key=f"coverage-open:{entry.pk}:{channel}",
            )
