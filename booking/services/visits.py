"""A visit's life cycle: hold, confirm, cancel (with the refund policy), reschedule, reassign, field work.

Moves into a blocking status go through the guard (guard.py); everything else takes the visit's
lock (`visit_locked`) and moves along ALLOWED_TRANSITIONS only.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import ApplicationError, InvalidState
from concierge.models import User
from notifications import services as notify
from patients import services as patient_services
from patients.danger_words import danger_words_in
from payments import services as payments
from payments.display import money
from payments.models import Refund, RefundReason
from payments.selectors import refund_automatic_for_visit
from roster.models import Provider

from .. import policy, safety, telehealth
from ..availability import Candidate, Slot
from ..errors import ChangeWindowClosed, NotEligible, TransitionNotAllowed
from ..models import (
    BookingOrigin,
    CancelledBy,
    HoldOutcome,
    SafetyHold,
    Service,
    Visit,
    VisitStatus,
)
from .context import acting_for_patient, booking_context, booking_context_for_visit
from .guard import (
    _guard,
    _own_open_holds,
    _place_new,
    _provider_day,
    _route_update,
    upcoming_infusions,
    visit_locked,
    visits_lock,
)

S = VisitStatus


# The life cycle. Moves INTO a blocking status from a non-blocking one (EXPIRED -> CONFIRMED)
# happen only through the guard (visit_confirm); cancellations only through
# visit_cancel; expiry only through visit_holds_expire. ON_HOLD (a warning sign,
# booking/safety.py) is entered only through safety_holds_place and left only through
# safety_hold_release (back to what the visit was) or visit_cancel.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.HELD: {S.CONFIRMED, S.CANCELLED, S.EXPIRED, S.ON_HOLD},
    S.EXPIRED: {S.CONFIRMED},
    S.CONFIRMED: {S.EN_ROUTE, S.CANCELLED, S.NO_SHOW, S.ON_HOLD},
    S.EN_ROUTE: {S.CONFIRMED, S.IN_PROGRESS, S.CANCELLED, S.NO_SHOW, S.ON_HOLD},
    S.ON_HOLD: {S.CONFIRMED, S.HELD, S.EXPIRED, S.CANCELLED},
    S.IN_PROGRESS: {S.COMPLETED},
    S.COMPLETED: set(),
    S.CANCELLED: set(),
    S.NO_SHOW: set(),
}


# What field work may do with visit_transition (the nurse's day, issue 7).
FIELD_TRANSITIONS: set[str] = {S.EN_ROUTE, S.IN_PROGRESS, S.COMPLETED, S.NO_SHOW, S.CONFIRMED}


def transition_allowed(from_status: str, to_status: str) -> bool:
    return to_status in ALLOWED_TRANSITIONS.get(from_status, set())


def visit_hold(
    *,
    patient: User,
    service: Service,
    starts_at: datetime,
    now: datetime | None = None,
    provider: Provider | None = None,
    booked_by: User | None = None,
    origin: str | None = None,
) -> Visit:
    """Hold a time for the patient, with the provider the dispatch rule picks.

    The visit is HELD with its price and the amount due now (the deposit, else the full price)
    until `visit_confirm`; the hold lasts BOOKING_HOLD_MINUTES, or BOOKING_PHONE_HOLD_MINUTES
    when a scheduler books it for the patient on the phone (`booked_by`; the same checks as
    online). Raises NotEligible, NotCovered, SlotTaken, TryAgainLater, or NotAllowed for a
    `booked_by` who may not book for patients. `provider` (staff booking) restricts the choice
    to one provider; `origin` is for the waitlist's offers (services/waitlist.py). The patient's
    own open hold at that time, booked online (the same form sent twice), is returned, not refused.
    """
    now = now or timezone.now()
    by_phone = acting_for_patient(actor=booked_by, patient_id=patient.pk)
    origin = origin or (BookingOrigin.PHONE if by_phone else BookingOrigin.ONLINE)
    try:
        with transaction.atomic():
            ctx = booking_context(patient=patient, service=service)
            placed = _guard(
                ctx=ctx,
                requests=[(starts_at, None)],
                now=now,
                provider_ids=[provider.pk] if provider is not None else None,
                write=lambda slot, candidate, index: _place_new(
                    ctx, slot, candidate, now=now, origin=origin, booked_by=booked_by if by_phone else None
                ),
            )
    except ApplicationError:
        # Refused because of this very booking sent twice (a double click, a second tab): the time
        # reads as taken, or too close to an infusion. That hold is the answer to both.
        own = _own_open_holds(patient=patient, service_id=service.pk, starts=[starts_at], origin=origin, now=now)
        if not own:
            raise
        return own[0]
    return placed[0]


@transaction.atomic
def visit_confirm(*, visit: Visit, now: datetime | None = None) -> Visit:
    """HELD -> CONFIRMED (payment succeeded). Safe to call twice: a confirmed visit is returned as is.

    A hold that has run out (expired, or past its time) is re-acquired through the guard only
    if its time is still free, with the same provider when possible; otherwise SlotTaken, so
    the payment can be refunded. A cancelled visit raises InvalidState; a visit on hold, or an
    infusion the one question refuses (booking/safety.py), NotEligible (the payment is refunded).
    """
    now = now or timezone.now()
    current = Visit.objects.get(pk=visit.pk)
    if current.status in (S.CONFIRMED, S.EN_ROUTE, S.IN_PROGRESS, S.COMPLETED, S.NO_SHOW):
        return current
    _check_confirmable(current)

    if current.status == S.HELD and current.hold_expires_at and current.hold_expires_at > now:
        current = visit_locked(current)
        if current.status in (S.CONFIRMED, S.EN_ROUTE, S.IN_PROGRESS, S.COMPLETED, S.NO_SHOW):
            return current  # confirmed by someone else while we waited for the lock
        _check_confirmable(current)
        if current.status == S.HELD and current.hold_expires_at and current.hold_expires_at > now:
            permission = safety.infusion_permission_for(
                patient=current.patient, at=current.starts_at, visit=current, now=now
            )
            if not permission.allowed:
                raise NotEligible(permission.patient_words, extra={"reasons": permission.codes})
            return _confirmed(current, now)

    # The hold ran out: the time must be free again, through the same guard as a booking.
    return _confirmed(_take_again(current, now), now)


def _take_again(current: Visit, now: datetime) -> Visit:
    """A hold that ran out takes its time again through the guard (HELD), or SlotTaken.

    With the same provider (already locked by a payment confirming it: locking other providers
    now would take locks out of the fixed order); a visit with none can go nowhere.
    """
    ctx = booking_context_for_visit(visit=current, patient=current.patient)

    def write(slot: Slot, candidate: Candidate, index: int) -> Visit:
        moved = Visit.objects.select_for_update().get(pk=current.pk)
        if moved.status not in (S.HELD, S.EXPIRED):
            raise InvalidState()
        moved.provider_id = candidate.provider_id
        moved.status = S.HELD  # blocking again
        provider = Provider.objects.get(pk=candidate.provider_id)
        old_provider = current.provider
        _route_update(provider=provider, day=_provider_day(provider, moved.starts_at), pending=moved)
        if old_provider is not None and old_provider.pk != provider.pk:
            _route_update(provider=old_provider, day=_provider_day(old_provider, current.starts_at))
        return moved

    return _guard(
        ctx=ctx,
        requests=[(current.starts_at, current.provider_id)],
        now=now,
        write=write,
        moving=current,
        provider_ids=[current.provider_id] if current.provider_id is not None else [],
    )[0]


@transaction.atomic
def visit_hold_renew(*, visit: Visit, now: datetime | None = None) -> Visit:
    """Give a hold BOOKING_HOLD_MINUTES from now to be paid (a waitlist offer just accepted).

    A hold still running is simply extended; one that ran out takes its time again through the
    guard when it is still free (the first to ask gets it), else SlotTaken. A visit no longer
    held or expired raises InvalidState.
    """
    now = now or timezone.now()
    current = visit_locked(visit)
    if current.status not in (S.HELD, S.EXPIRED):
        raise InvalidState(_("This time is no longer held for you."))
    if current.status == S.EXPIRED or current.hold_expires_at is None or current.hold_expires_at <= now:
        current = _take_again(current, now)
    current.hold_expires_at = max(current.hold_expires_at or now, now + policy.hold_duration())
    current.full_clean()
    current.save()
    return current


def _check_confirmable(visit: Visit) -> None:
    if visit.status == S.CANCELLED:
        raise InvalidState(_("This visit was cancelled, so it cannot be confirmed."))
    if visit.status == S.ON_HOLD:
        raise NotEligible(
            _("A clinician needs to speak with you before this visit can go ahead. We will call you."),
            extra={"reasons": ["on_hold"]},
        )


def _confirmed(visit: Visit, now: datetime) -> Visit:
    visit.status = S.CONFIRMED
    visit.confirmed_at = now
    telehealth.video_link_assign(visit=visit)  # a video evaluation gets its room (issue 10)
    visit.full_clean()
    visit.save()
    notify.visit_confirmed(visit=visit)
    return visit


@transaction.atomic
def visit_cancel(
    *, visit: Visit, by: str, reason: str = "", actor: User | None = None, now: datetime | None = None
) -> Visit:
    """Cancel a visit; its time is free at once. Safe to call twice.

    Patients (`by=CancelledBy.PATIENT`) may cancel their own visits up to the cut-off; inside it
    ChangeWindowClosed tells them to call. When they call, staff cancel for them (`by=PATIENT`,
    `actor` the scheduler): the patient's policy applies, late fee included, at any time before
    the visit. Staff (`by=STAFF`) may cancel any visit not yet in progress, refunded in full.
    """
    now = now or timezone.now()
    danger = danger_words_in(reason) if by == CancelledBy.PATIENT else []
    if danger:
        safety_alert_rows_lock(visit=visit, now=now)
    current = visit_locked(visit)
    if current.status == S.CANCELLED:
        return current
    if not transition_allowed(current.status, S.CANCELLED):
        raise TransitionNotAllowed(_("This visit can no longer be cancelled."))
    if by == CancelledBy.PATIENT:
        by_phone = acting_for_patient(actor=actor, patient_id=current.patient_id)
        if current.status != S.HELD and not by_phone and not policy.patient_may_change(current, now):
            raise ChangeWindowClosed(policy.cancellation_policy())
    was = current.status
    hold = _hold_end(hold_open_for(current), HoldOutcome.CANCELLED, actor, reason, now) if was == S.ON_HOLD else None
    current.status = S.CANCELLED
    current.cancelled_at = now
    current.cancelled_by = by
    current.cancelled_by_user = actor
    current.cancellation_reason = reason or ""
    current.full_clean()
    current.save()
    provider = current.provider
    if provider is not None:
        _route_update(provider=provider, day=_provider_day(provider, current.starts_at))
    visit_refund_by_policy(visit=current, on_hold=was == S.ON_HOLD)
    if (hold.previous_status if hold is not None else was) != S.HELD:
        # A hold nobody paid for had no confirmation and no reminders: nothing to tell anyone.
        notify.visit_cancelled(visit=current)
    if danger:
        _cancellation_reason_read(current, danger)
    return current


def safety_alert_rows_lock(*, visit: Visit, now: datetime | None = None) -> None:
    """For a use case on one visit that will then raise a safety alert (a cancellation in words
    that suggest danger, a serious adverse event charted with the dose): the alert locks the
    patient's profile, and its holds lock the patient's other visits (their nurses, the patient,
    the visits), after this visit's rows (and a refund's payment). So take them all first, in the
    one lock order (concierge/locking.py): the profile, then every upcoming visit's rows with
    this one's."""
    now = now or timezone.now()
    patient_services.profile_lock(patient_id=visit.patient_id)
    visits_lock([visit, *upcoming_infusions(patient_id=visit.patient_id, now=now)])


