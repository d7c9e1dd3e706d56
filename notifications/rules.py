"""When patients hear from us: the one place that lists every reminder and notice.

A visit's life cycle (booking calls the hooks in `services.py`) turns these rules into outbox
rows with a due time. The clock sends rows when they fall due. Change the table here and the
one in docs/notifications.md together.

| when                               | template       | channels      | telehealth |
| ---------------------------------- | -------------- | ------------- | ---------- |
| the visit is confirmed             | confirmation   | email (.ics) + text | yes  |
| 72 h before                        | prep_72h       | email         | no (home visits only) |
| 24 h before                        | reminder_24h   | email + text  | yes        |
| 2 h before                         | reminder_2h    | text          | yes        |
| the day after, 10:00 local         | checkin        | email         | yes        |
| the visit is moved                 | rescheduled    | email (.ics) + text | yes  |
| the visit is cancelled             | cancelled      | email + text  | yes        |
| the nurse taps "on my way"         | on_my_way      | text          | -          |
| the visit is put on hold           | care_team_call | email + text  | -          |

A visit put on hold (a warning sign, booking/safety.py) has its pending reminders cancelled and
gets one neutral "your care team will call you" notice per hold; its release plans the reminders
still ahead again.

A reminder whose time is already past when the visit is booked is skipped. A text due outside
the allowed hours (settings.NOTIFICATIONS_SMS_HOURS, in the patient's zone) moves to the nearest
allowed time before the visit, or, when there is none, becomes an email.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from .facts import VisitFacts
from .models import Channel


@dataclass(frozen=True)
class ReminderRule:
    template: str
    channels: tuple[str, ...]
    before: timedelta | None = None  # due this long before the visit starts
    day_after_at: time | None = None  # due the day after the visit, at this local time
    home_visits_only: bool = False

    def due_at(self, visit: VisitFacts) -> datetime:
        if self.before is not None:
            # In UTC: "72 hours before" is 72 real hours, across a daylight-saving change too
            # (arithmetic on a local-zone datetime would count wall-clock hours).
            return visit.starts_at.astimezone(UTC) - self.before
        if self.day_after_at is None:  # every rule has one of the two (REMINDER_RULES)
            raise ValueError(f"Reminder rule {self.template!r} has neither `before` nor `day_after_at`")
        zone = ZoneInfo(visit.time_zone)
        next_day = visit.starts_at.astimezone(zone).date() + timedelta(days=1)
        return datetime.combine(next_day, self.day_after_at, tzinfo=zone)

    def applies_to(self, visit: VisitFacts) -> bool:
        return not (self.home_visits_only and visit.service.is_telehealth)


REMINDER_RULES = (
    ReminderRule("prep_72h", (Channel.EMAIL,), before=timedelta(hours=72), home_visits_only=True),
    ReminderRule("reminder_24h", (Channel.EMAIL, Channel.SMS), before=timedelta(hours=24)),
    ReminderRule("reminder_2h", (Channel.SMS,), before=timedelta(hours=2)),
    ReminderRule("checkin", (Channel.EMAIL,), day_after_at=time(10, 0)),
)

# Notices sent at once when the visit's life cycle changes: template and channels.
CONFIRMED_NOTICE = ("confirmation", (Channel.EMAIL, Channel.SMS))
RESCHEDULED_NOTICE = ("rescheduled", (Channel.EMAIL, Channel.SMS))
CANCELLED_NOTICE = ("cancelled", (Channel.EMAIL, Channel.SMS))
HOLD_NOTICE = ("care_team_call", (Channel.EMAIL, Channel.SMS))

# The reminders of a visit (withheld while it is on hold, planned again on release).
REMINDER_TEMPLATES = tuple(rule.template for rule in REMINDER_RULES)

# Templates whose rows belong to one visit time: a reschedule cancels the pending ones.
TIME_BOUND_TEMPLATES = ("confirmation", "rescheduled", *(rule.template for rule in REMINDER_RULES))


# --- Quiet hours ------------------------------------------------------------------------------


def _parse(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


def sms_hours() -> tuple[time, time]:
    """The local times between which a text may go: (first, end), end excluded."""
    first, end = settings.NOTIFICATIONS_SMS_HOURS
    return _parse(first), _parse(end)


def sms_allowed(when: datetime, time_zone: str) -> bool:
    first, end = sms_hours()
    local = when.astimezone(ZoneInfo(time_zone)).time()
    return first <= local < end


def sms_time(due_at: datetime, *, time_zone: str, deadline: datetime | None = None, now: datetime) -> datetime | None:
    """When a text due at `due_at` may go, or None when it should not go as a text at all.

    Inside the allowed hours: `due_at` itself. At night: the nearest of the evening before
    (the end of the window less a margin, so the clock has time to send it) and the next
    morning, provided the evening is not already past and the morning is before `deadline`
    (the visit's start, for a reminder). Neither: None.
    """
    due_at = due_at.astimezone(UTC)  # compare instants, never wall-clock times
    if sms_allowed(due_at, time_zone):
        return due_at
    zone = ZoneInfo(time_zone)
    first, end = sms_hours()
    local = due_at.astimezone(zone)
    margin = timedelta(minutes=settings.NOTIFICATIONS_SMS_EVENING_MARGIN_MINUTES)
    if local.time() >= end:
        evening_day, morning_day = local.date(), local.date() + timedelta(days=1)
    else:
        evening_day, morning_day = local.date() - timedelta(days=1), local.date()
    evening = (datetime.combine(evening_day, end, tzinfo=zone) - margin).astimezone(UTC)
    morning = datetime.combine(morning_day, first, tzinfo=zone).astimezone(UTC)
    candidates: list[datetime] = []
    if evening >= now:
        candidates.append(evening)
    if deadline is None or morning < deadline:
        candidates.append(max(morning, now))
    if not candidates:
        return None
    return min(candidates, key=lambda when: abs(when - due_at))


def local_day_bounds(when: datetime, time_zone: str) -> tuple[datetime, datetime]:
    """The start and end (UTC-aware) of the local calendar day that contains `when`."""
    zone = ZoneInfo(time_zone)
    day = when.astimezone(zone).date()
    start = datetime.combine(day, time(0, 0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
    return start, end
