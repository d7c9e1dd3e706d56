"""Booking use cases: hold, confirm, reschedule, cancel, series, expiry, and the life cycle.

THE GUARD. Every path that puts a visit into a blocking status at a time (hold, series hold,
confirming an expired hold, reschedule, staff reassignment) goes through `_guard`:

1. look (without locks) which providers could take each requested time;
2. lock, in one fixed order, the Provider rows concerned (by id) and then the patient's User row,
   with a short lock timeout (`LOCK_TIMEOUT_MS`, concierge/locking.py): two bookings that compete for a nurse or
   a patient queue up here instead of both passing a check and both writing;
3. re-check availability with fresh data through the same selector and pure module the pages
   use, then write; each provider day's travel blocks are recomputed around the new visit.

PostgreSQL's exclusion constraints are the backstop: should two writes ever clash anyway, the
IntegrityError becomes the same `SlotTaken` ("That time was just taken", with the nearest free
times). A lock that cannot be had in time becomes `TryAgainLater`. Neither is ever a 500.

Freeing time (cancel, expire, complete) needs no availability check, but it takes the same
provider lock first so that it never deadlocks with a booking on that provider.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import groupby, pairwise

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import ApplicationError, InvalidState, NotAllowed, TryAgainLater
from concierge.geo import zip_lookup
from concierge.locking import lock_rows
from concierge.models import User
from notifications import services as notify
from patients import selectors as patient_selectors
from payments import services as payments
from payments.display import money
from payments.models import RefundReason
from payments.selectors import refund_automatic_for_visit
from roster.models import Provider

from . import availability, policy, selectors, telehealth
from .errors import ChangeWindowClosed, NotCovered, NotEligible, SlotTaken, TransitionNotAllowed
from .models import BLOCKING_STATUSES, CancelledBy, Series, ServiceKind, Visit, VisitStatus, WaitlistEntry

logger = logging.getLogger(__name__)

S = VisitStatus

# The life cycle. Moves INTO a blocking status from a non-blocking one (EXPIRED -> CONFIRMED)
# happen only through the guard (visit_confirm); cancellations only through
# visit_cancel; expiry only through visit_holds_expire.
ALLOWED_TRANSITIONS = {
    S.HELD: {S.CONFIRMED, S.CANCELLED, S.EXPIRED},
    S.EXPIRED: {S.CONFIRMED},
    S.CONFIRMED: {S.EN_ROUTE, S.CANCELLED, S.NO_SHOW},
    S.EN_ROUTE: {S.CONFIRMED, S.IN_PROGRESS, S.CANCELLED, S.NO_SHOW},
    S.IN_PROGRESS: {S.COMPLETED},
    S.COMPLETED: set(),
    S.CANCELLED: set(),
    S.NO_SHOW: set(),
}
# What field work may do with visit_transition (the nurse's day, issue 7).
FIELD_TRANSITIONS = {S.EN_ROUTE, S.IN_PROGRESS, S.COMPLETED, S.NO_SHOW, S.CONFIRMED}

EXCLUSION_VIOLATION = "23P01"


def transition_allowed(from_status, to_status):
    return to_status in ALLOWED_TRANSITIONS.get(from_status, set())


class SeriesInvalid(ApplicationError):
    default_message = _("These times do not fit your treatment plan.")
    code = "series_invalid"


# --- locks ------------------------------------------------------------------------------------


def _lock(*, provider_ids=(), patient_ids=()):
    """Lock providers, then patients, in concierge.locking's one order (inside the transaction)."""
    lock_rows({Provider: provider_ids, User: patient_ids})


def visit_locked(visit, *, related=()):
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


# --- provider routes --------------------------------------------------------------------------


def _provider_day(provider, moment):
    return moment.astimezone(availability.zone(provider.time_zone)).date()


def _route_update(*, provider, day, pending=None):
    """Recompute the travel blocks of a provider's visits on one (provider-local) day.

    `pending` is a visit being placed into that day (new or moved, fields set, not yet saved);
    it is saved here. Blocks are changed in three steps (shrink the others to what both the old
    and new routes allow; write the pending visit; grow the others to the new route) so that no
    statement ever sees two overlapping blocks, which the exclusion constraint would refuse.
    """
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
    return pending


