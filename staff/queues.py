"""What needs attention, for the queues page and the admin index: one selector per queue.

Each queue is shown only to people who may act on it (or, for the clinical queues, to managers
too): the clinicians' review queue and open safety alerts (clinicians, managers), failed
messages (notifications), payments needing attention (disputes, failed refunds), the coverage
waitlist, and patients' messages waiting for a reply (the care-team portal).
Every queue is two queries (its rows, its count) whatever its length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.db.models import Count, Window
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.models import HoldOutcome, SafetyHold, WaitlistEntry
from booking.templatetags.booking_tags import visit_day_short, visit_time
from concierge.models import Role, User
from notifications.models import Message, MessageStatus
from patients.admin import may_review, review_url
from patients.models import SafetyAlert
from payments.models import Payment, PaymentStatus, Refund, RefundStatus, payment_reference
from portal import messaging_selectors as portal
from staff import review

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django_stubs_ext import StrOrPromise

LIMIT = 20


@dataclass
class Queue:
    key: str
    title: StrOrPromise
    description: StrOrPromise
    count: int
    rows: Sequence[Mapping[str, object]]  # what the template shows, one mapping a row
    links: list[tuple[str, StrOrPromise]] = field(default_factory=list)  # (url, label): the full lists in admin


def _url(name: str, query: Mapping[str, object] | None = None, args: Sequence[object] | None = None) -> str:
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{urlencode(query)}" if query else url


def _links(*pairs: tuple[str, StrOrPromise]) -> list[tuple[str, StrOrPromise]]:
    return [(url, label) for url, label in pairs if url]


def sees_clinical_queues(user: User) -> bool:
    return user.is_superuser or user.has_role(Role.CLINICIAN, Role.MANAGER)


def _patient_name(user: User) -> str:
    return user.get_full_name() if user.get_full_name() != user.email else user.email


# --- the queues ----------------------------------------------------------------------------------


def held_visits(*, limit: int = LIMIT) -> Queue:
    """Visits on hold (a warning sign): first on the page, for everyone who sees visits.

    No reason is shown here (it is clinical); clinicians read it, and release, on the visit's page.
    """
    holds = SafetyHold.objects.filter(outcome=HoldOutcome.OPEN).select_related(
        "visit__patient", "visit__provider__user"
    )
    rows = [
        {
            "patient": _patient_name(h.visit.patient),
            "when": f"{visit_day_short(h.visit.starts_at, h.visit.time_zone)}, "
            f"{visit_time(h.visit.starts_at, h.visit.time_zone)}",
            "nurse": h.visit.provider.user.get_full_name() if h.visit.provider else "",
            "since": h.placed_at,
            "url": _url("admin:booking_visit_change", args=[h.visit_id]),
        }
        for h in holds.order_by("visit__starts_at", "pk")[:limit]
    ]
    return Queue(
        key="holds",
        title=_("Visits on hold: clinician review"),
        description=_(
            "Nobody may start these. A clinician releases each one on the visit's page once the patient is safe "
            "to treat; staff may cancel it instead (refunded in full). Soonest first."
        ),
        count=holds.count(),
        rows=rows,
        links=_links((_url("admin:booking_visit_changelist", {"status__exact": "on_hold"}), _("All visits on hold"))),
    )


def review_queue(*, limit: int = LIMIT, linked: bool = True) -> Queue:
    # Finding who waits looks at every patient (their alerts, check-ins, intakes and decisions):
    # the first rows and how many there are in one statement, not that work twice.
    # The admin index asks for no rows (limit 0): then the count alone, which no row can carry.
    waiting = review.review_queue()
    first = list(waiting.annotate(waiting_total=Window(Count("pk")))[:limit]) if limit else []
    count = first[0].waiting_total if first else (0 if limit else waiting.count())
    rows = [
        {
            "patient": _patient_name(p.user),
            "email": p.user.email,
            "alert": p.has_open_alert,
            "since": p.intake_sent_at,
            # The review screen, for those who may decide (anyone else would be refused it).
            "url": review_url(p.user) if linked else "",
        }
        for p in first
    ]
    return Queue(
        key="review",
        title=_("Patients waiting for a clinician"),
        description=_("Open safety alerts first, then the longest waiting. A clinician opens the review screen."),
        count=count,
        rows=rows,
        links=_links((_url("admin:patients_reviewqueueentry_changelist"), _("Open the review queue"))),
    )


def safety_alerts(*, limit: int = LIMIT) -> Queue:
    alerts = SafetyAlert.objects.filter(resolved_at__isnull=True).select_related("patient", "acknowledged_by")
    rows = [
        {
            # A text from a number no patient has: the number to call back (issue 15).
            "patient": _patient_name(a.patient) if a.patient else str(_("Unknown number %s") % a.from_number),
            "raised": a.created_at,
            "acknowledged_by": a.acknowledged_by.get_full_name() if a.acknowledged_by else "",
            "url": _url("admin:patients_safetyalert_change", args=[a.pk]),
        }
        for a in alerts.order_by("acknowledged_at", "created_at", "pk")[:limit]
    ]
    return Queue(
        key="alerts",
        title=_("Patient safety: open alerts"),
        description=_("Acknowledge when you take it on; resolve with a note once you have spoken with the patient."),
        count=alerts.count(),
        rows=rows,
        links=_links((_url("admin:patients_safetyalert_changelist", {"status": "open"}), _("All open alerts"))),
    )


def failed_messages(*, limit: int = LIMIT) -> Queue:
    failed = Message.objects.filter(status=MessageStatus.FAILED).select_related("recipient")
    return Queue(
        key="messages",
        title=_("Messages that could not be sent"),
        description=_("Check the number or address, then select them in the list and send them again."),
        count=failed.count(),
        rows=_message_rows(failed, limit),
        links=_links(
            (
                _url("admin:notifications_message_changelist", {"status__exact": MessageStatus.FAILED}),
                _("Failed messages (resend from there)"),
            )
        ),
    )


def unknown_messages(*, limit: int = LIMIT) -> Queue:
    """Sends left unrecorded that the provider could not settle (notifications/services/interrupted.py)."""
    unknown = Message.objects.filter(status=MessageStatus.UNKNOWN).select_related("recipient")
    return Queue(
        key="messages-unknown",
        title=_("Messages that may have gone: check before resending"),
        description=_(
            "Sending started but its result was never recorded. Look for it in the email or text provider's "
            "log, then mark it as gone, or send it again only if it is not there."
        ),
        count=unknown.count(),
        rows=_message_rows(unknown, limit),
        links=_links(
            (
                _url("admin:notifications_message_changelist", {"status__exact": MessageStatus.UNKNOWN}),
                _("Messages that may have gone (settle them from there)"),
            )
        ),
    )


def _message_rows(messages: QuerySet[Message], limit: int) -> list[dict[str, object]]:
    return [
        {
            "id": m.pk,
            "to": _patient_name(m.recipient) if m.recipient else m.to_address,
            "channel": m.get_channel_display(),
            "template": m.template,
            "when": m.updated_at,
            "error": m.last_error,
            "url": _url("admin:notifications_message_change", args=[m.pk]),
        }
        for m in messages.order_by("-updated_at", "-pk")[:limit]
    ]


def payments_attention(*, limit: int = LIMIT) -> Queue:
    disputed = Payment.objects.filter(status=PaymentStatus.DISPUTED).select_related("patient")
    failed_refunds = Refund.objects.filter(status=RefundStatus.FAILED).select_related("payment__patient")
    rows = [
        {
            "what": _("Disputed"),
            "reference": p.reference,
            "patient": _patient_name(p.patient),
            "cents": p.amount_cents,
            "when": p.disputed_at or p.updated_at,
            "detail": p.dispute_status,
            "url": _url("admin:payments_payment_change", args=[p.pk]),
        }
        for p in disputed.order_by("-disputed_at", "-pk")[:limit]
    ] + [
        {
            "what": _("Refund failed"),
            "reference": payment_reference(r.payment_id),
            "patient": _patient_name(r.payment.patient),
            "cents": r.amount_cents,
            "when": r.updated_at,
            "detail": r.failure_reason or r.last_error,
            "url": _url("admin:payments_payment_change", args=[r.payment_id]),
        }
        for r in failed_refunds.order_by("-updated_at", "-pk")[:limit]
    ]
    return Queue(
        key="payments",
        title=_("Payments needing attention"),
        description=_("Disputes to answer in Stripe, and refunds the gateway refused."),
        count=disputed.count() + failed_refunds.count(),
        rows=rows,
        links=_links(
            (
                _url("admin:payments_payment_changelist", {"status__exact": PaymentStatus.DISPUTED}),
                _("Disputed payments"),
            ),
            (_url("admin:payments_payment_changelist", {"refunds": "failed"}), _("Payments with a failed refund")),
        ),
    )


def waitlist(*, limit: int = LIMIT) -> Queue:
    waiting = WaitlistEntry.objects.filter(contacted_at__isnull=True)
    by_zip = waiting.values("zip_code").annotate(n=Count("pk")).order_by("-n", "zip_code")
    rows = [{"zip": row["zip_code"], "count": row["n"]} for row in by_zip[:limit]]
    return Queue(
        key="waitlist",
        title=_("Coverage waitlist"),
        description=_("People outside our areas waiting to hear from us, by ZIP code (most asked first)."),
        count=waiting.count(),
        rows=rows,
        links=_links(
            (
                _url("admin:booking_waitlistentry_changelist", {"contacted_at__isnull": "True"}),
                _("Waitlist (mark people contacted there)"),
            )
        ),
    )


def unanswered_messages(*, user: User, limit: int = LIMIT, now: datetime | None = None) -> Queue:
    """Patients' messages waiting for an answer (the care-team portal's threads)."""
    now = now or timezone.now()
    waiting = portal.threads_awaiting_reply(now=now)
    due_hours = portal.reply_due_within().total_seconds() / 3600
    working = portal.working_hours()  # the holiday table, read once for the list
    rows: list[dict[str, object]] = []
    for thread in waiting[:limit]:
        can_open = portal.may_answer(user, thread)
        hours = portal.waited_working_hours(thread, now, working)
        rows.append(
            {
                "patient": _patient_name(thread.patient),
                "topic": thread.get_topic_display(),
                # A health thread's subject can be clinical: only those who may answer it see it.
                "subject": thread.subject if can_open else "",
                "urgent": thread.urgent,
                "since": thread.waiting_since,
                "hours": hours,
                "overdue": hours is not None and hours >= due_hours,
                "url": _url("portal:staff_thread", args=[thread.pk]) if can_open else "",
            }
        )
    return Queue(
        key="replies",
        title=_("Patients waiting for an answer"),
        description=_("Messages from the portal nobody has answered yet, urgent ones and the longest waiting first."),
        count=waiting.count(),
        rows=rows,
        links=_links(
            (_url("portal:staff_inbox"), _("Open the care-team inbox")),
        ),
    )


def queues_for(user: User, *, limit: int = LIMIT, now: datetime | None = None) -> list[Queue]:
    """The queues this person may see, in the order of the page: visits on hold first."""
    queues: list[Queue] = []
    if user.has_perm("booking.view_visit"):
        queues.append(held_visits(limit=limit))
    if sees_clinical_queues(user):
        alerts, review = safety_alerts(limit=limit), review_queue(limit=limit, linked=may_review(user))
        # Managers see who waits; only clinicians open the records (the links would answer 403).
        if not user.has_perm("patients.view_safetyalert"):
            alerts.links = []
        if not user.has_perm("patients.view_reviewqueueentry"):
            review.links = []
        queues += [alerts, review]
    if user.is_staff:
        queues.append(unanswered_messages(user=user, limit=limit, now=now))
    if user.has_perm("notifications.view_message"):
        queues += [failed_messages(limit=limit), unknown_messages(limit=limit)]
    if user.has_perm("payments.view_payment"):
        queues.append(payments_attention(limit=limit))
    if user.has_perm("booking.view_waitlistentry"):
        queues.append(waitlist(limit=limit))
    return queues


def queue_counts(user: User, *, now: datetime | None = None) -> list[tuple[StrOrPromise, int, str]]:
    """[(title, count, url)] for the admin index: only counts (rows are not shown there)."""
    return [(q.title, q.count, reverse("admin:staff_queues") + f"#{q.key}") for q in queues_for(user, limit=0, now=now)]
