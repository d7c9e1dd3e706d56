"""Running late: when a nurse's earlier visit runs past its end, the next patient hears before
their time passes, once per visit (the outbox's key), instead of waiting in silence."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from booking.models import Visit, VisitStatus
from notifications.services import sms_running_late
from nurses.selectors import previous_stop

# Only the visits whose start is this close are worth a text now; later ones may still be kept.
LOOK_AHEAD = timedelta(hours=3)
NOT_FINISHED = (VisitStatus.CONFIRMED, VisitStatus.EN_ROUTE, VisitStatus.IN_PROGRESS)


def visits_running_late_notify(*, now: datetime | None = None) -> list[int]:
    """Text each patient whose nurse is still in (or not yet at) an earlier visit that should have
    ended. Returns the visits told now or before; a second run sends nothing more."""
    now = now or timezone.now()
    told = []
    upcoming = Visit.objects.filter(
        status=VisitStatus.CONFIRMED,
        provider__isnull=False,
        service__is_telehealth=False,
        starts_at__gt=now - timedelta(hours=12),
        starts_at__lt=now + LOOK_AHEAD,
    ).select_related("provider", "patient", "service")
    for visit in upcoming:
        earlier = previous_stop(visit=visit)
        if earlier is None or earlier.status not in NOT_FINISHED or now <= earlier.ends_at:
            continue
        with transaction.atomic():
            sms_running_late(visit=visit)
        told.append(visit.pk)
    return told
