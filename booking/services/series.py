"""A treatment plan's infusions booked together: propose times, check the plan's rules, hold and confirm all or none."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import ApplicationError

from ..models import BLOCKING_STATUSES, Series, ServiceKind, Visit, VisitStatus
from .context import _check_clearance_date, booking_context
from .guard import _guard, _place_new
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
    visits: list  # ProposedVisit, in time order
    wanted: int  # how many the plan still needs
    window_days: int
    min_gap: timedelta
    last_day: object  # the last date the plan allows (window, clearance, horizon)


def _plan_infusions(patient, clearance):
    return Visit.objects.filter(
        patient=patient,
        clearance=clearance,
        service__kind=ServiceKind.INFUSION,
        status__in=(*BLOCKING_STATUSES, S.COMPLETED),
    )


def series_remaining(*, patient, clearance):
    """How many of the plan's infusions are still to be booked."""
    return max(0, clearance.infusions_planned - _plan_infusions(patient, clearance).count())


def series_plan_starts(*, patient, clearance):
    """When the plan's infusions already booked (or given) start: the plan's window counts from the first."""
    return sorted(_plan_infusions(patient, clearance).values_list("starts_at", flat=True))


def _part_of_day_ok(slot, part):
    hour = slot.local_start.hour
    return part not in ("morning", "afternoon") or (hour < 12) == (part == "morning")


def series_propose(*, patient, service, first_day, part_of_day=None, now=None):
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
    clearance = ctx.clearance
    wanted = series_remaining(patient=patient, clearance=clearance)
    booked = series_plan_starts(patient=patient, clearance=clearance)
    window_from = min([first_day] + [ctx.local_date(s) for s in booked[:1]])
    last_day = min(window_from + timedelta(days=clearance.series_window_days - 1), clearance.expires_on)
    slots = [s for s in ctx.slots(first_day=first_day, last_day=last_day, now=now) if _part_of_day_ok(s, part_of_day)]
    proposal = {
        "wanted": wanted,
        "window_days": clearance.series_window_days,
        "min_gap": ctx.min_gap,
        "last_day": last_day,
    }
    if not slots or not wanted:
        return SeriesProposal(visits=[], **proposal)

    def greedy(provider_id=None):
        chosen, earliest = [], None
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
                candidate = (previous is not None and slot.candidate_for(previous)) or slot.best
            chosen.append(ProposedVisit(slot.starts_at, candidate.provider_id))
            earliest = slot.starts_at + ctx.min_gap
        return chosen

    # Providers in dispatch order at the first free time, then everyone else who appears.
    order = [c.provider_id for c in slots[0].candidates]
    for slot in slots:
        order.extend(c.provider_id for c in slot.candidates if c.provider_id not in order)
    for provider_id in order:
        visits = greedy(provider_id)
        if len(visits) == wanted:
            return SeriesProposal(visits=visits, **proposal)
    return SeriesProposal(visits=greedy(), **proposal)


def series_check(*, ctx, starts, remaining, booked=()):
    """The plan's rules for a set of times: how many, spacing, window (with the plan's infusions
    already `booked`), clearance."""
    if not starts:
        raise SeriesInvalid(_("Choose at least one time."))
    if len(starts) > remaining:
        raise SeriesInvalid(_("Your plan has %(n)s infusions left to book.") % {"n": remaining})
    starts = sorted(starts)
    for earlier, later in pairwise(starts):
        if later - earlier < ctx.min_gap:
            raise SeriesInvalid(
                _("Infusions must be at least %(hours)s hours apart.") % {"hours": ctx.clearance.min_hours_between}
            )
    window = ctx.clearance.series_window_days
    every = sorted([*starts, *booked])
    if ctx.local_date(every[-1]) - ctx.local_date(every[0]) >= timedelta(days=window):
        raise SeriesInvalid(_("All the infusions must fall within %(days)s days.") % {"days": window})
    for starts_at in starts:
        _check_clearance_date(ctx, starts_at)
    return starts


@transaction.atomic
def series_hold(*, patient, service, visits, now=None):
    """Hold several infusions of the plan together: all of them, or none.

    `visits`: [(starts_at, preferred provider id or None)] (e.g. from series_propose, adjusted).
    Returns the Series; its visits are HELD for BOOKING_HOLD_MINUTES.
    """
    now = now or timezone.now()
    if service.kind != ServiceKind.INFUSION:
        raise SeriesInvalid(_("Only infusions are booked as a series."))
    ctx = booking_context(patient=patient, service=service)
    visits = sorted(visits, key=lambda v: v[0])
    series_check(
        ctx=ctx,
        starts=[s for s, _ in visits],
        remaining=series_remaining(patient=patient, clearance=ctx.clearance),
        booked=series_plan_starts(patient=patient, clearance=ctx.clearance),
    )
    series = Series(patient=patient, clearance=ctx.clearance)
    series.full_clean()
    series.save()
    _guard(
        ctx=ctx,
        requests=visits,
        now=now,
        write=lambda slot, candidate, index: _place_new(ctx, slot, candidate, now=now, series=series),
    )
    return series


@transaction.atomic
def series_confirm(*, series, now=None):
    """Confirm every visit of a series together (payment succeeded): all of them, or none."""
    now = now or timezone.now()
    visits = list(series.visits.exclude(status=S.CANCELLED).order_by("starts_at"))
    return [visit_confirm(visit=v, now=now) for v in visits]
