"""Amendments: a correction or addition to a locked chart, with its reason; the original rows stay
as they were."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import ApplicationError
from nurses.models import ChartAmendment, ChartEventKind, VisitChart

from .chart import already_recorded, event_log, require_nurse, visit_fresh
from .errors import WrongStep


@transaction.atomic
def chart_amend(*, visit, nurse, section, text, reason, form_token="", now=None):
    """A correction or addition to a locked chart; the original rows stay as they were."""
    now = now or timezone.now()
    visit = visit_fresh(visit)
    require_nurse(visit, nurse)
    chart = VisitChart.objects.select_for_update().filter(visit=visit).first()
    if chart is None or not chart.is_locked:
        raise WrongStep(_("The chart is still open: change it in its own step."))
    done = already_recorded(ChartAmendment, chart, form_token)
    if done is not None:
        return done
    missing = {}
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