def _expire_stale_holds(*, provider_ids, patient_id, now, keep=None):
    """Holds past their time are dead: mark them expired so their time is free at once."""
    return (
        Visit.objects.filter(status=S.HELD, hold_expires_at__lte=now)
        .filter(Q(provider_id__in=list(provider_ids)) | Q(patient_id=patient_id))
        .exclude(pk=keep.pk if keep is not None else 0)
        .update(status=S.EXPIRED, updated_at=now)
    )


# --- who may book what, where -----------------------------------------------------------------


@dataclass
class BookingContext:
    patient: User
    service: object
    place: selectors.VisitPlace
    clearance: object  # patients.Clearance for infusions, else None
    visit_minutes: int
    min_gap: timedelta | None

    @property
    def is_infusion(self):
        return self.service.kind in (ServiceKind.INFUSION, ServiceKind.BOOSTER)

    def local_date(self, moment):
        return moment.astimezone(availability.zone(self.place.time_zone)).date()

    def slots(self, *, first_day, last_day, **kwargs):
        """Free start times for this patient, service and place (the one search every page uses)."""
        return selectors.availability_for(
            service=self.service,
            place=self.place,
            patient=self.patient,
            first_day=first_day,
            last_day=last_day,
            visit_minutes=self.visit_minutes,
            min_gap=self.min_gap,
            **kwargs,
        )


def booking_context(*, patient, service, place=None, check_eligibility=True):
    """Everything a booking of `service` for `patient` depends on, or the reason it cannot happen."""
    if not service.is_active:
        raise NotCovered(_("This visit is not offered at the moment."))
    is_infusion = service.kind in (ServiceKind.INFUSION, ServiceKind.BOOSTER)
    if check_eligibility:
        eligibility = patient_selectors.booking_eligibility_for(patient=patient)
        allowed = eligibility.can_book_infusion if is_infusion else eligibility.can_book_evaluation
        if not allowed:
            raise NotEligible(eligibility.reason or None)
    place = place or selectors.visit_place_for(patient=patient)
    if place is None:
        raise NotCovered(_("Please add your home address (with its ZIP code) to your profile first."))
    if not selectors.areas_covering(zip_info=zip_lookup(place.zip_code), service=service, with_services=False):
        raise NotCovered()
    clearance = None
    if is_infusion:
        clearance = patient_selectors.clearance_active_for(patient=patient)
        if clearance is None and check_eligibility:
            raise NotEligible(_("Infusions can be booked once a clinician has cleared you."))
    infusion_minutes = clearance.infusion_minutes if clearance is not None else None
    return BookingContext(
        patient=patient,
        service=service,
        place=place,
        clearance=clearance,
        visit_minutes=service.visit_minutes(infusion_minutes),
        min_gap=timedelta(hours=clearance.min_hours_between) if clearance is not None else None,
    )


def _check_clearance_date(ctx, starts_at):
    if ctx.clearance is not None and not ctx.clearance.is_active_on(ctx.local_date(starts_at)):
        raise NotEligible(
            _("Your clearance ends on %(date)s. Please choose an earlier time or speak with your clinician.")
            % {"date": formats.date_format(ctx.clearance.expires_on, "DATE_FORMAT")}
        )


# --- the guard --------------------------------------------------------------------------------


def _slots_around(ctx, starts_at, now, **kwargs):
    day = ctx.local_date(starts_at)
    return ctx.slots(first_day=day - timedelta(days=1), last_day=day + timedelta(days=1), now=now, **kwargs)


def _taken(slots, starts_at):
    return SlotTaken(nearest=[s.starts_at for s in availability.nearest(slots, starts_at)])


def _guard(*, ctx, requests, now, write, moving=None, provider_ids=None, notice=None):
    """Place visits at the requested times, or raise SlotTaken/TryAgainLater having written nothing.

    `requests`: [(starts_at, preferred provider id or None)]; `write(slot, candidate, index)` saves
    one visit (through `_route_update`) and is called after the re-check under lock. `moving` is
    a visit being moved or re-acquired (left out of the busy data, its provider locked too).
    """
    exclude_id = moving.pk if moving is not None else None
    options = {"exclude_visit_id": exclude_id, "provider_ids": provider_ids, "notice": notice}

    # 1. Who could take each time, without locks.
    pool = {moving.provider_id} if moving is not None and moving.provider_id else set()
    for starts_at, preferred in requests:
        _check_clearance_date(ctx, starts_at)
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
            raise _taken(slots, starts_at)
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


def _new_visit(ctx, slot, candidate, *, now, series=None):
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
        hold_expires_at=now + policy.hold_duration(),
    )