def _cancellation_reason_read(visit: Visit, words: list[str]) -> None:
    """The reason a patient gives for cancelling is their own words to us, read like a portal
    message (patients/danger_words.py; visit_cancel reads them before taking its locks): words
    that suggest danger raise a safety alert, in the cancellation's transaction (both or
    neither), which holds their other infusions and pages the clinician on call. The page they
    see next shows 988 and 911 (views: cancel_support)."""
    patient_services.safety_alert_raise(
        cancelled_visit=visit, patient=visit.patient, matched_words=words, source_text=visit.cancellation_reason
    )


def hold_open_for(visit: Visit) -> SafetyHold | None:
    """The visit's open safety hold (safety_holds.py), or None."""
    return SafetyHold.objects.filter(visit=visit, outcome=HoldOutcome.OPEN).first()


def _hold_end(hold: SafetyHold | None, outcome: str, actor: User | None, note: str, now: datetime) -> SafetyHold | None:
    """End a hold (released, or its visit cancelled), with who, when and why."""
    if hold is None:
        return None
    hold.outcome, hold.ended_at, hold.ended_by = outcome, now, actor
    hold.note = (note or "").strip() or str(_("Visit cancelled."))
    hold.full_clean(validate_constraints=False)
    hold.save()
    return hold


def visit_refund_by_policy(*, visit: Visit, on_hold: bool = False) -> Refund | None:
    """The visit is cancelled or missed: its open payments end, and the policy decides the refund.

    Inside the cancelling transaction, with the visit locked (payments lock the payment after).
    `on_hold`: the visit was on hold (a warning sign) when it was cancelled: refunded in full.
    """
    payments.visit_payments_cancel_open(visit_id=visit.pk, note="visit cancelled")
    paid = payments.visit_paid_allocation(visit_id=visit.pk)
    if paid is None:
        return None
    already = refund_automatic_for_visit(visit_id=visit.pk)
    if already is not None:
        return already
    decision = policy.cancellation_refund(visit=visit, paid_cents=paid.amount_cents, on_hold=on_hold)
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
def visit_reschedule(
    *,
    visit: Visit,
    starts_at: datetime,
    by: str,
    actor: User | None = None,
    provider: Provider | None = None,
    now: datetime | None = None,
) -> Visit:
    """Move a held or confirmed visit to another time (and, for staff, another provider).

    Through the guard, keeping the same provider when they are free. Patients may move their own
    visits up to the cut-off, to times that respect the usual notice; staff may move any visit
    not yet under way, with no notice. Same time and provider: nothing happens.
    """
    now = now or timezone.now()
    current = Visit.objects.select_related("service", "provider", "patient").get(pk=visit.pk)
    is_patient = by == CancelledBy.PATIENT
    _check_may_move(current, is_patient=is_patient, actor=actor, now=now)
    if starts_at == current.starts_at and (provider is None or provider.pk == current.provider_id):
        return current
    if current.status == S.HELD and current.hold_expires_at and current.hold_expires_at <= now:
        raise InvalidState(_("This hold has run out. Please choose a time again."))

    ctx = booking_context_for_visit(visit=current, patient=current.patient, check_eligibility=is_patient)
    ctx.clearance = current.clearance or ctx.clearance
    previous_starts_at = current.starts_at
    # The day the visit leaves is routed again when it changes provider or day.
    old_route = (current.provider, _provider_day(current.provider, previous_starts_at)) if current.provider else None

    def write(slot: Slot, candidate: Candidate, index: int) -> Visit:
        moved = Visit.objects.select_for_update().get(pk=current.pk)
        if moved.status not in policy.CHANGEABLE_STATUSES:
            raise InvalidState()
        new_provider = Provider.objects.get(pk=candidate.provider_id)
        moved.provider = new_provider
        moved.starts_at, moved.ends_at = slot.starts_at, slot.ends_at
        new_day = _provider_day(new_provider, moved.starts_at)
        _route_update(provider=new_provider, day=new_day, pending=moved)
        if old_route is not None and old_route != (new_provider, new_day):
            _route_update(provider=old_route[0], day=old_route[1])
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


def _check_may_move(current: Visit, *, is_patient: bool, actor: User | None, now: datetime) -> None:
    """Patients move their own visits, up to the cut-off (staff on the phone for them, at any
    time before it starts); anyone, only a visit not yet under way."""
    by_phone = is_patient and acting_for_patient(actor=actor, patient_id=current.patient_id)
    if current.status not in policy.CHANGEABLE_STATUSES:
        raise TransitionNotAllowed(_("This visit can no longer be moved."))
    if is_patient and not by_phone and not policy.patient_may_change(current, now):
        raise ChangeWindowClosed(policy.cancellation_policy())


def visit_reassign(
    *, visit: Visit, provider: Provider, actor: User | None = None, now: datetime | None = None
) -> Visit:
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
def visit_transition(*, visit: Visit, to: str, actor: User | None = None, now: datetime | None = None) -> Visit:
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
    if not current.is_blocking and current.provider is not None:
        _route_update(provider=current.provider, day=_provider_day(current.provider, current.starts_at))
    return current
