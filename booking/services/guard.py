"""The guard: the one way a visit takes a provider's time, and the locks and routes it needs.

THE GUARD. Every path that puts a visit into a blocking status at a time (hold, series hold,
confirming an expired hold, reschedule, staff reassignment) goes through `_guard`:

0. ask the one question for an infusion (booking/safety.py: may this patient receive an infusion
   at that time? the clinical record, then the plan's count, spacing and window), and refuse
   with its reason in the patient's words (NotEligible) when the answer is no; asked again in 3;
1. look (without locks) which providers could take each requested time;
2. lock, in one fixed order, the Provider rows concerned (by id) and then the patient's User row,
   with a short lock timeout (`LOCK_TIMEOUT_MS`, concierge/locking.py): two bookings that compete for a nurse or
   a patient queue up here instead of both passing a check and both writing;
3. ask the one question again and re-check availability with fresh data through the same
   selector and pure module the pages use, then write (a series' later visits count the earlier
   ones just written); each provider day's travel blocks are recomputed around the new visit.

PostgreSQL's exclusion constraints are the backstop: should two writes ever clash anyway, the
IntegrityError becomes the same `SlotTaken` ("That time was just taken", with the nearest free
times). A lock that cannot be had in time becomes `TryAgainLater`. Neither is ever a 500.

Freeing time (cancel, expire, complete) needs no availability check, but it takes the same
provider lock first so that it never deadlocks with a booking on that provider.

Here too: `visit_locked` (the one lock order for changing a visit, for every app), the provider's
day as a route (`_route_update` recomputes its travel blocks), and placing a new held visit.
"""

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import TypedDict

from django.db import IntegrityError, transaction
from django.db.models import Q

from concierge.errors import TryAgainLater
from concierge.locking import lock_rows
from concierge.models import User
from concierge.tasks import enqueue_on_commit
from roster.models import Provider

from .. import availability, policy, safety
from ..availability import Candidate, Slot
from ..errors import NotEligible, SlotTaken
from ..models import BLOCKING_STATUSES, HOLDABLE_STATUSES, BookingOrigin, Series, Visit, VisitStatus, hold_lapsed
from .context import BookingContext

# One logger name for the whole package, as before the split: log filters keyed on it still match.
logger = logging.getLogger(__package__)

S = VisitStatus


EXCLUSION_VIOLATION = "23P01"


def _lock(*, provider_ids: Iterable[int | None] = (), patient_ids: Iterable[int] = ()) -> None:
    """Lock providers, then patients, in concierge.locking's one order (inside the transaction)."""
    lock_rows({Provider: provider_ids, User: patient_ids})


def visits_lock(visits: Iterable[Visit]) -> None:
    """Lock several visits' rows at once, in the one order: their providers, their patients, then
    the visits. For a use case that works on several visits (pay a series, hold a patient's
    infusions, close an account, cancel a roster's orphans): locked one by one, a second visit's
    provider or patient would come after the first visit."""
    visits = list(visits)
    lock_rows(
        {
            Provider: [visit.provider_id for visit in visits],
            User: [visit.patient_id for visit in visits],
            Visit: [visit.pk for visit in visits],
        }
    )


def upcoming_infusions(*, patient_id: int, now: datetime) -> list[Visit]:
    """The patient's infusions a safety hold concerns: held (not run out), confirmed, en route or
    on hold, not over (booking/services/safety_holds.py)."""
    return list(
        Visit.objects.filter(
            patient_id=patient_id,
            status__in=(*HOLDABLE_STATUSES, S.ON_HOLD),
            service__kind__in=safety.INFUSION_KINDS,
            ends_at__gt=now,
        )
        .exclude(hold_lapsed(now))
        .order_by("starts_at", "pk")
    )


def visit_locked(visit: Visit, *, related: Sequence[str] = ()) -> Visit:
    """The visit's row, fresh and locked after its provider and patient (the one lock order).

    For every use case that changes a visit (booking's own, the nurse's chart, payments): two
    taps or two webhooks racing on one visit queue up here, and the second sees what the first did.
    Raises TryAgainLater when a lock is not granted in time, or when the visit was given to
    another provider between our read and our lock.
    """
    provider_id, patient_id = Visit.objects.filter(pk=visit.pk).values_list("provider_id", "patient_id").get()
    lock_rows({Provider: [provider_id], User: [patient_id], Visit: [visit.pk]})
    current = Visit.objects.select_related(*related).get(pk=visit.pk)
    if current.provider_id != provider_id:
        raise TryAgainLater()
    return current


def _provider_day(provider: Provider, moment: datetime) -> date:
    return moment.astimezone(availability.zone(provider.time_zone)).date()


