"""The on-call chain: who answers urgent patient alerts now, paging them, and escalating to the backup.

    an alert is raised  ─▶  the caller emails the on-call inbox (ONCALL_CLINICIAN_EMAIL) with links
                        ─▶  page the clinician on call now (a text and an email, neutral words)
                            (nobody on the rota: the inbox alone, and the escalation copies it)
    acknowledged in admin within ONCALL_ESCALATE_AFTER_MINUTES (15)  ─▶  done
    not acknowledged  ─▶  the periodic task pages the backup, once, and copies the on-call inbox

Who is paged comes from the rota (`OnCallShift`: weekly blocks, and dated blocks that win over
them). Texts and emails go through the outbox: a page is written in the transaction that raised
the alert and sent once it commits. A page names no patient and no reason: "urgent patient
alert, open the queue" and a link to the queue in admin (login required).

The escalation (`oncall_pages_escalate`, the Celery beat task `roster.tasks.oncall_pages_escalate`
every minute) claims each page with a conditional UPDATE (escalated_at IS NULL and still not
acknowledged), so two clocks running at once, or a task delivered twice, escalate a page once.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from concierge.errors import NotAllowed
from concierge.models import Role, User
from notifications.models import Channel
from notifications.services import message_enqueue, staff_alert_email

from .models import OnCallPage, OnCallShift

logger = logging.getLogger(__name__)

# What the clinician reads on a lock screen: nothing about who or why.
PAGE_SUBJECT = "Urgent patient alert"
PAGE_BODY = (
    "Urgent patient alert: please open the on-call queue now and acknowledge it (login required).\n\n"
    "{queue_url}\n\n"
    "If nobody acknowledges it within {minutes} minutes, the backup clinician is paged."
)
ESCALATION_BODY = (
    "Urgent patient alert not acknowledged for {minutes} minutes: you are the backup. Please open the on-call "
    "queue now and acknowledge it (login required).\n\n{queue_url}"
)


def queue_url() -> str:
    """The on-call queue in admin: alerts not acknowledged yet, oldest first."""
    return settings.SITE_URL + reverse("admin:roster_oncallpage_changelist") + "?status=open"


# --- who is on call ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cover:
    shift: OnCallShift
    starts_at: datetime
    ends_at: datetime

    @property
    def clinician(self) -> User:
        return self.shift.clinician.user

    @property
    def backup(self) -> User:
        return self.shift.backup.user


def _window(shift: OnCallShift, day) -> tuple[datetime, datetime]:
    zone = ZoneInfo(shift.time_zone)
    start = datetime.combine(day, shift.start_time, tzinfo=zone)
    end_day = day + timedelta(days=1) if shift.overnight else day
    return start, datetime.combine(end_day, shift.end_time, tzinfo=zone)


def _covers(shift: OnCallShift, at: datetime) -> Cover | None:
    local_day = at.astimezone(ZoneInfo(shift.time_zone)).date()
    # A night that began yesterday still covers this morning.
    for day in (local_day, local_day - timedelta(days=1)):
        if shift.date is not None and shift.date != day:
            continue
        if shift.weekday is not None and shift.weekday != day.weekday():
            continue
        start, end = _window(shift, day)
        if start <= at < end:
            return Cover(shift, start, end)
    return None


def oncall_cover_at(*, at: datetime | None = None) -> Cover | None:
    """The rota block that covers `at` (now by default): a dated block first, else the weekly one."""
    at = at or timezone.now()
    shifts = list(
        OnCallShift.objects.filter(clinician__is_active=True).select_related("clinician__user", "backup__user")
    )
    for dated in (True, False):
        for shift in shifts:
            if (shift.date is not None) == dated:
                cover = _covers(shift, at)
                if cover is not None:
                    return cover
    return None


# --- paging -------------------------------------------------------------------------------------------


def _text(user: User, page: OnCallPage, level: str) -> None:
    provider = getattr(user, "provider", None)
    if provider is None or not provider.phone:
        return
    message_enqueue(
        channel=Channel.SMS,
        to_address=provider.phone.as_e164,
        template="oncall_page",
        context={"queue_url": queue_url()},
        unique_key=f"oncall:{page.pk}:{level}:sms:{user.pk}",
    )


def _email(to: User | str, page: OnCallPage, level: str, body: str) -> None:
    minutes = settings.ONCALL_ESCALATE_AFTER_MINUTES
    staff_alert_email(
        to=to,
        subject=PAGE_SUBJECT,
        body=body.format(queue_url=queue_url(), minutes=minutes),
        unique_key=f"oncall:{page.pk}:{level}",
    )


@transaction.atomic
def oncall_page(*, key: str, link: str, now: datetime | None = None) -> OnCallPage:
    """Page the clinician on call about `key` (text and email), once per key.

    `link` is where the record opens in admin (a path). The caller has emailed the on-call inbox
    (settings.ONCALL_CLINICIAN_EMAIL) with its own links; with nobody on the rota now, that email
    is all that goes, and the escalation emails the inbox again when nobody acknowledges.
    """
    now = now or timezone.now()
    existing = OnCallPage.objects.filter(key=key).first()
    if existing is not None:
        return existing
    cover = oncall_cover_at(at=now)
    fields = {
        "link": link,
        "paged_at": now,
        "shift": cover.shift if cover else None,
        "clinician": cover.clinician if cover else None,
        "backup": cover.backup if cover else None,
    }
    OnCallPage(key=key, **fields).full_clean(validate_unique=False)
    # Two alerts about one record at the same moment: the key is unique, the second finds the first.
    page, created = OnCallPage.objects.get_or_create(key=key, defaults=fields)
    if not created:
        return page
    if page.clinician is not None:
        _text(page.clinician, page, "page")
        _email(page.clinician, page, "page", PAGE_BODY)
        logger.info("on call: page %s sent", page.pk)
    else:
        logger.warning("on call: nobody on the rota now; page %s reaches the on-call inbox only", page.pk)
    return page


def _may_acknowledge(user: User) -> bool:
    return user.is_active and (user.has_role(Role.CLINICIAN) or user.is_superuser)


@transaction.atomic
def oncall_page_acknowledge(*, page: OnCallPage, by: User, now: datetime | None = None) -> OnCallPage:
    """A clinician has seen the alert: no escalation. Acknowledging twice keeps the first."""
    if not _may_acknowledge(by):
        raise NotAllowed(_("Only a clinician can acknowledge an urgent alert."))
    now = now or timezone.now()
    OnCallPage.objects.filter(pk=page.pk, acknowledged_at__isnull=True).update(acknowledged_at=now, acknowledged_by=by)
    page.refresh_from_db()
    return page


@transaction.atomic
def oncall_page_acknowledge_key(*, key: str, by: User, now: datetime | None = None) -> OnCallPage | None:
    """The record a page is about was acknowledged where it lives (a safety alert): so is its page."""
    page = OnCallPage.objects.filter(key=key).first()
    if page is None:
        return None
    return oncall_page_acknowledge(page=page, by=by, now=now)


def oncall_pages_escalate(*, now: datetime | None = None) -> list[int]:
    """Page the backup for every page not acknowledged in time, once each. Returns the pages escalated."""
    now = now or timezone.now()
    due_before = now - timedelta(minutes=settings.ONCALL_ESCALATE_AFTER_MINUTES)
    due = OnCallPage.objects.filter(
        acknowledged_at__isnull=True, escalated_at__isnull=True, paged_at__lte=due_before
    ).values_list("pk", flat=True)
    return [pk for pk in list(due) if _escalate(pk, now)]


@transaction.atomic
def _escalate(page_id: int, now: datetime) -> bool:
    # The claim: whichever runner updates the row first escalates it; another one updates nothing.
    claimed = OnCallPage.objects.filter(pk=page_id, acknowledged_at__isnull=True, escalated_at__isnull=True).update(
        escalated_at=now
    )
    if not claimed:
        return False
    page = OnCallPage.objects.select_related("backup").get(pk=page_id)
    if page.backup is not None:
        _text(page.backup, page, "escalation")
        _email(page.backup, page, "escalation", ESCALATION_BODY)
    _email(settings.ONCALL_CLINICIAN_EMAIL, page, "escalation", ESCALATION_BODY)
    logger.warning("on call: page %s not acknowledged in time, escalated", page_id)
    return True
