"""A treatment plan's infusions booked together: propose times, check the plan's rules, hold and confirm all or none."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import NamedTuple

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import ApplicationError
from concierge.models import User
from patients.models import Clearance

from ..availability import Slot
from ..errors import NotEligible
from ..models import BLOCKING_STATUSES, BookingOrigin, Series, Service, ServiceKind, Visit, VisitStatus
from .context import BookingContext, _check_clearance_date, acting_for_patient, booking_context
from .guard import _guard, _own_open_holds, _place_new
from .visits import visit_confirm

S = VisitStatus


class SeriesInvalid(ApplicationError):
    default_message = _("These times do not fit your treatment plan.")
    code = "series_invalid"


@dataclass(frozen=True)
class ProposedVisit:
    starts_at: datetime
    provider_id: int


@dataclass(frozen=True)
class SeriesProposal:
    visits: list[ProposedVisit]  # in time order
    wanted: int  # how many the plan still needs
    window_days: int
    min_gap: timedelta
    last_day: date  # the last date the plan allows (window, clearance, horizon)


class _Plan(NamedTuple):
    """The treatment plan a series is booked under."""

    clearance: Clearance
    min_gap: timedelta
    expires_on: date


def _plan_of(ctx: BookingContext) -> _Plan:
    # booking_context refuses an infusion without an active clearance (which has an expiry date),
    # so for a series this never raises: it tells the type checker what the context holds.
    if ctx.clearance is None or ctx.min_gap is None or ctx.clearance.expires_on is None:
        raise NotEligible(_("Infusions can be booked once a clinician has cleared you."))
    return _Plan(ctx.clearance, ctx.min_gap, ctx.clearance.expires_on)


def _plan_infusions(patient: User, clearance: Clearance) -> QuerySet[Visit]:
    return Visit.objects.filter(
        patient=patient,
        clearance=clearance,
        service__kind=ServiceKind.INFUSION,
        status__in=(*BLOCKING_STATUSES, S.COMPLETED),
    )


def series_remaining(*, patient: User, clearance: Clearance) -> int:
    """How many of the plan's infusions are still to be booked."""
    return max(0, clearance.infusions_planned - _plan_infusions(patient, clearance).count())


def series_plan_starts(*, patient: User, clearance: Clearance) -> list[datetime]:
    """When the plan's infusions already booked (or given) start: the plan's window counts from the first."""
    return sorted(_plan_infusions(patient, clearance).values_list("starts_at", flat=True))


def _part_of_day_ok(slot: Slot, part: str | None) -> bool:
    hour = slot.local_start.hour
    return part not in ("morning", "afternoon") or (hour < 12) == (part == "morning")


def _greedy(
    slots: Sequence[Slot], *, wanted: int, min_gap: timedelta, provider_id: int | None = None
) -> list[ProposedVisit]:
    """The earliest times, each at least `min_gap` after the previous, up to `wanted`.

    With `provider_id`, only that provider's times; without, each time keeps the previous time's
    provider when they are free, and otherwise follows the dispatch rule.
    """
    chosen: list[ProposedVisit] = []
    earliest = None
    for slot in slots:
        if len(chosen) == wanted:
            break
        if earliest is not None and slot.starts_at < earliest:
            continue
        if provider_id is not None:
            candidate = slot.candidate_for(provider_id)
            if candidate is None:
                continue
        else:
            previous = chosen[-1].provider_id if chosen else None
            candidate = (slot.candidate_for(previous) if previous is not None else None) or slot.best
        chosen.append(ProposedVisit(slot.starts_at, candidate.provider_id))
        earliest = slot.starts_at + min_gap
    return chosen


def series_propose(
    *,
    patient: User,
    service: Service,
    first_day: date,
    part_of_day: str | None = None,
    now: datetime | None = None,
) -> SeriesProposal:
    """Propose times for the rest of the plan, from `first_day`, one provider when possible.

    Each time is the earliest free one at least the plan's minimum spacing after the previous,
    all within the plan's window and before the clearance ends. One provider who can take them
    all is preferred (the patient's previous provider first); else each time keeps the previous
    time's provider when free, and otherwise follows the dispatch rule. May propose fewer than
    `wanted` when the window is too full.
    """
    now = now or timezone.now()
    if service.kind != ServiceKind.INFUSION:
        raise SeriesInvalid(_("Only infusions are booked as a series."))
    ctx = booking_context(patient=patient, service=service)
    plan = _plan_of(ctx)
    wanted = series_remaining(patient=patient, clearance=plan.clearance)
    booked = series_plan_starts(patient=patient, clearance=plan.clearance)
    window_from = min([first_day] + [ctx.local_date(s) for s in booked[:1]])
    last_day = min(window_from + timedelta(days=plan.clearance.series_window_days - 1), plan.expires_on)
    slots = [s for s in ctx.slots(first_day=first_day, last_day=last_day, now=now) if _part_of_day_ok(s, part_of_day)]

    def proposal(visits: list[ProposedVisit]) -> SeriesProposal:
        window_days = plan.clearance.series_window_days
        return SeriesProposal(visits, wanted, window_days=window_days, min_gap=plan.min_gap, last_day=last_day)

    if not slots or not wanted:
        return proposal([])
    # Providers in dispatch order at the first free time, then everyone else who appears.
    order = [c.provider_id for c in slots[0].candidates]
    for slot in slots:
        order.extend(c.provider_id for c in slot.candidates if c.provider_id not in order)
    for provider_id in order:
        visits = _greedy(slots, wanted=wanted, min_gap=plan.min_gap, provider_id=provider_id)
        if len(visits) == wanted:
            return proposal(visits)
    return proposal(_greedy(slots, wanted=wanted, min_gap=plan.min_gap))


