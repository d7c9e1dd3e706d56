"""Integration: a real Celery worker process on Redis, the clock, PostgreSQL; every message once.

The worker runs the test settings without eager tasks, against this test's database. It sends
texts through the memory gateway and emails to files, and reports each send in files this test
reads, so "exactly once" is counted at the gateway, not inferred from the rows.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from concierge.celery import app as celery_app
from notifications import services, tasks
from notifications.models import Message, MessageStatus

from .factories import PatientProfileFactory, VisitFactory

ROOT = Path(__file__).resolve().parents[2]
# Zones around the world: at any hour one of them is in the middle of the day, so that the
# worker (which reads the real clock) finds texts inside the allowed hours.
DAYTIME_ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Pacific/Honolulu",
    "Pacific/Guam",
    "Asia/Kolkata",
    "Europe/London",
]


def daytime_zone():
    for zone in DAYTIME_ZONES:
        if 10 <= datetime.now(ZoneInfo(zone)).hour < 18:
            return zone
    raise AssertionError("no zone in daytime")  # pragma: no cover


def database_url():
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A Celery worker process for this test; killed at teardown whatever happens."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "concierge.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": os.environ["REDIS_URL"],
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "TEST_EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "SMS_MEMORY_JOURNAL": str(tmp_path / "sms.jsonl"),
        "CONN_MAX_AGE": "0",
    }
    log = (tmp_path / "worker.log").open("w")
    celery_app.control.purge()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "concierge",
            "worker",
            "--pool=solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False  # this process publishes to Redis like the web does
    try:
        yield tmp_path
    finally:
        celery_app.conf.task_always_eager = eager
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        celery_app.control.purge()


def wait_until(condition, timeout=40):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def email_sends(folder):
    counts = Counter()
    for path in Path(folder).glob("*"):
        counts.update(int(n) for n in re.findall(r"^X-ConciergeMD-Message: (\d+)$", path.read_text(), re.M))
    return counts


def sms_sends(journal):
    if not Path(journal).exists():
        return Counter()
    return Counter(json.loads(line)["message_id"] for line in Path(journal).read_text().splitlines())


@pytest.mark.redis
@pytest.mark.postgres
def test_a_real_worker_and_the_clock_send_every_due_message_exactly_once(worker):
    started = time.monotonic()
    zone = daytime_zone()
    profile = PatientProfileFactory(time_zone=zone)
    visit = VisitFactory(profile=profile, time_zone=zone, starts_at=timezone.now() + timedelta(days=3, hours=1))

    # The booking commits: the confirmation is queued for the worker at once.
    services.visit_confirmed(visit=visit)
    rows = Message.objects.filter(visit=visit)
    assert rows.count() == 7

    # Time passes: every reminder except the day-after check-in falls due.
    rows.filter(status=MessageStatus.PENDING).exclude(template="checkin").update(
        due_at=timezone.now() - timedelta(seconds=5)
    )

    # Two clocks tick at the same moment (a second beat by mistake), then one more tick...
    clocks = [threading.Thread(target=lambda: (services.messages_dispatch_due(), connection.close())) for _ in range(2)]
    for clock in clocks:
        clock.start()
    for clock in clocks:
        clock.join(timeout=30)
    tasks.messages_dispatch_due.delay()  # ...and one through the broker, as beat sends it
    # ...and the broker delivers every send task a second time.
    for pk in rows.values_list("pk", flat=True):
        tasks.message_deliver.delay(pk)

    due = rows.exclude(template="checkin")
    done = wait_until(lambda: not due.exclude(status=MessageStatus.SENT).exists())
    log = (worker / "worker.log").read_text()
    assert done, f"not all sent: {list(due.values_list('template', 'channel', 'status'))}\n{log[-3000:]}"
    time.sleep(1)  # let the duplicate tasks still in the queue run (they must do nothing)
    assert wait_until(celery_queue_empty)

    sent = {m.pk: m for m in due}
    assert sorted((m.template, m.channel) for m in sent.values()) == [
        ("confirmation", "email"),
        ("confirmation", "sms"),
        ("prep_72h", "email"),
        ("reminder_24h", "email"),
        ("reminder_24h", "sms"),
        ("reminder_2h", "sms"),
    ]
    assert {m.attempts for m in sent.values()} == {1}
    assert all(m.provider_message_id.startswith("SM-memory-") for m in sent.values() if m.channel == "sms")
    emails = {pk for pk, m in sent.items() if m.channel == "email"}
    texts = {pk for pk, m in sent.items() if m.channel == "sms"}
    assert email_sends(worker / "mail") == Counter(dict.fromkeys(emails, 1))
    assert sms_sends(worker / "sms.jsonl") == Counter(dict.fromkeys(texts, 1))
    assert rows.get(template="checkin").status == MessageStatus.PENDING
    assert time.monotonic() - started < 45


def celery_queue_empty():
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return client.llen("celery") == 0 and client.hlen("unacked") == 0
