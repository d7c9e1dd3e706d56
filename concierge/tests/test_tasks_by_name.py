"""Tasks are queued by name (concierge.tasks): every name in the code is a registered task, and a
task is queued only once its transaction commits."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerOperationalError

from concierge.celery import app
from concierge.tasks import enqueue_on_commit, task_get

ROOT = Path(__file__).resolve().parents[2]
QUEUEING_FUNCTIONS = {"enqueue_on_commit", "task_queue", "task_get"}
SKIPPED_DIRS = {"tests", "migrations", "node_modules", "static", "templates"}


def named_tasks_in(source, path="<source>"):
    """(where, name) for each call of a queueing function whose first argument is a string literal."""
    found = []
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        first = node.args[0]
        if called in QUEUEING_FUNCTIONS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.append((f"{path}:{node.lineno}", first.value))
    return found


def project_sources():
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and "venv" not in d and d not in SKIPPED_DIRS]
        for name in files:
            if name.endswith(".py") and not name.startswith("test_") and name != "conftest.py":
                yield Path(folder) / name


def test_the_scan_finds_calls_by_any_spelling():
    source = (
        "from concierge import tasks\n"
        "enqueue_on_commit('a.tasks.one', 1)\n"
        "tasks.enqueue_on_commit('a.tasks.two', 2)\n"
        "task_queue('a.tasks.three', 3)\n"
        "enqueue_on_commit(NAME, 4)\n"  # not a literal: not checked
        "something_else('a.tasks.four')\n"
    )

    assert [name for _, name in named_tasks_in(source)] == ["a.tasks.one", "a.tasks.two", "a.tasks.three"]


def test_every_task_named_in_the_code_is_a_registered_celery_task():
    named = [
        hit
        for path in project_sources()
        for hit in named_tasks_in(path.read_text(encoding="utf-8"), path.relative_to(ROOT))
    ]
    app.loader.import_default_modules()  # as a worker does at start

    assert named, "the scan found no task names at all: is it looking in the right place?"
    unknown = [f"{where}: {name}" for where, name in named if name not in app.tasks]
    assert not unknown, "no Celery task is registered under these names:\n" + "\n".join(unknown)


def test_every_task_the_clock_runs_is_a_registered_celery_task():
    app.loader.import_default_modules()

    unknown = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] not in app.tasks]
    assert not unknown


def test_a_web_process_that_imported_no_tasks_module_still_finds_a_task_by_name():
    # Services no longer import tasks, so in a web process nothing has registered them yet.
    code = (
        "import django, sys; django.setup()\n"
        "assert 'notifications.tasks' not in sys.modules, 'imported already'\n"
        "from concierge.tasks import task_get\n"
        "print(task_get('notifications.tasks.message_deliver').name)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "concierge.settings.test"}

    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "notifications.tasks.message_deliver"


@pytest.fixture
def queued(monkeypatch):
    """The argument lists a real task was queued with (the task itself does not run)."""
    calls = []
    task = task_get("notifications.tasks.messages_dispatch_due")
    monkeypatch.setattr(task, "apply_async", lambda args=(), **options: calls.append(tuple(args)))
    return calls


@pytest.mark.django_db(transaction=True)
def test_a_commit_queues_the_task_once_after_it_commits(queued):
    with transaction.atomic():
        enqueue_on_commit("notifications.tasks.messages_dispatch_due", 7, "x")
        assert queued == []  # not before the commit

    assert queued == [(7, "x")]


@pytest.mark.django_db(transaction=True)
def test_once_queues_a_task_asked_for_again_in_one_transaction_once(queued):
    name = "notifications.tasks.messages_dispatch_due"
    with transaction.atomic():
        for _ in range(3):
            enqueue_on_commit(name, once=True)
        with transaction.atomic():  # a savepoint inside: still the same transaction
            enqueue_on_commit(name, once=True)
        enqueue_on_commit(name, 5, once=True)  # other arguments: another task
    with transaction.atomic():
        try:
            with transaction.atomic():
                enqueue_on_commit(name, once=True)
                raise RuntimeError("rolled back with its savepoint")
        except RuntimeError:
            pass
        enqueue_on_commit(name, once=True)  # not lost because the rolled-back one was there first

    assert queued == [(), (5,), ()]


@pytest.mark.django_db(transaction=True)
def test_a_rollback_queues_nothing(queued):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit("notifications.tasks.messages_dispatch_due", 8)
        raise RuntimeError("rolled back")
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint rolled back inside a transaction that commits
                enqueue_on_commit("notifications.tasks.messages_dispatch_due", 9)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass

    assert queued == []


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_cannot_be_reached_is_logged_not_raised(monkeypatch, caplog):
    def broker_down(*args, **kwargs):
        raise BrokerOperationalError("connection refused")

    monkeypatch.setattr(task_get("notifications.tasks.messages_dispatch_due"), "apply_async", broker_down)

    with transaction.atomic():
        enqueue_on_commit("notifications.tasks.messages_dispatch_due", 10)

    assert "could not queue notifications.tasks.messages_dispatch_due" in caplog.text