def series_check(
    *, ctx: BookingContext, starts: Sequence[datetime], remaining: int, booked: Sequence[datetime] = ()
) -> list[datetime]:
    """The plan's rules for a set of times: how many, spacing, window (with the plan's infusions
    already `booked`), clearance."""
    plan = _plan_of(ctx)
    if not starts:
        raise SeriesInvalid(_("Choose at least one time."))
    if len(starts) > remaining:
        raise SeriesInvalid(_("Your plan has %(n)s infusions left to book.") % {"n": remaining})
    in_order = sorted(starts)
    for earlier, later in pairwise(in_order):
        if later - earlier < plan.min_gap:
            raise SeriesInvalid(
                _("Infusions must be at least %(hours)s hours apart.") % {"hours": plan.clearance.min_hours_between}
            )
    window = plan.clearance.series_window_days
    every = sorted([*in_order, *booked])
    if ctx.local_date(every[-1]) - ctx.local_date(every[0]) >= timedelta(days=window):
        raise SeriesInvalid(_("All the infusions must fall within %(days)s days.") % {"days": window})
    for starts_at in in_order:
        _check_clearance_date(ctx, starts_at)
    return in_order


def series_hold(
    *,
    patient: User,
    service: Service,
    visits: Sequence[tuple[datetime, int | None]],
    now: datetime | None = None,
    booked_by: User | None = None,
) -> Series:
    """Hold several infusions of the plan together: all of them, or none.

    `visits`: [(starts_at, preferred provider id or None)] (e.g. from series_propose, adjusted).
    Returns the Series; its visits are HELD for BOOKING_HOLD_MINUTES, or for
    BOOKING_PHONE_HOLD_MINUTES when a scheduler books them for the patient (`booked_by`). The
    patient's own open series at exactly those times, booked online (the same form sent twice), is returned.
    """
    now = now or timezone.now()
    by_phone = acting_for_patient(actor=booked_by, patient_id=patient.pk)
    origin = BookingOrigin.PHONE if by_phone else BookingOrigin.ONLINE
    booked_by = booked_by if by_phone else None
    try:
        return _series_place(
            patient=patient, service=service, visits=visits, now=now, origin=origin, booked_by=booked_by
        )
    except ApplicationError:
        # Refused because of this very series sent twice (a double click, a second tab): its times
        # read as taken, or the plan as full. That series is the answer to both.
        own = _own_open_holds(
            patient=patient,
            service_id=service.pk,
            starts=[starts_at for starts_at, _ in visits],
            origin=origin,
            now=now,
        )
        series = own[0].series if own else None
        if series is None or any(visit.series_id != series.pk for visit in own):
            raise
        return series


@transaction.atomic
def _series_place(
    *,
    patient: User,
    service: Service,
    visits: Sequence[tuple[datetime, int | None]],
    now: datetime,
    origin: str,
    booked_by: User | None,
) -> Series:
    if service.kind != ServiceKind.INFUSION:
        raise SeriesInvalid(_("Only infusions are booked as a series."))
    ctx = booking_context(patient=patient, service=service)
    plan = _plan_of(ctx)
    requests = sorted(visits, key=lambda v: v[0])
    series_check(
        ctx=ctx,
        starts=[s for s, _ in requests],
        remaining=series_remaining(patient=patient, clearance=plan.clearance),
        booked=series_plan_starts(patient=patient, clearance=plan.clearance),
    )
    series = Series(patient=patient, clearance=plan.clearance, booked_by=booked_by)
    series.full_clean()
    series.save()
    _guard(
        ctx=ctx,
        requests=requests,
        now=now,
        write=lambda slot, candidate, index: _place_new(
            ctx, slot, candidate, now=now, series=series, origin=origin, booked_by=booked_by
        ),
    )
    return series


@transaction.atomic
def series_confirm(*, series: Series, now: datetime | None = None) -> list[Visit]:
    """Confirm every visit of a series together (payment succeeded): all of them, or none."""
    now = now or timezone.now()
    visits = list(series.visits.exclude(status=S.CANCELLED).order_by("starts_at"))
    return [visit_confirm(visit=v, now=now) for v in visits]
