"""Amendments: a correction or addition to a locked chart, with its reason; the original rows stay
as they were."""

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import Visit
from concierge.errors import ApplicationError
from concierge.models import User
from nurses.models import ChartAmendment, ChartEventKind

from .chart import already_recorded, chart_lock, event_log, require_nurse, visit_fresh
from .errors import WrongStep

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@transaction.atomic
def chart_amend(
    *,
    visit: Visit,
    nurse: User,
    section: str,
    text: str,
    reason: str,
    form_token: str = "",
    now: datetime | None = None,
) -> ChartAmendment:
    """A correction or addition to a locked chart; the original rows stay as they were."""
    now = now or timezone.now()
    visit = visit_fresh(visit)
    require_nurse(visit, nurse)
    chart = chart_lock(visit)
    if chart is None or not chart.is_locked:
        raise WrongStep(_("The chart is still open: change it in its own step."))
    done = already_recorded(ChartAmendment, chart, form_token)
    if done is not None:
        return done
    missing: dict[str, StrOrPromise] = {}
    if not (text or "").strip():
        missing["text"] = _("Write the correction or addition.")
    if not (reason or "").strip():
        missing["reason"] = _("Give the reason for the amendment.")
    if missing:
        raise ApplicationError(_("Check the fields marked."), extra={"fields": missing})
    amendment = ChartAmendment(
        chart=chart,
        section=section,
        text=(text or "").strip(),
        reason=(reason or "").strip(),
        amended_by=nurse,
        amended_at=now,
        form_token=form_token,
    )
    amendment.full_clean(exclude=["chart", "amended_by"], validate_constraints=False)
    amendment.save()
    event_log(
        chart,
        ChartEventKind.AMENDED,
        nurse,
        f"{amendment.get_section_display()}: {amendment.text} (reason: {amendment.reason})",
        now,
    )
    return amendment
