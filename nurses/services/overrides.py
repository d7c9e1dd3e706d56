"""A clinician's override of a protocol stop (nurses/protocol.py), recorded by the nurse from the
clinician's call: which clinician, when, why. Today one stop can be overridden: a baseline blood
pressure at or above the hard stop, which otherwise blocks the start of the infusion."""

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Visit
from concierge.errors import ApplicationError
from concierge.models import Role, User
from nurses.models import ChartEventKind, OverrideKind, ProtocolOverride

from .chart import already_recorded, chart_lock, chart_open, event_log, require_nurse, visit_fresh

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@transaction.atomic
def protocol_override_record(
    *,
    visit: Visit,
    nurse: User,
    clinician: User | None,
    reason: str,
    kind: str = OverrideKind.BASELINE_PRESSURE,
    form_token: str = "",
    now: datetime | None = None,
) -> ProtocolOverride:
    """The clinician's decision to go on despite a protocol stop, with who and why (twice: once)."""
    now = now or timezone.now()
    visit = visit_fresh(visit)
    require_nurse(visit, nurse)
    chart = chart_lock(visit)
    done = already_recorded(ProtocolOverride, chart, form_token) if chart else None
    if done is not None:
        return done
    chart = chart_open(visit)
    problems: dict[str, StrOrPromise] = {}
    if clinician is None or not clinician.is_active or not clinician.has_role(Role.CLINICIAN):
        problems["clinician"] = _("Choose the clinician who decided.")
    if not (reason or "").strip():
        problems["reason"] = _("Say why the clinician decided to go on.")
    if problems or clinician is None:
        raise ApplicationError(_("Check the fields marked."), extra={"fields": problems})
    override = ProtocolOverride(
        chart=chart,
        kind=kind,
        clinician=clinician,
        reason=reason.strip(),
        recorded_by=nurse,
        recorded_at=now,
        form_token=form_token,
    )
    override.full_clean(exclude=["chart", "recorded_by", "clinician"], validate_constraints=False)
    override.save()
    event_log(
        chart,
        ChartEventKind.OVERRIDE,
        nurse,
        f"{override.get_kind_display()}: {clinician.get_full_name() or clinician.email} ({override.reason})",
        now,
    )
    return override
