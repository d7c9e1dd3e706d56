"""The waitlist for freed times: patients who found no time that suits them, and the offers they get.

ONE MECHANISM FINDS FREED TIME. `waitlist_offers_make` (the sweep) compares every waiting patient's
wishes with booking's one availability search, the same search the booking pages and the guard
use. So it cannot miss a way time frees up: a cancellation, a reschedule, a hold that ran out, an
offer that lapsed, a new shift or date override, time off removed, a new nurse or a wider area all
show up in that search, with no call to add in each path. It runs every minute (Celery beat) and,
so that a freed time is offered at once, right after any transaction in which a provider's day
was routed again after a visit left or moved (`guard._route_update`, which every freeing path
in booking passes).

THE OFFERS. Waiting patients are taken in the order they joined; each is offered the earliest
free time that fits their days of the week, parts of the day and dates and that they were not
offered before. The offer HOLDS the time for them (a HELD visit, origin waitlist, through the
guard: nobody is ever offered a time that is already gone) for WAITLIST_OFFER_MINUTES, and they
get a text and an email with the link. Because the time is held, the next patient in line cannot
be offered it until the offer lapses or is declined; then the sweep passes it on. Accepting goes
through the guard again when the hold has run out, so of several late acceptances the first wins.

Who is skipped: patients who may not book the visit now (not cleared, a safety hold, consent: the
same `booking_context` question as online), and patients whose local time is inside the quiet
hours of texts (notifications' rules): the time is offered to them, in their turn, once morning
comes. A patient who lets WAITLIST_MAX_LAPSED_OFFERS offers lapse leaves the waitlist.
"""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import ApplicationError, InvalidState, NotAllowed, TryAgainLater
from concierge.models import User
from concierge.tasks import enqueue_on_commit
from notifications import rules
from notifications import services as notify
from notifications.models import Channel

from .. import availability
from ..availability import Slot
from ..errors import NotEligible, SlotTaken
from ..models import (
    BookingOrigin,
    CancelledBy,
    Service,
    TimeOffer,
    TimeOfferStatus,
    TimeWaitlistEntry,
    TimeWaitlistStatus,
    Visit,
    VisitStatus,
)
from .context import BookingContext, booking_context
from .guard import visit_locked
from .visits import visit_cancel, visit_hold, visit_hold_renew

logger = logging.getLogger(__package__)

W = TimeWaitlistStatus
O = TimeOfferStatus  # noqa: E741 (the offer's statuses, as S is the visit's)

OFFER_TEMPLATE = "waitlist_offer"
_SWEEP_LOCK = (7019, 1)  # PostgreSQL advisory lock: one sweep at a time, whichever process runs it


class WaitlistInvalid(ApplicationError):
    default_message = _("Please check the days and times you chose.")
    code = "waitlist_invalid"


def waitlist_sweep_soon() -> None:
    """Look for waiting patients to offer freed time to, right after this transaction commits."""
    enqueue_on_commit("booking.tasks.waitlist_offers_make", once=True)


# --- joining and leaving ---------------------------------------------------------------------------


@transaction.atomic
def time_waitlist_join(
    *,
    patient: User,
    service: Service,
    weekdays: Sequence[int],
    parts_of_day: Sequence[str],
    first_day: date,
    last_day: date,
    now: datetime | None = None,
) -> TimeWaitlistEntry:
    """Join (or change one's wishes on) the waitlist for freed times of this visit.

    Only a patient who may book it now (the same question as online; NotEligible, NotCovered
    otherwise). Joining again changes the wishes and keeps one's place in line.
    """
    now = now or timezone.now()
    ctx = booking_context(patient=patient, service=service)
    today = now.astimezone(availability.zone(ctx.place.time_zone)).date()
    horizon = today + timedelta(days=settings.BOOKING_HORIZON_DAYS)
    if first_day < today:
        raise WaitlistInvalid(_("Choose dates from today on."))
    if last_day > horizon:
        raise WaitlistInvalid(
            _("Choose dates within the next %(days)s days.") % {"days": settings.BOOKING_HORIZON_DAYS}
        )
    entry = TimeWaitlistEntry.objects.filter(patient=patient, service=service, status=W.WAITING).first()
    entry = entry or TimeWaitlistEntry(patient=patient, service=service)
    entry.weekdays = "".join(str(d) for d in sorted(set(weekdays)))
    entry.parts_of_day = ",".join(sorted(set(parts_of_day)))
    entry.first_day, entry.last_day = first_day, last_day
    entry.full_clean(validate_constraints=False)
    entry.save()
    waitlist_sweep_soon()  # a time that fits may be free right now
    return entry


