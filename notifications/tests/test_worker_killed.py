"""A real Celery worker killed with SIGKILL mid-drain: every message still goes exactly once.

The worker sends texts through a gateway that, the first time, hangs right after the "provider"
took the text (notifications/tests/hanging_gateway.py): the test kills the worker there, after
the text went and before its result was recorded, with more send tasks claimed and queued behind
it. A second worker starts, every send task is delivered once more (as a broker redelivers), and
the clock runs with short lost-claim and lost-attempt delays. Counted at the gateway and the mail
folder: each message once; the interrupted text is settled by the provider's record (it went),
not sent again and not left in any failed queue.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from concierge.celery import app as celery_app
from notifications import services, tasks
from notifications.models import Message, MessageStatus

from .factories import PatientProfileFactory, VisitFactory
from .test_worker import ROOT, celery_queue_empty, database_url, daytime_zone, email_sends, sms_sends, wait_until

GATEWAY = "notifications.tests.hanging_gateway.HangingAfterSendGateway"


def start_worker(folder, name):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "concierge.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": os.environ["REDIS_URL"],
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "TEST_EMAIL_FILE_PATH": str(folder / "mail"),
        "SMS_MEMORY_JOURNAL": str(folder / "sms.jsonl"),
        "TEST_SMS_BACKEND": GATEWAY,
        "HANG_FILE": str(folder / "hang"),
        "CONN_MAX_AGE": "0",
    }
    log = (folder / f"{name}.log").open("w")
    command = [sys.executable, "-m", "celery", "-A", "concierge", "worker", "--pool=solo", "--without-mingle"]
    command += ["--without-gossip", "--loglevel=INFO", "-n", f"{name}@%h"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return process, log


def stop(process, log, sig=signal.SIGTERM):
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    log.close()


@pytest.mark.redis
@pytest.mark.postgres
def test_a_worker_killed_mid_send_leaves_every_message_sent_exactly_once(transactional_db, tmp_path, settings):
    settings.NOTIFICATIONS_CLAIM_LOST_SECONDS = 2
    settings.NOTIFICATIONS_ATTEMPT_LOST_SECONDS = 2
    # The clock (this process) asks the same "provider" the workers send through.
    settings.SMS_MEMORY_JOURNAL = str(tmp_path / "sms.jsonl")
    (tmp_path / "hang").touch()
    zone = daytime_zone()
    profile = PatientProfileFactory(time_zone=zone)
    visit = VisitFactory(profile=profile, time_zone=zone, starts_at=timezone.now() + timedelta(days=3, hours=1))
    celery_app.control.purge()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    first = second = None
    try:
        services.visit_confirmed(visit=visit)
        rows = Message.objects.filter(visit=visit)
        due = rows.exclude(template="checkin")
        rows.filter(status=MessageStatus.PENDING).exclude(template="checkin").update(
            due_at=timezone.now() - timedelta(seconds=5)
        )
        first = start_worker(tmp_path, "first")
        services.messages_dispatch_due()

        # The provider took a text, and the worker hangs before recording it: kill -9 there.
        assert wait_until(lambda: sum(sms_sends(tmp_path / "sms.jsonl").values()) >= 1), (
            tmp_path / "first.log"
        ).read_text()[-3000:]
        stop(*first, sig=signal.SIGKILL)
        interrupted = due.get(status=MessageStatus.SENDING, attempt_started_at__isnull=False, channel="sms")
        (tmp_path / "hang").unlink()

        # A new worker; every send task delivered again; the clock ticks until all is settled.
        second = start_worker(tmp_path, "second")
        for pk in rows.values_list("pk", flat=True):
            tasks.message_deliver.delay(pk)

        def settled():
            services.messages_dispatch_due()
            return not due.exclude(status=MessageStatus.SENT).exists()

        done = wait_until(settled, timeout=60)
        assert done, (
            f"{list(due.values_list('template', 'channel', 'status'))}\n"
            + (tmp_path / "second.log").read_text()[-3000:]
        )
        time.sleep(1)
        assert wait_until(celery_queue_empty)
    finally:
        celery_app.conf.task_always_eager = eager
        for worker in (first, second):
            if worker is not None:
                stop(*worker)
        celery_app.control.purge()

    texts = {m.pk for m in due if m.channel == "sms"}
    emails = {m.pk for m in due if m.channel == "email"}
    assert sms_sends(tmp_path / "sms.jsonl") == Counter(dict.fromkeys(texts, 1))
    assert email_sends(tmp_path / "mail") == Counter(dict.fromkeys(emails, 1))
    interrupted.refresh_from_db()
    assert interrupted.status == MessageStatus.SENT and "the provider has it" in interrupted.last_error
    assert not rows.filter(status__in=[MessageStatus.FAILED, MessageStatus.UNKNOWN]).exists()
