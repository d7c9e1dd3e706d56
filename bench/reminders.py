#!/usr/bin/env python
"""Benchmark: 10,000 due reminders sent by the worker and the clock, as production runs them.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/reminders.py

It makes the outbox rows of about 1,700 confirmed visits through the project's own service
(`notifications.services.visit_confirmed`: confirmation, preparation, reminders), makes 10,000 of
them due at once, then starts Celery as production does (`celery -A concierge beat`, and
`celery -A concierge worker` with its default pool) on Redis and PostgreSQL, with the test
gateways: texts to the memory gateway's journal, emails to files. Sends are counted there, at the
gateway, not inferred from the rows. Three runs, each on fresh rows:

    run=one_worker messages=10000 seconds=41.2 clock_wait_s=37.0 duplicates=0 unsent=0
    run=two_workers messages=10000 seconds=… duplicates=0 unsent=0
    run=two_workers_one_killed messages=10000 seconds=… duplicates=0 unsent=0 interrupted=2

`seconds` runs from the clock's first claim to the last send; `clock_wait_s` is how long the rows
waited for the clock's next tick before that (up to a minute: the clock ticks once a minute,
and a freshly started beat first ticks a minute after it starts). In the last run one worker is
killed (SIGKILL) a few seconds into the drain; what it had claimed is picked up again by the clock
once it counts as lost (`CLAIM_LOST_AFTER`: the run asks the clock as it would then), and a row
whose provider call was under way when it died is settled by the outbox's rule for interrupted
sends (docs/notifications.md): the provider's record first, then reminders retried and the rest
left for staff to check (`interrupted`: failed or "may have gone"), never sent twice.

It works in a throwaway test database (bench_<name>, created and dropped here), and empties the
Celery queue of the Redis database REDIS_URL names.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concierge.settings.test")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"  # this process publishes to Redis, as the web does

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

logging.disable(logging.INFO)

from django.db import connection, transaction  # noqa: E402
from django.db.models import Max, Min  # noqa: E402
from django.utils import timezone  # noqa: E402

from concierge.celery import app as celery_app  # noqa: E402
from notifications import services  # noqa: E402
from notifications.models import Message, MessageStatus  # noqa: E402
from notifications.services.clock import CLAIM_LOST_AFTER  # noqa: E402
from notifications.tests.factories import PatientProfileFactory, VisitFactory  # noqa: E402

MESSAGES = 10_000
RUNS = {
    "one_worker": {"workers": 1},
    "two_workers": {"workers": 2},
    "two_workers_one_killed": {"workers": 2, "kill": True},
}
DUE_PER_VISIT = 6  # all but the next-day check-in
DAYTIME_ZONES = ["America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Pacific/Guam", "Asia/Kolkata"]


def daytime_zone() -> str:
    """A zone where it is the middle of the day now: texts are inside the allowed hours there."""
    for zone in DAYTIME_ZONES:
        if 10 <= datetime.now(ZoneInfo(zone)).hour < 18:
            return zone
    return "Europe/London"


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def build(messages: int) -> None:
    """Confirmed visits whose outbox rows come from the service, as a booking makes them."""
    zone = daytime_zone()
    visits = -(-messages // DUE_PER_VISIT)
    with transaction.atomic():
        for _ in range(visits):
            profile = PatientProfileFactory(time_zone=zone)
            visit = VisitFactory(profile=profile, time_zone=zone, starts_at=timezone.now() + timedelta(days=3, hours=1))
            services.visit_confirmed(visit=visit)
    celery_app.control.purge()  # the confirmations were queued on commit: this run starts from rows


def make_due(messages: int) -> None:
    """Every row pending again (fresh for each run), and `messages` of them due now."""
    rows = Message.objects.exclude(template="checkin")
    rows.update(
        status=MessageStatus.PENDING,
        claimed_at=None,
        attempt_started_at=None,
        sent_at=None,
        attempts=0,
        last_error="",
        provider_message_id="",
        due_at=timezone.now() + timedelta(days=1),
    )
    due = list(rows.order_by("pk").values_list("pk", flat=True)[:messages])
    Message.objects.filter(pk__in=due).update(due_at=timezone.now() - timedelta(seconds=5))
    celery_app.control.purge()


def celery(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "celery"), "-A", "concierge", *command, "--loglevel=WARNING"],
        cwd=REPO,
        env=env,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)


def sends(folder: Path) -> Counter:
    """How many times each message id reached a gateway (email files and the texts' journal)."""
    counts: Counter = Counter()
    for path in (folder / "mail").glob("*"):
        counts.update(int(n) for n in re.findall(r"^X-ConciergeMD-Message: (\d+)$", path.read_text(), re.M))
    journal = folder / "sms.jsonl"
    if journal.exists():
        counts.update(json.loads(line)["message_id"] for line in journal.read_text().splitlines() if line)
    return counts


def run(name: str, messages: int, *, workers: int, kill: bool = False, timeout: float = 1800) -> None:
    make_due(messages)
    due = set(
        Message.objects.filter(status=MessageStatus.PENDING, due_at__lte=timezone.now()).values_list("pk", flat=True)
    )
    folder = Path(tempfile.mkdtemp(prefix=f"bench-reminders-{name}-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "concierge.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": os.environ["REDIS_URL"],
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "TEST_EMAIL_FILE_PATH": str(folder / "mail"),
        "SMS_MEMORY_JOURNAL": str(folder / "sms.jsonl"),
    }
    log = folder / "celery.log"
    started = time.monotonic()
    enqueued_at = timezone.now()
    processes = [
        celery(["worker", "--without-mingle", "--without-gossip", "-n", f"w{i}@%h"], env, log) for i in range(workers)
    ]
    beat = celery(["beat", "-s", str(folder / "beat-schedule")], env, log)
    remaining = Message.objects.filter(pk__in=due, status__in=(MessageStatus.PENDING, MessageStatus.SENDING))
    killed = False
    recovered = False
    try:
        while remaining.exists() and time.monotonic() - started < timeout:
            time.sleep(0.5)
            first_claim = Message.objects.filter(pk__in=due).aggregate(first=Min("claimed_at"))["first"]
            if kill and not killed and first_claim and timezone.now() - first_claim > timedelta(seconds=5):
                stop(processes.pop(0), signal.SIGKILL)  # mid-run: tasks prefetched, sends under way
                killed = True
            if killed and not recovered and not remaining.filter(status=MessageStatus.PENDING).exists():
                # What the dead worker had claimed waits for the clock to count it as lost: ask
                # the clock as it would be asked once that time has passed.
                time.sleep(3)
                services.messages_dispatch_due(now=timezone.now() + CLAIM_LOST_AFTER + timedelta(minutes=6))
                recovered = True
        time.sleep(2)  # duplicate tasks still in the queue would run now
    finally:
        for process in [*processes, beat]:
            stop(process)
        celery_app.control.purge()
    span = Message.objects.filter(pk__in=due).aggregate(first=Min("claimed_at"), last=Max("sent_at"))
    counts = sends(folder)
    status_of = dict(Message.objects.filter(pk__in=due).values_list("pk", "status"))
    statuses = Counter(status_of.values())
    duplicates = sum(1 for pk in due if counts[pk] > 1)
    # An interrupted row left for staff to check (failed, or "may have gone") may or may not have
    # reached the gateway.
    for_staff = (MessageStatus.FAILED, MessageStatus.UNKNOWN)
    unsent = sum(1 for pk in due if counts[pk] == 0 and status_of[pk] not in for_staff)
    seconds = (span["last"] - span["first"]).total_seconds() if span["first"] and span["last"] else float("nan")
    line = (
        f"run={name} messages={len(due)} seconds={seconds:.1f} "
        f"clock_wait_s={(span['first'] - enqueued_at).total_seconds():.1f} duplicates={duplicates} unsent={unsent}"
    )
    if kill:
        line += f" interrupted={sum(statuses[s] for s in for_staff)}"
    other = {k: v for k, v in statuses.items() if k not in (MessageStatus.SENT, *for_staff)}
    if other:
        line += " left=" + ",".join(f"{k}:{v}" for k, v in sorted(other.items()))
    print(line, flush=True)


def main() -> None:
    if connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"):
        sys.exit("bench/reminders.py runs Celery as production does: set DATABASE_URL (PostgreSQL) and REDIS_URL.")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated, of {', '.join(RUNS)}")
    args = parser.parse_args()
    messages = args.messages
    old_name = connection.settings_dict["NAME"]
    # Not test_<name>: the test suite may be using that one at the same time.
    connection.settings_dict["TEST"]["NAME"] = f"bench_{old_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    try:
        started = time.perf_counter()
        build(messages)
        print(f"# {messages} due messages, built in {time.perf_counter() - started:.0f} s", flush=True)
        for name in args.runs.split(","):
            run(name, messages, **RUNS[name])
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
