"""Reassigning a visit: who could take it at its time."""

from datetime import datetime, timedelta

from django.utils import timezone

from booking import availability, selectors
from booking import services as booking_services
from booking.availability import Candidate, zone
from booking.models import Visit
from booking.selectors import VisitPlace
from roster.models import Provider

from .hours import minutes_between


def visit_place(visit: Visit) -> VisitPlace:
    return VisitPlace(
        zip_code=visit.zip_code,
        state=visit.state,
        time_zone=visit.time_zone,
        city=visit.city,
        address_line1=visit.address_line1,
        address_line2=visit.address_line2,
    )


def reassign_candidates(*, visit: Visit, now: datetime | None = None) -> list[tuple[Provider, Candidate]]:
    """Providers who are eligible and free to take this visit at its time, best first (dispatch rule).

    The same search the booking guard re-runs under lock (staff: no notice), so what is offered
    here is what `visit_reassign` accepts unless someone books in between. The current
    provider is left out. Returns [(Provider, Candidate)].
    """
    now = now or timezone.now()
    ctx = booking_services.booking_context(
        patient=visit.patient,
        service=visit.service,
        place=visit_place(visit),
        check_eligibility=False,
    )
    clearance = visit.clearance or ctx.clearance
    min_gap = timedelta(hours=clearance.min_hours_between) if clearance is not None else ctx.min_gap
    day = visit.starts_at.astimezone(zone(visit.time_zone)).date()
    slots = selectors.availability_for(
        service=visit.service,
        place=ctx.place,
        patient=visit.patient,
        first_day=day,
        last_day=day,
        now=now,
        visit_minutes=minutes_between(visit.starts_at, visit.ends_at),
        min_gap=min_gap,
        exclude_visit_id=visit.pk,
        notice=timedelta(0),
    )
    slot = availability.slot_at(slots, visit.starts_at)
    if slot is None:
        return []
    candidates = [c for c in slot.candidates if c.provider_id != visit.provider_id]
    providers = Provider.objects.select_related("user").in_bulk([c.provider_id for c in candidates])
    return [(providers[c.provider_id], c) for c in candidates if c.provider_id in providers]
