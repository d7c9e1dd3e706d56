"""The clearance gate (issue 15): a patient is cleared for infusions only after an evaluation.

A clinician records *cleared* only when both hold:

- the patient had a completed evaluation visit: the video evaluation chosen on the decision is
  COMPLETED (visits are booking's, so this check lives here) or has started and the clinician
  confirms on the decision that it took place (the decision then completes it: a video visit
  has no nurse to mark it done), or the clinician documents the day of an in-person evaluation
  on the decision (not in the future);
- the patient sent PHQ-9, GAD-7 and PCL-5 within the last CLEARANCE_QUESTIONNAIRES_WITHIN_DAYS
  (30) days (patients' own part: `patients.selectors.clearance_questionnaires_missing`).

`clearance_missing` lists what is missing (the admin shows the list instead of saving);
`clearance_decide` records the decision through `patients.services.clearance_record` only when
nothing is. Other decisions (declined, more information needed) need neither.
"""

from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import InvalidState
from concierge.models import User
from patients import selectors as patient_selectors
from patients import services as patient_services
from patients.models import Clearance, ClearanceDecision

from .models import Visit, VisitStatus
from .services import visit_locked
from .telehealth import JOINABLE_STATUSES


def clearance_missing(
    *,
    patient: User,
    decision: str,
    evaluation: Visit | None = None,
    in_person_evaluated_on: date | None = None,
    evaluation_took_place: bool = False,
    now: datetime | None = None,
) -> list[str]:
    """What stops this decision being recorded, in words a clinician acts on ([] when nothing)."""
    if decision != ClearanceDecision.CLEARED:
        return []
    now = now or timezone.now()
    missing: list[str] = []
    if in_person_evaluated_on is not None:
        if in_person_evaluated_on > timezone.localdate(now):
            missing.append(str(_("The in-person evaluation date is in the future.")))
    elif evaluation is None:
        missing.append(
            str(
                _(
                    "A completed evaluation: choose the patient's video evaluation, or enter the day you "
                    "evaluated them in person."
                )
            )
        )
    elif evaluation.patient_id != patient.pk or not evaluation.service.is_telehealth:
        missing.append(str(_("That visit is not this patient's evaluation.")))
    elif evaluation.status != VisitStatus.COMPLETED and not _may_complete(evaluation, evaluation_took_place, now):
        missing.append(
            str(
                _(
                    "The video evaluation is not completed (it is %(status)s): once it has started and taken "
                    "place, tick that it took place; or enter the day of an in-person evaluation."
                )
                % {"status": str(evaluation.get_status_display()).lower()}
            )
        )
    questionnaires = patient_selectors.clearance_questionnaires_missing(patient=patient, now=now)
    if questionnaires:
        missing.append(
            str(
                _("Questionnaires not sent in the last %(days)s days: %(names)s.")
                % {"days": settings.CLEARANCE_QUESTIONNAIRES_WITHIN_DAYS, "names": ", ".join(questionnaires)}
            )
        )
    return missing


def _may_complete(evaluation: Visit, took_place: bool, now: datetime) -> bool:
    return took_place and evaluation.status in JOINABLE_STATUSES and evaluation.starts_at <= now


@transaction.atomic
def evaluation_complete(*, visit: Visit, now: datetime | None = None) -> Visit:
    """A video evaluation that has started is done (the clinician says so): COMPLETED. Safe to repeat."""
    now = now or timezone.now()
    current = visit_locked(visit)
    if current.status == VisitStatus.COMPLETED:
        return current
    if not current.service.is_telehealth or not _may_complete(current, True, now):
        raise InvalidState(_("This evaluation cannot be completed now."))
    current.status = VisitStatus.COMPLETED
    current.full_clean()
    current.save(update_fields=["status", "updated_at"])
    return current


@transaction.atomic
def clearance_decide(
    *,
    patient: User,
    clinician: User,
    diagnosis: str,
    decision: str,
    evaluation: Visit | None = None,
    in_person_evaluated_on: date | None = None,
    evaluation_took_place: bool = False,
    **plan: Any,
) -> Clearance:
    """Record a clinician's decision after the gate: *cleared* needs an evaluation and recent questionnaires.

    `plan`: the treatment plan fields of `patients.services.clearance_record` (note, infusions_planned,
    dose_mg_per_kg, infusion_minutes, min_hours_between, series_window_days, expires_on).
    """
    # The decision is recorded under the patient's profile lock, which comes before the evaluation
    # visit's rows in the one lock order (concierge/locking.py): take it first.
    patient_services.profile_lock(patient_id=patient.pk)
    if evaluation is not None:
        # The status as it is now, not as the form saw it.
        evaluation = Visit.objects.select_related("service").get(pk=evaluation.pk)
    missing = clearance_missing(
        patient=patient,
        decision=decision,
        evaluation=evaluation,
        in_person_evaluated_on=in_person_evaluated_on,
        evaluation_took_place=evaluation_took_place,
    )
    if missing:
        raise InvalidState(" ".join(missing))
    if evaluation is not None and evaluation_took_place and in_person_evaluated_on is None:
        evaluation = evaluation_complete(visit=evaluation)
    return patient_services.clearance_record(
        patient=patient,
        clinician=clinician,
        diagnosis=diagnosis,
        decision=decision,
        evaluation=evaluation,
        in_person_evaluated_on=in_person_evaluated_on,
        **plan,
    )