def _route_update(*, provider: Provider, day: date, pending: Visit | None = None) -> None:
    """Recompute the travel blocks of a provider's visits on one (provider-local) day.

    `pending` is a visit being placed into that day (new or moved, fields set, not yet saved);
    it is saved here. Blocks are changed in three steps (shrink the others to what both the old
    and new routes allow; write the pending visit; grow the others to the new route) so that no
    statement ever sees two overlapping blocks, which the exclusion constraint would refuse.
    """
    placing_new = pending is not None and pending.pk is None
    tz = availability.zone(provider.time_zone)
    day_start = datetime.combine(day, time(0), tzinfo=tz)
    day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    others = list(
        Visit.objects.filter(
            provider=provider, status__in=BLOCKING_STATUSES, starts_at__gte=day_start, starts_at__lt=day_end
        )
        .exclude(pk=pending.pk if pending is not None and pending.pk else 0)
        .select_related("service")
    )
    visits = [*others, pending] if pending is not None and pending.is_blocking else others
    blocks = availability.route_blocks(
        visits=[(v.starts_at, v.ends_at, v.zip_code, v.service.is_telehealth) for v in visits],
        home_zip=provider.home_zip,
        travel=availability.TravelCache(),
    )
    for visit, (new_from, new_until) in zip(others, blocks, strict=False):
        narrow = (max(visit.blocked_from, new_from), min(visit.blocked_until, new_until))
        if narrow != (visit.blocked_from, visit.blocked_until):
            Visit.objects.filter(pk=visit.pk).update(blocked_from=narrow[0], blocked_until=narrow[1])
    if pending is not None:
        if pending.is_blocking:
            pending.blocked_from, pending.blocked_until = blocks[-1]
        pending.full_clean()
        pending.save()
    for visit, (new_from, new_until) in zip(others, blocks, strict=False):
        if (new_from, new_until) != (visit.blocked_from, visit.blocked_until):
            Visit.objects.filter(pk=visit.pk).update(blocked_from=new_from, blocked_until=new_until)
    if not placing_new:
        # A visit left this day or moved (cancelled, expired, rescheduled, reassigned, ended):
        # time may have freed up. Every freeing path passes here, so this is where the waitlist
        # hears of it (services/offers.py; its sweep also runs every minute for the roster).
        enqueue_on_commit("booking.tasks.waitlist_offers_make", once=True)


def _expire_stale_holds(
    *, provider_ids: Iterable[int], patient_id: int, now: datetime, keep: Visit | None = None
) -> int:
    """Holds past their time are dead: mark them expired so their time is free at once."""
    return (
        Visit.objects.filter(hold_lapsed(now))
        .filter(Q(provider_id__in=list(provider_ids)) | Q(patient_id=patient_id))
        .exclude(pk=keep.pk if keep is not None else 0)
        .update(status=S.EXPIRED, updated_at=now)
    )


class _SearchOptions(TypedDict):
    """What the guard's searches share: the visit being moved, the providers allowed, the notice."""

    exclude_visit_id: int | None
    provider_ids: Collection[int] | None
    notice: timedelta | None


def _slots_around(
    ctx: BookingContext,
    starts_at: datetime,
    now: datetime,
    *,
    exclude_visit_id: int | None,
    provider_ids: Collection[int] | None,
    notice: timedelta | None,
    preferred_provider_id: int | None = None,
) -> list[Slot]:
    day = ctx.local_date(starts_at)
    return ctx.slots(
        first_day=day - timedelta(days=1),
        last_day=day + timedelta(days=1),
        now=now,
        exclude_visit_id=exclude_visit_id,
        provider_ids=provider_ids,
        notice=notice,
        preferred_provider_id=preferred_provider_id,
        # The guard decides from the database, never from the schedule cache: a cached answer
        # may be a moment old, and under the locks only what is committed counts.
        fresh=True,
    )


def _permission_check(ctx: BookingContext, starts_at: datetime, moving: Visit | None, now: datetime) -> None:
    """The one question (booking/safety.py), for an infusion at `starts_at`: NotEligible when the answer is no."""
    if not ctx.is_infusion:
        return
    permission = safety.infusion_permission_for(
        patient=ctx.patient, at=starts_at, visit=moving, service=ctx.service, now=now
    )
    if not permission.allowed:
        raise NotEligible(permission.patient_words, extra={"reasons": permission.codes})


def _taken(slots: Sequence[Slot], starts_at: datetime) -> SlotTaken:
    return SlotTaken(nearest=[s.starts_at for s in availability.nearest(slots, starts_at)])


