"""Demo data for the care-team portal (issue 10): a `seed_demo` step after booking's (concierge/demo.py).

- Alex Morgan (patient@) asked the care team a question a day ago and the demo clinician
  answered it; the answer is not read yet, so Alex's dashboard shows "1 new answer".
- Jordan Lee's video evaluation (booked by booking's demo) gets its video room if it has none
  (demo data made before video links existed).

Idempotent: a thread is started once (fixed form tokens); nothing is added on a second run.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from booking.models import Visit, VisitStatus
from booking.telehealth import video_link_set, video_url_new
from concierge.demo import demo_step

from . import messaging
from .models import MessageSender, MessageThread, ThreadMessage, ThreadTopic

CLINICIAN = "clinician@demo.conciergemd.example"
ALEX = "patient@demo.conciergemd.example"
JORDAN = "patient2@demo.conciergemd.example"
ADMIN = "admin@demo.conciergemd.example"
# Fixed form tokens make the demo exchange idempotent (they are not secrets).
QUESTION_TOKEN, ANSWER_TOKEN = "demo-alex-question", "demo-dana-answer"


def _alex_thread(alex, clinician):
    question = messaging.thread_start(
        patient=alex,
        topic=ThreadTopic.HEALTH,
        subject="Driving the day after",
        body=(
            "Hi, after my next visit can I drive to work the following morning? "
            "It is about 20 minutes each way. Thank you!"
        ),
        form_token=QUESTION_TOKEN,
    )
    thread = question.thread
    answer = messaging.thread_message_post(
        thread=thread,
        author=clinician,
        body=(
            "Hi Alex, yes: by the next morning you can drive as usual, as long as you slept and feel clear-headed. "
            "Please do not drive on the day of the visit itself, and keep your adult helper with you that evening. "
            "Write back any time if you have other questions. Dana"
        ),
        form_token=ANSWER_TOKEN,
    )
    # Set the clock back, as if Alex had asked yesterday morning and Dana answered at lunchtime.
    yesterday = timezone.localdate(timezone=ZoneInfo("America/New_York")) - timedelta(days=1)
    asked = datetime.combine(yesterday, time(9, 40), tzinfo=ZoneInfo("America/New_York"))
    answered = asked + timedelta(hours=2, minutes=55)
    ThreadMessage.objects.filter(pk=question.pk).update(created_at=asked)
    ThreadMessage.objects.filter(pk=answer.pk).update(created_at=answered)
    MessageThread.objects.filter(pk=thread.pk).update(
        created_at=asked,
        last_message_at=answered,
        patient_read_at=asked,
        answered_at=answered,
        care_team_read_at=answered,
    )
    return thread


def _jordan_video_room(jordan, admin):
    visits = Visit.objects.filter(
        patient=jordan, service__is_telehealth=True, status=VisitStatus.CONFIRMED, video_url=""
    )
    for visit in visits:
        video_link_set(visit=visit, url=video_url_new(), actor=admin)


@demo_step(order=60)
def seed(users, lines):
    alex, clinician = users[ALEX], users[CLINICIAN]
    if not ThreadMessage.objects.filter(author=alex, form_token=QUESTION_TOKEN).exists():
        _alex_thread(alex, clinician)
    answered = ThreadMessage.objects.filter(thread__patient=alex, sender=MessageSender.CARE_TEAM).count()
    _jordan_video_room(users[JORDAN], users[ADMIN])
    lines.append(
        f"  portal     Alex Morgan: a question answered by Dana Okafor ({answered} answer) at /staff/messages/"
    )
