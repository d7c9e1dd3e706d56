"""Who may book what, where: everything a booking depends on, gathered once (`BookingContext`).

`booking_context` answers "may this patient book this service at this address, and for how
long?" or raises the reason they may not (NotEligible, NotCovered). Its `slots()` is the one
search for free times, used by the pages, the guard and staff tools alike.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import formats
from django.utils.translation import gettext_lazy as _

from concierge.errors import NotAllowed
from concierge.models import User
from patients import selectors as patient_selectors
from patients.models import Clearance

from .. import availability, safety, selectors
from ..availability import Slot
from ..errors import NotCovered, NotEligible
from ..models import Service, ServiceKind, Visit
from ..selectors import VisitPlace


@dataclass
class BookingContext:
    patient: User
    service: Service
    place: VisitPlace
    clearance: Clearance | None  # for infusions; None for an evaluation
    visit_minutes: int
    min_gap: timedelta | None
    # The plan's infusions already booked or given (infusions of a plan only): its count and window.
    plan: safety.PlanUsage | None = None

    @property
    def is_infusion(self) -> bool:
        return self.service.kind in (ServiceKind.INFUSION, ServiceKind.BOOSTER)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(availability.zone(self.place.time_zone)).date()

    def slots(
        self,
        *,
        first_day: date,
        last_day: date,
        now: datetime | None = None,
        exclude_visit_id: int | None = None,
        preferred_provider_id: int | None = None,
        provider_ids: Collection[int] | None = None,
        notice: timedelta | None = None,
        fresh: bool = False,
    ) -> list[Slot]:
        """Free start times for this patient, service and place (the one search every page uses).

        Times the plan refuses (its infusions used up, a day outside its window) are not offered;
        its spacing is availability's own rule. `fresh`: read the database, never the schedule
        cache (the guard).
        """
        slots = selectors.availability_for(
            service=self.service,
            place=self.place,
            patient=self.patient,
            first_day=first_day,
            last_day=last_day,
            visit_minutes=self.visit_minutes,
            min_gap=self.min_gap,
            now=now,
            exclude_visit_id=exclude_visit_id,
            preferred_provider_id=preferred_provider_id,
            provider_ids=provider_ids,
            notice=notice,
            fresh=fresh,
        )
        plan = self.plan
        if plan is None:
            return slots
        return [slot for slot in slots if plan.allows_day(self.local_date(slot.starts_at))]

    def day_note(self, day: date) -> str:
        """Why the plan offers nothing on `day`, in the patient's words, or ""."""
        return str(self.plan.day_note(day)) if self.plan is not None else ""


def booking_context(
    *,
    patient: User,
    service: Service,
    place: VisitPlace | None = None,
    check_eligibility: bool = True,
    visit: Visit | None = None,
) -> BookingContext:
    """Everything a booking of `service` for `patient` depends on, or the reason it cannot happen.

    `visit`: a visit being moved or taken again (left out of its plan's count).
    """
    if not service.is_active:
        raise NotCovered(_("This visit is not offered at the moment."))
    is_infusion = service.kind in (ServiceKind.INFUSION, ServiceKind.BOOSTER)
    record = patient_selectors.PatientRecord(patient)  # profile and decisions read once for both checks
    if check_eligibility:
        eligibility = patient_selectors.booking_eligibility_for(patient=patient, record=record)
        allowed = eligibility.can_book_infusion if is_infusion else eligibility.can_book_evaluation
        if not allowed:
            raise NotEligible(eligibility.reason or None)
    place = place or selectors.visit_place_for(patient=patient, profile=record.profile)
    if place is None:
        raise NotCovered(_("Please add your home address (with its ZIP code) to your profile first."))
    if not selectors.area_ids_covering(zip_code=place.zip_code, service=service):
        raise NotCovered()
    clearance: Clearance | None = None
    if is_infusion:
        clearance = record.clearance_active()
        if clearance is None and check_eligibility:
            raise NotEligible(_("Infusions can be booked once a clinician has cleared you."))
    plan = None
    if clearance is not None and service.kind in safety.PLAN_KINDS:
        plan = safety.plan_usage_for(
            patient=patient,
            clearance=clearance,
            time_zone=place.time_zone,
            exclude_visit_id=visit.pk if visit is not None else None,
        )
        if check_eligibility and plan.full:
            raise NotEligible(plan.used_up().patient_words)
    infusion_minutes = clearance.infusion_minutes if clearance is not None else None
    return BookingContext(
        patient=patient,
        service=service,
        place=place,
        clearance=clearance,
        visit_minutes=service.visit_minutes(infusion_minutes),
        min_gap=timedelta(hours=clearance.min_hours_between) if clearance is not None else None,
        plan=plan,
    )


def acting_for_patient(*, actor: User | None, patient_id: int) -> bool:
    """Whether `actor` is staff acting for the patient (a scheduler on the phone with them).

    False when the patient acts themselves (or no one is named: a task, a test); NotAllowed
    for anyone else. Staff acting for a patient go through every check the patient would meet
    online (eligibility, the plan, the notice); only the online cut-off does not apply, since
    calling the clinic is what the policy tells a patient to do inside it.
    """
    if actor is None or actor.pk == patient_id:
        return False
    if actor.is_active and actor.is_staff and actor.has_perm("booking.change_visit"):
        return True
    raise NotAllowed()


def _check_clearance_date(ctx: BookingContext, starts_at: datetime) -> None:
    clearance = ctx.clearance
    if clearance is None or clearance.is_active_on(ctx.local_date(starts_at)):
        return
    if clearance.expires_on is None:  # not a cleared plan at all (never the case here): no date to give
        raise NotEligible()
    raise NotEligible(
        _("Your clearance ends on %(date)s. Please choose an earlier time or speak with your clinician.")
        % {"date": formats.date_format(clearance.expires_on, "DATE_FORMAT")}
    )


def _place_of(visit: Visit) -> VisitPlace:
    return VisitPlace(
        zip_code=visit.zip_code,
        state=visit.state,
        time_zone=visit.time_zone,
        city=visit.city,
        address_line1=visit.address_line1,
        address_line2=visit.address_line2,
    )


def _minutes(visit: Visit) -> int:
    return int((visit.ends_at - visit.starts_at).total_seconds() // 60)


def booking_context_for_visit(*, visit: Visit, patient: User, check_eligibility: bool = True) -> BookingContext:
    """The context for an existing visit (moving it, or taking its time again): the visit's own
    address and length, not the patient's current address and plan."""
    ctx = booking_context(
        patient=patient,
        service=visit.service,
        place=_place_of(visit),
        check_eligibility=check_eligibility,
        visit=visit,
    )
    ctx.visit_minutes = _minutes(visit)
    return ctx