def _place_new(ctx, slot, candidate, *, now, series=None):
    provider = Provider.objects.get(pk=candidate.provider_id)
    visit = _new_visit(ctx, slot, candidate, now=now, series=series)
    return _route_update(provider=provider, day=_provider_day(provider, visit.starts_at), pending=visit)


# --- booking ----------------------------------------------------------------------------------


@transaction.atomic
def visit_hold(*, patient, service, starts_at, now=None, provider=None):
    """Hold a time for the patient for BOOKING_HOLD_MINUTES, with the provider the dispatch rule picks.

    The visit is HELD with its price and the amount due now (the deposit, else the full price)
    until `visit_confirm`. Raises NotEligible, NotCovered, SlotTaken or TryAgainLater.
    `provider` (staff booking) restricts the choice to one provider.
    """
    now = now or timezone.now()
    ctx = booking_context(patient=patient, service=service)
    placed = _guard(
        ctx=ctx,
        requests=[(starts_at, None)],
        now=now,
        provider_ids=[provider.pk] if provider is not None else None,
        write=lambda slot, candidate, index: _place_new(ctx, slot, candidate, now=now),
    )
    return placed[0]


@transaction.atomic
def visit_confirm(*, visit, now=None):
    """HELD -> CONFIRMED (payment succeeded). Safe to call twice: a confirmed visit is returned as is.

    A hold that has run out (expired, or past its time) is re-acquired through the guard only
    if its time is still free, with the same provider when possible; otherwise SlotTaken, so
    the payment can be refunded. A cancelled visit raises InvalidState.
    """
    now = now or timezone.now()
    current = Visit.objects.get(pk=visit.pk)
    if current.status in (S.CONFIRMED, S.EN_ROUTE, S.IN_PROGRESS, S.COMPLETED, S.NO_SHOW):
        return current
    if current.status == S.CANCELLED:
        raise InvalidState(_("This visit was cancelled, so it cannot be confirmed."))

    if current.status == S.HELD and current.hold_expires_at and current.hold_expires_at > now:
        current = visit_locked(current)
        if current.status in (S.CONFIRMED, S.EN_ROUTE, S.IN_PROGRESS, S.COMPLETED, S.NO_SHOW):
            return current  # confirmed by someone else while we waited for the lock
        if current.status == S.HELD and current.hold_expires_at > now:
            return _confirmed(current, now)
        if current.status == S.CANCELLED:
            raise InvalidState(_("This visit was cancelled, so it cannot be confirmed."))

    # The hold ran out: the time must be free again, through the same guard as a booking, with
    # the same provider (already locked by a payment confirming it: locking other providers now
    # would take locks out of the fixed order).
    ctx = booking_context(
        patient=current.patient, service=current.service, place=_place_of(current), check_eligibility=True
    )
    ctx.visit_minutes = _minutes(current)

    def write(slot, candidate, index):
        moved = Visit.objects.select_for_update().get(pk=current.pk)
        if moved.status not in (S.HELD, S.EXPIRED):
            raise InvalidState()
        moved.provider_id = candidate.provider_id
        moved.status = S.HELD  # blocking again; confirmed just below
        provider = Provider.objects.get(pk=candidate.provider_id)
        old_provider, old_day = current.provider, _provider_day(current.provider, current.starts_at)
        _route_update(provider=provider, day=_provider_day(provider, moved.starts_at), pending=moved)
        if old_provider.pk != provider.pk:
            _route_update(provider=old_provider, day=old_day)
        return moved

    moved = _guard(
        ctx=ctx,
        requests=[(current.starts_at, current.provider_id)],
        now=now,
        write=write,
        moving=current,
        provider_ids=[current.provider_id],
    )[0]
    return _confirmed(moved, now)


def _confirmed(visit, now):
    visit.status = S.CONFIRMED
    visit.confirmed_at = now
    telehealth.video_link_assign(visit=visit)  # a video evaluation gets its room (issue 10)
    visit.full_clean()
    visit.save()
    notify.visit_confirmed(visit=visit)
    return visit


def _place_of(visit):
    return selectors.VisitPlace(
        zip_code=visit.zip_code,
        state=visit.state,
        time_zone=visit.time_zone,
        city=visit.city,
        address_line1=visit.address_line1,
        address_line2=visit.address_line2,
    )


