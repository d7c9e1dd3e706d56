"""Safety holds: a warning sign puts the patient's upcoming infusions ON_HOLD until a clinician
releases them (or staff cancel them, refunded in full).

The clinical record (patients, a layer below) announces a change with
`patients.signals.infusion_safety_changed`; `on_infusion_safety_changed` (connected in
BookingConfig.ready) asks the one question (booking/safety.py) for each upcoming infusion (held,
confirmed, en route) and puts every one it refuses on hold:

- the visit becomes ON_HOLD (a status in ALLOWED_TRANSITIONS; it keeps its nurse's time) and a
  `SafetyHold` row records why (the reasons' codes, words for the clinical team, whether it was
  a danger sign) and the status to restore;
- its reminders are withheld and the patient gets one neutral text and email ("your care team
  will call you", no clinical word), once per hold;
- the nurse's day, the visit page and every chart step refuse to start it (nurses/services).

A visit already on hold gains the new reasons. Nothing here ever lifts a hold by itself: only a
clinician does, in admin, with a note (`safety_hold_release`), once the one question says yes
again; release restores the visit and re-plans its reminders (or, when its time has passed,
cancels it with a full refund). Staff cancelling a held visit refund it in full (booking/policy.py).

Locks: the receiver runs inside the sender's transaction (which may hold the patient's profile
row, as closing an account does) and then takes booking's order: the visits' providers, the
patient, the visits. Every step is audited (SafetyHold and Visit are in concierge/audit.py).
"""

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import InvalidState, NotAllowed
from concierge.models import Role, User
from notifications import services as notify
from patients import selectors as patient_selectors

from .. import availability, safety
from ..models import CancelledBy, HoldOutcome, SafetyHold, Visit, VisitStatus
from .guard import _provider_day, _route_update, upcoming_infusions, visit_locked, visits_lock
from .visits import _hold_end, hold_open_for, visit_cancel

logger = logging.getLogger(__package__)

S = VisitStatus


class HoldNotReleasable(InvalidState):
    default_message = _("This hold cannot be released yet.")
    code = "hold_not_releasable"


@transaction.atomic
def safety_holds_place(*, patient: User, safety_sign: bool = False, now: datetime | None = None) -> list[SafetyHold]:
    """Ask the one question for each upcoming infusion of the patient; hold every one it refuses.

    `safety_sign`: the change was a danger sign (the hold shows 988/911 whatever the reasons say).
    Safe to call twice: a visit already on hold only gains reasons it did not have. Returns the
    holds placed or added to.
    """
    now = now or timezone.now()
    candidates = upcoming_infusions(patient_id=patient.pk, now=now)
    if not candidates:
        return []
    visits_lock(candidates)
    holds, first_new = [], None
    for visit in upcoming_infusions(patient_id=patient.pk, now=now):
        permission = safety.infusion_permission_for(patient=patient, at=visit.starts_at, visit=visit, now=now)
        if permission.allowed:
            continue
        if visit.status == S.ON_HOLD:
            hold = _hold_add_reasons(visit, permission, safety_sign)
        else:
            hold = _hold_place(visit, permission, safety_sign, now)
            first_new = first_new or hold
        if hold is not None:
            holds.append(hold)
    if first_new is not None:
        # One neutral message per hold, about the first visit it concerns (not one per visit).
        notify.visit_care_team_call(visit=first_new.visit, key=f"hold:{first_new.pk}")
    return holds


def _hold_place(visit: Visit, permission: safety.Permission, safety_sign: bool, now: datetime) -> SafetyHold:
    hold = SafetyHold(
        visit=visit,
        previous_status=visit.status,
        reasons=permission.codes,
        staff_words=permission.staff_words,
        safety=safety_sign or permission.safety,
        placed_at=now,
    )
    hold.full_clean(validate_constraints=False)
    hold.save()
    visit.status = S.ON_HOLD
    visit.full_clean()
    visit.save()
    notify.visit_reminders_withhold(visit=visit)
    logger.warning("booking: visit %s on hold (hold %s: %s)", visit.pk, hold.pk, ",".join(hold.reasons))
    return hold


def _hold_add_reasons(visit: Visit, permission: safety.Permission, safety_sign: bool) -> SafetyHold | None:
    hold = hold_open_for(visit)
    if hold is None:  # a visit on hold always has its open hold; nothing to add to otherwise
        return None
    new = [code for code in permission.codes if code not in hold.reasons]
    now_safety = hold.safety or safety_sign or permission.safety
    if not new and now_safety == hold.safety:
        return hold
    hold.reasons = [*hold.reasons, *new]
    hold.staff_words = permission.staff_words
    hold.safety = now_safety
    hold.full_clean(validate_constraints=False)
    hold.save()
    return hold


def on_infusion_safety_changed(sender: object, *, patient: User, safety: bool = False, **kwargs: object) -> None:
    """patients.signals.infusion_safety_changed: hold what the answer now refuses (inside the sender's transaction)."""
    safety_holds_place(patient=patient, safety_sign=safety)


def _require_clinician(user: User | None) -> User:
    if user is None or not user.has_role(Role.CLINICIAN):
        raise NotAllowed(_("Only a clinician can release a hold."))
    return user


@transaction.atomic
def safety_hold_release(*, visit: Visit, clinician: User | None, note: str, now: datetime | None = None) -> Visit:
    """A clinician releases a visit's hold, with a note, once the one question says yes again.

    The visit goes back to what it was (a confirmed or en-route visit: confirmed, its reminders
    planned again; a hold not paid yet: held while its time lasts, else expired). A visit whose
    time has passed cannot happen any more: it is cancelled by the clinic, refunded in full.
    """
    now = now or timezone.now()
    clinician = _require_clinician(clinician)
    if not (note or "").strip():
        raise ValidationError({"note": _("Say what was done, for the patient's record.")})
    current = visit_locked(visit, related=("service", "patient", "provider"))
    hold = hold_open_for(current)
    if current.status != S.ON_HOLD or hold is None:
        raise HoldNotReleasable(_("This visit is not on hold."))
    if current.starts_at <= now:
        visit_cancel(
            visit=current,
            by=CancelledBy.CLINIC,
            reason=str(_("Released after its time: %(note)s") % {"note": note.strip()}),
            actor=clinician,
            now=now,
        )
        return Visit.objects.get(pk=current.pk)
    permission = safety.infusion_permission_for(patient=current.patient, at=current.starts_at, visit=current, now=now)
    if not permission.allowed:
        raise HoldNotReleasable(
            _("The patient still may not have this infusion: %(why)s Resolve that first (or cancel the visit).")
            % {"why": permission.staff_words}
        )
    _hold_end(hold, HoldOutcome.RELEASED, clinician, note, now)
    # The plan the one question just allowed it under (a clinician may have cleared the patient again).
    day = current.starts_at.astimezone(availability.zone(current.time_zone)).date()
    current.clearance = (
        patient_selectors.clearance_active_for(patient=current.patient, on_date=day) or current.clearance
    )
    if hold.previous_status == S.HELD:
        current.status = S.HELD if current.hold_expires_at and current.hold_expires_at > now else S.EXPIRED
    else:
        current.status = S.CONFIRMED
    current.full_clean()
    current.save()
    if current.status == S.EXPIRED and current.provider is not None:
        _route_update(provider=current.provider, day=_provider_day(current.provider, current.starts_at))
    if current.status == S.CONFIRMED:
        notify.visit_reminders_replan(visit=current)
    logger.info("booking: hold %s of visit %s released", hold.pk, current.pk)
    return current