@transaction.atomic
def time_waitlist_leave(*, entry: TimeWaitlistEntry, patient: User, now: datetime | None = None) -> TimeWaitlistEntry:
    """The patient leaves the waitlist; a time held for them by an open offer is released. Twice: once."""
    now = now or timezone.now()
    if entry.patient_id != patient.pk:
        raise NotAllowed()
    entry = TimeWaitlistEntry.objects.get(pk=entry.pk)
    if entry.status != W.WAITING:
        return entry
    for offer in entry.offers.filter(status=O.OPEN).select_related("visit"):
        _offer_close(offer, O.WITHDRAWN, now=now, release_as=patient)
    entry.status, entry.ended_at = W.LEFT, now
    entry.save(update_fields=["status", "ended_at"])
    return entry


def time_waitlist_for(*, patient: User, service: Service) -> TimeWaitlistEntry | None:
    """The patient's waiting place for this visit, or None."""
    return TimeWaitlistEntry.objects.filter(patient=patient, service=service, status=W.WAITING).first()


# --- answering an offer --------------------------------------------------------------------------


def _offer_locked(offer: TimeOffer) -> tuple[TimeOffer, Visit]:
    """The offer and its visit, fresh; the visit locked in the one lock order (the offer after it)."""
    visit = visit_locked(Visit.objects.get(pk=offer.visit_id))
    return TimeOffer.objects.select_for_update().select_related("entry").get(pk=offer.pk), visit


@transaction.atomic
def waitlist_offer_accept(*, offer: TimeOffer, patient: User, now: datetime | None = None) -> Visit:
    """The patient takes the offered time: it is held for them to pay (BOOKING_HOLD_MINUTES).

    An offer that lapsed may still be taken when the time is free: through the guard, so when
    two people accept the same time at once, the first wins and the other gets SlotTaken. Twice:
    the same visit. A declined or withdrawn offer raises InvalidState.
    """
    now = now or timezone.now()
    offer, visit = _offer_locked(offer)
    if offer.entry.patient_id != patient.pk:
        raise NotAllowed()
    if offer.status == O.ACCEPTED:
        return visit
    if offer.status in (O.DECLINED, O.WITHDRAWN):
        raise InvalidState(_("This offer is closed. You can still book any free time online."))
    visit = visit_hold_renew(visit=visit, now=now)  # SlotTaken when a lapsed offer's time is gone
    offer.status, offer.answered_at = O.ACCEPTED, now
    offer.save(update_fields=["status", "answered_at"])
    entry = offer.entry
    if entry.status == W.WAITING:
        entry.status, entry.ended_at = W.BOOKED, now
        entry.save(update_fields=["status", "ended_at"])
    return visit


@transaction.atomic
def waitlist_offer_decline(*, offer: TimeOffer, patient: User, now: datetime | None = None) -> TimeOffer:
    """Not this time: the hold is released (and offered to the next); the patient stays on the list."""
    now = now or timezone.now()
    offer, _visit = _offer_locked(offer)
    if offer.entry.patient_id != patient.pk:
        raise NotAllowed()
    if offer.status == O.OPEN:
        _offer_close(offer, O.DECLINED, now=now, release_as=patient)
    return offer


def _offer_close(offer: TimeOffer, status: str, *, now: datetime, release_as: User | None = None) -> None:
    """Close an open offer; with `release_as`, its hold is cancelled so the time is free at once."""
    offer.status, offer.answered_at = status, now
    offer.save(update_fields=["status", "answered_at"])
    if release_as is not None and offer.visit.status == VisitStatus.HELD:
        visit_cancel(visit=offer.visit, by=CancelledBy.PATIENT, reason="waitlist offer not taken", actor=release_as)


# --- the sweep -------------------------------------------------------------------------------------