def _minutes(visit):
    return int((visit.ends_at - visit.starts_at).total_seconds() // 60)


@transaction.atomic
def visit_cancel(*, visit, by, reason="", actor=None, now=None):
    """Cancel a visit; its time is free at once. Safe to call twice.

    Patients (`by=CancelledBy.PATIENT`) may cancel their own visits up to the cut-off; inside it
    ChangeWindowClosed tells them to call. Staff may cancel any visit not yet in progress.
    """
    now = now or timezone.now()
    current = visit_locked(visit)
    if current.status == S.CANCELLED:
        return current
    if not transition_allowed(current.status, S.CANCELLED):
        raise TransitionNotAllowed(_("This visit can no longer be cancelled."))
    if by == CancelledBy.PATIENT:
        if actor is not None and actor.pk != current.patient_id:
            raise NotAllowed()
        if current.status != S.HELD and not policy.patient_may_change(current, now):
            raise ChangeWindowClosed(policy.cancellation_policy())
    was = current.status
    current.status = S.CANCELLED
    current.cancelled_at = now
    current.cancelled_by = by
    current.cancelled_by_user = actor
    current.cancellation_reason = reason or ""
    current.full_clean()
    current.save()
    if current.provider_id:
        provider = current.provider
        _route_update(provider=provider, day=_provider_day(provider, current.starts_at))
    visit_refund_by_policy(visit=current)
    if was != S.HELD:
        # A hold nobody paid for had no confirmation and no reminders: nothing to tell anyone.
        notify.visit_cancelled(visit=current)
    return current


def visit_refund_by_policy(*, visit):
    """The visit is cancelled or missed: its open payments end, and the policy decides the refund.

    Inside the cancelling transaction, with the visit locked (payments lock the payment after).
    """
    payments.visit_payments_cancel_open(visit_id=visit.pk, note="visit cancelled")
    paid = payments.visit_paid_allocation(visit_id=visit.pk)
    if paid is None:
        return None
    already = refund_automatic_for_visit(visit_id=visit.pk)
    if already is not None:
        return already
    decision = policy.cancellation_refund(visit=visit, paid_cents=paid.amount_cents)
    if decision.refund_cents <= 0:
        return None
    refunded = min(decision.refund_cents, paid.payment.refundable_cents)
    reason = _("Cancellation policy (%(rule)s): %(refund)s refunded, %(kept)s kept.") % {
        "rule": decision.rule,
        "refund": money(refunded),
        "kept": money(paid.amount_cents - refunded),
    }
    return payments.refund_for_visit(
        payment=paid.payment,
        visit_id=visit.pk,
        amount_cents=decision.refund_cents,
        reason_code=RefundReason.CANCELLATION,
        reason=reason,
    )


@transaction.atomic
def visit_reschedule(*, visit, starts_at, by, actor=None, provider=None, now=None):
    """Move a held or confirmed visit to another time (and, for staff, another provider).

    Through the guard, keeping the same provider when they are free. Patients may move their own
    visits up to the cut-off, to times that respect the usual notice; staff may move any visit
    not yet under way, with no notice. Same time and provider: nothing happens.
    """
    now = now or timezone.now()
    current = Visit.objects.select_related("service", "provider", "patient").get(pk=visit.pk)
    is_patient = by == CancelledBy.PATIENT
    if is_patient and actor is not None and actor.pk != current.patient_id:
        raise NotAllowed()
    if current.status not in policy.CHANGEABLE_STATUSES:
        raise TransitionNotAllowed(_("This visit can no longer be moved."))
    if is_patient and not policy.patient_may_change(current, now):
        raise ChangeWindowClosed(policy.cancellation_policy())
    if starts_at == current.starts_at and (provider is None or provider.pk == current.provider_id):
        return current
    if current.status == S.HELD and current.hold_expires_at and current.hold_expires_at <= now:
        raise InvalidState(_("This hold has run out. Please choose a time again."))

    ctx = booking_context(
        patient=current.patient, service=current.service, place=_place_of(current), check_eligibility=is_patient
    )
    ctx.visit_minutes = _minutes(current)
    ctx.clearance = current.clearance or ctx.clearance
    previous_starts_at = current.starts_at
    old_provider = current.provider
    old_day = _provider_day(old_provider, previous_starts_at) if old_provider else None

    def write(slot, candidate, index):
        moved = Visit.objects.select_for_update().get(pk=current.pk)
        if moved.status not in policy.CHANGEABLE_STATUSES:
            raise InvalidState()
        new_provider = Provider.objects.get(pk=candidate.provider_id)
        moved.provider = new_provider
        moved.starts_at, moved.ends_at = slot.starts_at, slot.ends_at
        _route_update(provider=new_provider, day=_provider_day(new_provider, moved.starts_at), pending=moved)
        if old_provider is not None and (
            old_provider.pk != new_provider.pk or old_day != _provider_day(new_provider, moved.starts_at)
        ):
            _route_update(provider=old_provider, day=old_day)
        return moved

    moved = _guard(
        ctx=ctx,
        requests=[(starts_at, provider.pk if provider is not None else current.provider_id)],
        now=now,
        write=write,
        moving=current,
        provider_ids=[provider.pk] if provider is not None else None,
        notice=None if is_patient else timedelta(0),
    )[0]
    if moved.status == S.CONFIRMED and moved.starts_at != previous_starts_at:
        notify.visit_rescheduled(visit=moved, previous_starts_at=previous_starts_at)
    return moved


def visit_reassign(*, visit, provider, actor=None, now=None):
    """Staff: give a visit to another provider at the same time (through the guard)."""
    return visit_reschedule(
        visit=visit,
        starts_at=visit.starts_at,
        by=CancelledBy.STAFF,
        actor=actor,
        provider=provider,
        now=now,
    )


@transaction.atomic
def visit_transition(*, visit, to, actor=None, now=None):
    """Field work: CONFIRMED -> EN_ROUTE -> IN_PROGRESS -> COMPLETED, or NO_SHOW. Safe to repeat.

    Only the moves in ALLOWED_TRANSITIONS; holds are confirmed with visit_confirm and
    visits cancelled with visit_cancel.
    """
    now = now or timezone.now()
    if to not in FIELD_TRANSITIONS:
        raise TransitionNotAllowed()
    current = visit_locked(visit)
    if current.status == to:
        return current
    if current.status not in (S.CONFIRMED, S.EN_ROUTE, S.IN_PROGRESS) or not transition_allowed(current.status, to):
        raise TransitionNotAllowed()
    current.status = to
    current.full_clean()
    current.save()
    if to == S.NO_SHOW:
        visit_refund_by_policy(visit=current)
    if not current.is_blocking and current.provider_id:
        provider = current.provider
        _route_update(provider=provider, day=_provider_day(provider, current.starts_at))
    return current


# --- series -----------------------------------------------------------------------------------


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


# --- holds that ran out -----------------------------------------------------------------------


def visit_holds_expire(*, now=None):
    """Mark holds past their time EXPIRED and free their time. Returns how many it expired.

    Runs every minute (booking.tasks). One short transaction per provider rather than one for
    all, so a provider busy with a booking delays only their own holds. The conditional UPDATE
    (still HELD, still past its time) means two runners, or a runner and a late payment,
    never both act on one hold.
    """
    now = now or timezone.now()
    stale = list(
        Visit.objects.filter(status=S.HELD, hold_expires_at__lte=now)
        .order_by("provider_id", "pk")
        .values_list("provider_id", "pk", "starts_at")[:1000]
    )
    expired = 0
    for provider_id, rows in groupby(stale, key=lambda r: r[0]):
        rows = list(rows)
        try:
            with transaction.atomic():
                _lock(provider_ids=[provider_id])
                count = Visit.objects.filter(
                    pk__in=[pk for _, pk, _ in rows], status=S.HELD, hold_expires_at__lte=now
                ).update(status=S.EXPIRED, updated_at=now)
                if count and provider_id:
                    provider = Provider.objects.get(pk=provider_id)
                    for day in {_provider_day(provider, starts_at) for _, _, starts_at in rows}:
                        _route_update(provider=provider, day=day)
                expired += count
        except TryAgainLater:
            logger.info("booking: holds of provider %s left for the next run (busy)", provider_id)
    return expired


# --- the waitlist -----------------------------------------------------------------------------


@transaction.atomic
def waitlist_join(*, zip_code, email="", phone=""):
    """Someone outside our areas wants to hear when we come. Asking twice keeps one entry."""
    email = (email or "").strip().lower()
    phone = str(phone or "").strip()
    existing = WaitlistEntry.objects.filter(
        zip_code=zip_code, email=email, phone=phone, contacted_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    entry = WaitlistEntry(zip_code=zip_code, email=email, phone=phone)
    entry.full_clean()
    entry.save()
    return entry
