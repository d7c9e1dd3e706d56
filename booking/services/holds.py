"""Holds that ran out: expired every minute so that their time is free again."""

import logging
from datetime import datetime
from itertools import groupby

from django.db import transaction
from django.utils import timezone

from concierge.errors import TryAgainLater
from roster.models import Provider

from ..models import Visit, VisitStatus, hold_lapsed
from .guard import _lock, _provider_day, _route_update

# One logger name for the whole package, as before the split: log filters keyed on it still match.
logger = logging.getLogger(__package__)

S = VisitStatus


def visit_holds_expire(*, now: datetime | None = None) -> int:
    """Mark holds past their time EXPIRED and free their time. Returns how many it expired.

    Runs every minute (booking.tasks). One short transaction per provider rather than one for
    all, so a provider busy with a booking delays only their own holds. The conditional UPDATE
    (still HELD, still past its time) means two runners, or a runner and a late payment,
    never both act on one hold.
    """
    now = now or timezone.now()
    stale = list(
        Visit.objects.filter(hold_lapsed(now))
        .order_by("provider_id", "pk")
        .values_list("provider_id", "pk", "starts_at")[:1000]
    )
    expired = 0
    for provider_id, group in groupby(stale, key=lambda r: r[0]):
        rows = list(group)
        try:
            with transaction.atomic():
                _lock(provider_ids=[provider_id])
                count = Visit.objects.filter(hold_lapsed(now), pk__in=[pk for _, pk, _ in rows]).update(
                    status=S.EXPIRED, updated_at=now
                )
                if count and provider_id:
                    provider = Provider.objects.get(pk=provider_id)
                    for day in {_provider_day(provider, starts_at) for _, _, starts_at in rows}:
                        _route_update(provider=provider, day=day)
                expired += count
        except TryAgainLater:
            logger.info("booking: holds of provider %s left for the next run (busy)", provider_id)
    return expired