@contextmanager
def _one_sweep_at_a_time() -> Iterator[bool]:
    """True when this process may sweep (PostgreSQL: a session advisory lock; SQLite: one process)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", list(_SWEEP_LOCK))
        got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", list(_SWEEP_LOCK))


def waitlist_offers_make(*, now: datetime | None = None) -> int:
    """Close what ran out, then offer freed times to waiting patients in the order they joined.

    Returns how many offers it made. Safe to run twice at once (one sweep at a time; an entry
    has at most one open offer, a constraint the database keeps).
    """
    now = now or timezone.now()
    with _one_sweep_at_a_time() as mine:
        if not mine:
            return 0
        _offers_lapse(now)
        _entries_end(now)
        made = 0
        waiting = TimeWaitlistEntry.objects.filter(status=W.WAITING).exclude(offers__status=O.OPEN)
        for entry in waiting.select_related("patient", "service").order_by("created_at", "pk"):
            try:
                made += _offer_to(entry, now) is not None
            except TryAgainLater:
                logger.info("booking: waitlist place %s skipped this run (busy)", entry.pk)
        return made


def _offers_lapse(now: datetime) -> None:
    """Open offers past their time lapse (their hold runs out with them); too many ends the place."""
    for offer in TimeOffer.objects.filter(status=O.OPEN, expires_at__lte=now).select_related("entry", "visit"):
        with transaction.atomic():
            if not TimeOffer.objects.filter(pk=offer.pk, status=O.OPEN).update(status=O.LAPSED, answered_at=now):
                continue  # answered meanwhile
            entry = TimeWaitlistEntry.objects.select_for_update().get(pk=offer.entry_id)
            entry.lapsed_offers += 1
            if entry.status == W.WAITING and entry.lapsed_offers >= settings.WAITLIST_MAX_LAPSED_OFFERS:
                entry.status, entry.ended_at = W.ENDED, now
            entry.save(update_fields=["lapsed_offers", "status", "ended_at"])
    # An open offer whose hold is gone some other way (staff cancelled it) is withdrawn.
    TimeOffer.objects.filter(status=O.OPEN).exclude(visit__status=VisitStatus.HELD).update(
        status=O.WITHDRAWN, answered_at=now
    )


def _entries_end(now: datetime) -> None:
    """Places whose last day has passed end (a day's margin covers every zone)."""
    TimeWaitlistEntry.objects.filter(status=W.WAITING, last_day__lt=(now - timedelta(days=1)).date()).update(
        status=W.ENDED, ended_at=now
    )


def _offer_to(entry: TimeWaitlistEntry, now: datetime) -> TimeOffer | None:
    """Offer this patient the earliest free time that fits them and was not offered to them yet."""
    try:
        ctx = booking_context(patient=entry.patient, service=entry.service)
    except ApplicationError:
        return None  # may not book it now (clearance, a safety hold, consent...): no offers
    if not rules.sms_allowed(now, ctx.place.time_zone):
        return None  # quiet hours where they live: offered in their turn once morning comes
    slot = _first_fit(entry, ctx, now)
    if slot is None:
        return None
    try:
        with transaction.atomic():
            visit = visit_hold(
                patient=entry.patient,
                service=entry.service,
                starts_at=slot.starts_at,
                now=now,
                origin=BookingOrigin.WAITLIST,
            )
            offer = TimeOffer(
                entry=entry, visit=visit, starts_at=visit.starts_at, expires_at=visit.hold_expires_at or now
            )
            offer.full_clean(validate_constraints=False)
            offer.save()
            _offer_send(offer)
    except (SlotTaken, NotEligible, IntegrityError):
        # Taken meanwhile, past the clearance's end, or another sweep offered this place something.
        return None
    return offer


def _first_fit(entry: TimeWaitlistEntry, ctx: BookingContext, now: datetime) -> Slot | None:
    tz = availability.zone(ctx.place.time_zone)
    first = max(entry.first_day, now.astimezone(tz).date())
    last = entry.last_day
    if ctx.clearance is not None and ctx.clearance.expires_on is not None:
        last = min(last, ctx.clearance.expires_on)
    if last < first:
        return None
    offered = set(entry.offers.values_list("starts_at", flat=True))
    for slot in ctx.slots(first_day=first, last_day=last, now=now):
        if slot.starts_at not in offered and entry.fits(slot.starts_at.astimezone(tz)):
            return slot
    return None


def _offer_send(offer: TimeOffer) -> None:
    """The offer by text and email, with the link (the patient's own login opens it)."""
    context = {"offer_url": settings.SITE_URL + reverse("booking:offer", args=[offer.pk])}
    for channel in (Channel.SMS, Channel.EMAIL):
        notify.message_enqueue(
            channel=channel,
            to_user=offer.entry.patient,
            template=OFFER_TEMPLATE,
            context_ids={"visit": offer.visit_id},
            context=context,
            unique_key=f"waitlist-offer:{offer.pk}:{channel}",
        )
