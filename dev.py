#!/usr/bin/env python3
"""Set up and run ConciergeMD with nothing but Python 3.11+.

    python3 dev.py run     virtualenv, requirements, migrate, demo data, then the web server and
                           the background worker with its clock on http://127.0.0.1:8000
    python3 dev.py test    virtualenv, test requirements, then the whole test suite
    python3 dev.py lint    ruff, the layer contract (import-linter) and mypy over the code

`test` uses PostgreSQL from DATABASE_URL when it is set. Otherwise, where PostgreSQL's server
programs are installed, it starts a throwaway cluster for the run; with neither, it runs on
SQLite and reports the PostgreSQL-only tests as skipped. Redis (REDIS_URL, or a throwaway
`redis-server`) and Chromium (/usr/bin/chromium) are found the same way.

Only the standard library is used here: this file runs before the virtualenv exists.
"""

import glob
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCAL = ROOT / ".local"
PY = VENV / "bin" / "python"
# The apps, bottom layer first (docs/architecture.md; .importlinter checks the order).
APPS = ["concierge", "notifications", "roster", "patients", "payments", "booking", "nurses", "portal", "staff"]


def say(message):
    print(f"==> {message}", flush=True)


def ensure_venv(requirements):
    if sys.version_info < (3, 11):
        sys.exit("ConciergeMD needs Python 3.11 or newer (this is %s)." % sys.version.split()[0])
    if not PY.exists():
        say("creating the virtual environment in .venv")
        try:
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        except subprocess.CalledProcessError:
            shutil.rmtree(VENV, ignore_errors=True)
            sys.exit(
                "Could not create a virtual environment. On Debian or Ubuntu install it with:\n"
                "    sudo apt-get install python3-venv"
            )
    digest = hashlib.sha256()
    for name in ("requirements.txt", requirements):
        digest.update((ROOT / name).read_bytes())
    stamp = VENV / f".installed-{Path(requirements).stem}-{digest.hexdigest()[:16]}"
    if not stamp.exists():
        say(f"installing {requirements} (about 30 s the first time)")
        subprocess.run(
            [str(PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(ROOT / requirements)],
            check=True,
        )
        for old in VENV.glob(f".installed-{Path(requirements).stem}-*"):
            old.unlink()
        stamp.touch()


def manage(*args, env=None):
    subprocess.run([str(PY), "manage.py", *args], cwd=ROOT, check=True, env=env)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- run ------------------------------------------------------------------------------------

READY = """
==> ready: http://127.0.0.1:8000  (Ctrl-C stops everything)

    Demo logins, password demo-pass-2026 (the code page shows the code for staff and nurses):
      staff      admin@demo.conciergemd.example      (emails and texts: /outbox/)
      clinician  clinician@demo.conciergemd.example
      nurse      nurse@demo.conciergemd.example      (Maya Chen, today's visits)
      patient    patient@demo.conciergemd.example    (Alex Morgan, cleared, booked)
      patient    patient4@demo.conciergemd.example   (Taylor Brooks, a visit today)
    All logins: README.md. The worker's log: .local/worker.log.
"""


def wait_for_port(port, procs, timeout=60):
    """Until the web server answers (or a process died), so that READY is the last thing printed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and all(p.poll() is None for p in procs):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            time.sleep(0.5)  # runserver prints its banner just after it starts listening
            return
        except OSError:
            time.sleep(0.3)


def cmd_run(args):
    ensure_venv("requirements.txt")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="concierge.settings.dev")
    (LOCAL / "broker" / "processed").mkdir(parents=True, exist_ok=True)
    say("migrating the local database (.local/db.sqlite3)")
    manage("migrate", "--noinput", env=env)
    say("loading the demo data")
    manage("seed_demo", env=env)

    procs = []
    try:
        # The worker's banner and task lines go to a file, so the console ends with the address
        # and the logins (the worker's log: .local/worker.log; emails: /outbox/).
        worker_log = (LOCAL / "worker.log").open("ab")
        say("starting the background worker and its clock (Celery, local folder broker; log in .local/worker.log)")
        procs.append(
            subprocess.Popen(
                [
                    str(PY),
                    "-m",
                    "celery",
                    "-A",
                    "concierge",
                    "worker",
                    "--beat",
                    "--pool=solo",
                    "--loglevel=INFO",
                    "--without-mingle",
                    "--without-gossip",
                    "--schedule",
                    str(LOCAL / "celerybeat-schedule"),
                ],
                cwd=ROOT,
                env=env,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
            )
        )
        say("starting the web server")
        procs.append(
            subprocess.Popen(
                [str(PY), "manage.py", "runserver", "127.0.0.1:8000", *args],
                cwd=ROOT,
                env=env,
            )
        )
        wait_for_port(8000, procs)
        print(READY, flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        sys.exit("a process stopped; shutting down the rest")
    except KeyboardInterrupt:
        pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


# --- test -----------------------------------------------------------------------------------


class Throwaway:
    """Servers started for one test run and removed after it."""

    def __init__(self):
        self.stops = []
        self.tmp = Path(tempfile.mkdtemp(prefix="concierge-test-"))

    def postgres(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        initdb = Path(found[-1]) if found else shutil.which("initdb")
        if not initdb:
            return None
        bindir = Path(initdb).parent
        data, port = self.tmp / "pg", free_port()
        as_postgres = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            as_postgres = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.tmp, "postgres")
        say(f"starting a throwaway PostgreSQL on port {port}")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run(
            [
                *as_postgres,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            **quiet,
        )
        subprocess.run(
            [
                *as_postgres,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.tmp / "pg.log"),
                "-w",
                "-o",
                f"-p {port} -k {self.tmp} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                "start",
            ],
            check=True,
            **quiet,
        )
        self.stops.append([*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
        return f"postgres://postgres@127.0.0.1:{port}/postgres"

    def redis(self):
        server = shutil.which("redis-server")
        if not server:
            return None
        port = free_port()
        say(f"starting a throwaway Redis on port {port}")
        proc = subprocess.Popen(
            [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        self.stops.append(proc)
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        return f"redis://127.0.0.1:{port}/0"

    def stop(self):
        for stop in reversed(self.stops):
            if isinstance(stop, subprocess.Popen):
                stop.terminate()
                stop.wait(timeout=10)
            else:
                subprocess.run(stop, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.tmp, ignore_errors=True)


def cmd_test(args):
    ensure_venv("requirements-dev.txt")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="concierge.settings.test")
    servers = Throwaway()
    try:
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = servers.postgres() or ""
            if not env["DATABASE_URL"]:
                env.pop("DATABASE_URL")
                say("no PostgreSQL found: running on SQLite; PostgreSQL-only tests will be skipped")
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = servers.redis() or ""
            if not env["REDIS_URL"]:
                env.pop("REDIS_URL")
                say("no Redis found: the Celery worker integration tests will be skipped")
        if not Path(env.get("CHROMIUM", "/usr/bin/chromium")).exists():
            say("no Chromium at /usr/bin/chromium: the browser tests will be skipped")
        say("running the test suite")
        rc = subprocess.run([str(PY), "-m", "pytest", *args], cwd=ROOT, env=env).returncode
    finally:
        servers.stop()
    sys.exit(rc)


def cmd_lint(args):
    """ruff (style and bugs), import-linter (imports run down the layers), mypy (typed services)."""
    ensure_venv("requirements-dev.txt")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="concierge.settings.test")
    checks = [
        ("ruff", [str(VENV / "bin" / "ruff"), "check", ".", *args]),
        ("import-linter: the layers", [str(VENV / "bin" / "lint-imports")]),
        ("mypy", [str(VENV / "bin" / "mypy"), *APPS]),
    ]
    failed = []
    for name, command in checks:
        say(name)
        if subprocess.run(command, cwd=ROOT, env=env).returncode != 0:
            failed.append(name)
    if failed:
        sys.exit(f"lint failed: {', '.join(failed)}")


COMMANDS = {"run": cmd_run, "test": cmd_test, "lint": cmd_lint}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](sys.argv[2:])
