"""Telehealth evaluations: the video link, when it may be joined, and the clinician's list.

No video service is built here. Each evaluation gets a room address when it is confirmed, from
`settings.TELEHEALTH_URL_TEMPLATE` (e.g. "https://meet.example.com/conciergemd-{token}", with a
random unguessable token), or staff paste one on the evaluations page. The address is never put
in a page, an email or a text: patients and clinicians reach it through a join link that the
server opens TELEHEALTH_JOIN_OPENS_MINUTES (10) before the start and closes
TELEHEALTH_JOIN_CLOSES_MINUTES after the end; before that the page says when it opens.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import InvalidState, NotAllowed
from concierge.models import Role

from .models import ServiceKind, Visit, VisitStatus

logger = logging.getLogger(__name__)

S = VisitStatus
# A video visit can be joined in these statuses (a nurse's en route / in progress do not apply,
# but a clinician's tools may move an evaluation there).
JOINABLE_STATUSES = (S.CONFIRMED, S.EN_ROUTE, S.IN_PROGRESS)


def video_url_new():
    """A fresh room address from the configured template, or "" when staff paste links instead."""
    template = settings.TELEHEALTH_URL_TEMPLATE
    if not template:
        return ""
    return template.format(token=secrets.token_urlsafe(18))


def video_link_assign(*, visit):
    """Give a telehealth visit its room (unsaved: booking's confirmation saves it). Keeps one already set."""
    if visit.service.is_telehealth and not visit.video_url:
        visit.video_url = video_url_new()
    return visit


def _may_manage_links(user):
    return user.is_active and user.is_staff and user.has_perm("booking.change_visit")


@transaction.atomic
def video_link_set(*, visit, url, actor):
    """Staff paste the room address for a video visit (replacing the generated one)."""
    if not (_may_manage_links(actor) or _is_the_clinician(actor, visit)):
        raise NotAllowed(_("You cannot change this visit's video link."))
    visit = Visit.objects.select_for_update().select_related("service").get(pk=visit.pk)
    if not visit.service.is_telehealth:
        raise InvalidState(_("Only video visits have a video link."))
    url = (url or "").strip()
    try:
        URLValidator(schemes=["https"])(url)
    except ValidationError as error:
        raise ValidationError({"url": _("Paste the full https:// address of the video room.")}) from error
    visit.video_url = url
    visit.save(update_fields=["video_url", "updated_at"])
    logger.info("telehealth: video link of visit %s changed", visit.pk)
    return visit


# --- when the video visit may be joined -------------------------------------------------------


@dataclass(frozen=True)
class JoinState:
    status: str  # "open", "early", "closed", "no_link", "not_video", "cancelled"
    opens_at: datetime | None = None
    closes_at: datetime | None = None

    @property
    def is_open(self):
        return self.status == "open"

    @property
    def minutes_before(self):
        return settings.TELEHEALTH_JOIN_OPENS_MINUTES

    @property
    def seconds_until_open(self):
        if self.status != "early" or self.opens_at is None:
            return None
        return max(0, int((self.opens_at - timezone.now()).total_seconds()))


def join_window(visit):
    opens = visit.starts_at - timedelta(minutes=settings.TELEHEALTH_JOIN_OPENS_MINUTES)
    closes = visit.ends_at + timedelta(minutes=settings.TELEHEALTH_JOIN_CLOSES_MINUTES)
    return opens, closes


def join_state(*, visit, now=None):
    """Whether the video visit can be joined now (the server decides; pages only show it)."""
    if not visit.service.is_telehealth:
        return JoinState("not_video")
    opens, closes = join_window(visit)
    if visit.status not in JOINABLE_STATUSES:
        return JoinState("cancelled" if visit.status == S.CANCELLED else "closed", opens, closes)
    now = now or timezone.now()
    if now >= closes:
        return JoinState("closed", opens, closes)
    if not visit.video_url:
        return JoinState("no_link", opens, closes)
    if now < opens:
        return JoinState("early", opens, closes)
    return JoinState("open", opens, closes)


def join_url_for(*, visit, user, now=None):
    """The room address, for the visit's patient or its clinician while the join window is open."""
    if user.pk != visit.patient_id and not _is_the_clinician(user, visit):
        raise NotAllowed()
    state = join_state(visit=visit, now=now)
    if not state.is_open:
        raise InvalidState(_("The video visit cannot be joined now."))
    return visit.video_url


def _is_the_clinician(user, visit):
    return (
        user.is_active
        and user.has_role(Role.CLINICIAN)
        and visit.provider_id is not None
        and visit.provider.user_id == user.pk
    )


# --- reads -------------------------------------------------------------------------------------


def _evaluations():
    return Visit.objects.filter(service__kind=ServiceKind.EVALUATION, service__is_telehealth=True)


# What the dashboard's join button reads of the evaluation (`join_state`, booking/_video_join.html).
JOIN_FIELDS = ("status", "starts_at", "ends_at", "time_zone", "video_url", "service__is_telehealth")


def next_evaluation_for(*, patient, now=None):
    """The patient's next video evaluation not yet over (for the dashboard), or None."""
    now = now or timezone.now()
    closes_after = now - timedelta(minutes=settings.TELEHEALTH_JOIN_CLOSES_MINUTES)
    return (
        _evaluations()
        .filter(patient=patient, status__in=JOINABLE_STATUSES, ends_at__gt=closes_after)
        .select_related("service")  # the join button needs the service, not who holds the call
        .only(*JOIN_FIELDS)
        .order_by("starts_at")
        .first()
    )


def evaluation_list_for(*, user, day_from, days=8):
    """Video evaluations from `day_from` (a UTC-aware datetime) for `days` days.

    A clinician sees their own; staff who manage visits see everyone's.
    """
    visits = (
        _evaluations()
        .filter(
            status__in=(*JOINABLE_STATUSES, S.COMPLETED),
            starts_at__gte=day_from,
            starts_at__lt=day_from + timedelta(days=days),
        )
        .select_related("service", "provider__user", "patient")
        .prefetch_related("clearances")
        .order_by("starts_at")
    )
    if user.has_role(Role.CLINICIAN):
        return visits.filter(provider__user=user)
    if _may_manage_links(user):
        return visits
    return visits.none()


def evaluation_get_for(*, user, pk):
    """One evaluation this person may open (its clinician, or staff who manage visits), or None."""
    visit = _evaluations().select_related("service", "provider__user", "patient").filter(pk=pk).first()
    if visit is None:
        return None
    if _is_the_clinician(user, visit) or (not user.has_role(Role.CLINICIAN) and _may_manage_links(user)):
        return visit
    return None


def may_use_evaluations_page(user):
    return user.is_authenticated and user.is_staff and (user.has_role(Role.CLINICIAN) or _may_manage_links(user))