def _guard(
    *,
    ctx: BookingContext,
    requests: Sequence[tuple[datetime, int | None]],
    now: datetime,
    write: Callable[[Slot, Candidate, int], Visit],
    moving: Visit | None = None,
    provider_ids: Collection[int] | None = None,
    notice: timedelta | None = None,
) -> list[Visit]:
    """Place visits at the requested times, or raise SlotTaken/TryAgainLater having written nothing.

    `requests`: [(starts_at, preferred provider id or None)]; `write(slot, candidate, index)` saves
    one visit (through `_route_update`) and is called after the re-check under lock. `moving` is
    a visit being moved or re-acquired (left out of the busy data, its provider locked too).
    """
    exclude_id = moving.pk if moving is not None else None
    options: _SearchOptions = {"exclude_visit_id": exclude_id, "provider_ids": provider_ids, "notice": notice}

    # 1. Who could take each time, without locks.
    pool: set[int] = {moving.provider_id} if moving is not None and moving.provider_id else set()
    for starts_at, preferred in requests:
        _permission_check(ctx, starts_at, moving, now)
        slots = _slots_around(ctx, starts_at, now, preferred_provider_id=preferred, **options)
        slot = availability.slot_at(slots, starts_at)
        if slot is None:
            raise _taken(slots, starts_at)
        pool.update(c.provider_id for c in slot.candidates)

    # 2. Lock them in the fixed order, then clear away holds that have run out.
    _lock(provider_ids=pool, patient_ids=[ctx.patient.pk])
    _expire_stale_holds(provider_ids=pool, patient_id=ctx.patient.pk, now=now, keep=moving)

    # 3. Re-check with fresh data and write, one visit at a time (later ones see earlier ones).
    allowed = pool if provider_ids is None else pool & set(provider_ids)
    options["provider_ids"] = allowed
    placed = []
    for index, (starts_at, preferred) in enumerate(requests):
        slots = _slots_around(ctx, starts_at, now, preferred_provider_id=preferred, **options)
        slot = availability.slot_at(slots, starts_at)
        if slot is None:
            raise _taken(slots, starts_at)  # a race lost (the same time, taken) reads as one
        _permission_check(ctx, starts_at, moving, now)
        try:
            with transaction.atomic():
                placed.append(write(slot, slot.best, index))
        except IntegrityError as exc:
            if getattr(exc.__cause__, "pgcode", None) != EXCLUSION_VIOLATION:
                raise
            # The backstop fired: something wrote past the locks. Same answer as a lost race.
            logger.warning("booking: exclusion constraint refused a visit the re-check allowed")
            raise _taken(_slots_around(ctx, starts_at, now, **options), starts_at) from exc
    return placed


def _own_open_holds(
    *, patient: User, service_id: int, starts: Sequence[datetime], origin: str, now: datetime
) -> list[Visit]:
    """The patient's own holds, still open, at exactly these times (same service), booked online;
    empty unless there is one at every time.

    What a lost race against oneself finds: the same booking form sent twice (a double click, two
    tabs) queues at the patient's lock, and the second sees the first one's hold as "taken". Asked
    only after a refusal, outside the failed attempt's transaction, so the first one has committed.
    Staff and the waitlist's offers (any other `origin`) are told what they asked twice: empty.
    """
    if origin != BookingOrigin.ONLINE:
        return []
    wanted = sorted(set(starts))
    own = list(
        Visit.objects.filter(
            patient=patient,
            service_id=service_id,
            starts_at__in=wanted,
            status=S.HELD,
            origin=origin,
            hold_expires_at__gt=now,
        ).order_by("starts_at")
    )
    return own if [visit.starts_at for visit in own] == wanted else []


def _new_visit(
    ctx: BookingContext,
    slot: Slot,
    candidate: Candidate,
    *,
    now: datetime,
    series: Series | None = None,
    origin: str = BookingOrigin.ONLINE,
    booked_by: User | None = None,
) -> Visit:
    place = ctx.place
    return Visit(
        patient=ctx.patient,
        service=ctx.service,
        provider_id=candidate.provider_id,
        clearance=ctx.clearance,
        series=series,
        status=S.HELD,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        blocked_from=slot.starts_at,
        blocked_until=slot.ends_at,
        time_zone=place.time_zone,
        address_line1=place.address_line1,
        address_line2=place.address_line2,
        city=place.city,
        state=place.state,
        zip_code=place.zip_code,
        price_cents=ctx.service.price_cents,
        amount_due_cents=policy.amount_due_cents(ctx.service),
        hold_expires_at=now + policy.hold_duration(origin),
        origin=origin,
        booked_by=booked_by,
    )


def _place_new(
    ctx: BookingContext,
    slot: Slot,
    candidate: Candidate,
    *,
    now: datetime,
    series: Series | None = None,
    origin: str = BookingOrigin.ONLINE,
    booked_by: User | None = None,
) -> Visit:
    provider = Provider.objects.get(pk=candidate.provider_id)
    visit = _new_visit(ctx, slot, candidate, now=now, series=series, origin=origin, booked_by=booked_by)
    _route_update(provider=provider, day=_provider_day(provider, visit.starts_at), pending=visit)
    return visit
