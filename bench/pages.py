#!/usr/bin/env python
"""Benchmark: the pages patients, nurses and schedulers open, served as production serves them.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/pages.py
    ... bench/pages.py --baseline main        # the same run against another commit, interleaved

It builds a clinic-sized data set (bench/clinic.py: 54 nurses, 1,005 patients, ~10,000 visits,
payments and 70,000 outbox rows) in a throwaway database (bench_<name>, created and dropped here,
never the database DATABASE_URL names), serves it with gunicorn (2 sync workers, the production
settings: bench/settings.py) on loopback, and drives each page with wrk (or, without wrk, a
Python load generator) for a few interleaved rounds. Each page's requests per second are divided
by those of a bare view (no database, no template) measured in the same round; the medians
over the rounds are printed, one line per page:

    page=days share=0.27 p50_ms=41.0 p99_ms=120.3 queries=9

Then a patient's 14-day browse (the days page, then each day's times, as the browser gets them:
the days page holds them, so one request; a tree whose days page links each day to its own page
fetches those too), the same walk fetching all fourteen one-day pages (15 requests: what the
browse cost before the days page held the times), each one request after another with nothing
cached at the start, and the memory of each gunicorn worker afterwards:

    browse_14_days_ms=21.4 statements=9 requests=1
    one_day_pages_15_ms=190.2 statements=121 requests=15
    worker_rss_mb=88.1

With --baseline REF the same pages are served by a second gunicorn from a checkout of REF
(a git worktree in a temporary folder) over the same database, interleaved with this one in
every round, and every line is printed for both (tree=current / tree=baseline).

Redis: the current tree uses the database REDIS_URL names, the baseline the next one, so that
neither reads what the other kept (the day's board is drawn once a minute: shared, the tree
measured first in each round drew it for both). The schedule cache's keys ("s:*") in a tree's
database are deleted before each of its browses, so that each browse starts with nothing cached.
"""

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concierge.settings.test")

import django  # noqa: E402

django.setup()

import secrets  # noqa: E402

from django.conf import settings as _settings  # noqa: E402

# Production refuses the tests' published key (concierge/settings/known_keys.py): this run and its
# servers share a throwaway one, so the sessions and opaque ids made here are the servers' too.
_settings.SECRET_KEY = secrets.token_urlsafe(48)

import logging  # noqa: E402

logging.disable(logging.INFO)  # the demo's and the eager tasks' chatter while the data is built

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from bench import clinic  # noqa: E402

PORTS = {"current": 8271, "baseline": 8272}
SERVICE = "home-infusion"


@dataclass
class Page:
    name: str
    path: str
    who: str | None  # the login whose session cookie is sent, or None


@dataclass
class Tree:
    name: str
    root: Path
    port: int
    process: subprocess.Popen | None = None
    static_root: Path | None = None
    results: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    statements: dict[str, int] = field(default_factory=dict)


QUIET_SECONDS = 1.5  # between two measurements (see main)


def pages() -> list[Page]:
    day = clinic.patient_day()
    return [
        Page("hello", "/bench/hello/", None),
        # The same bare view behind a patient's session: what any signed-in page pays before it
        # reads anything of its own (the session, the signed-in user, the middleware that uses them).
        Page("signed_in", "/bench/hello/", clinic.PATIENT),
        Page("home", "/", None),
        Page("coverage", "/coverage/?zip_code=10018", None),
        Page("dashboard", "/dashboard/", clinic.PATIENT),
        Page("days", f"/book/{SERVICE}/", clinic.PATIENT),
        Page("times", f"/book/{SERVICE}/{day.isoformat()}/", clinic.PATIENT),
        Page("nurse_today", "/nurse/", clinic.NURSE),
        Page("board", f"/admin/booking/visit/board/?date={clinic.patient_day(0).isoformat()}", clinic.ADMIN),
        Page("visit_list", "/admin/booking/visit/", clinic.ADMIN),  # the admin's list of every visit
        Page("outbox_list", "/admin/notifications/message/", clinic.ADMIN),  # ~70,000 messages
    ]


# --- the servers -----------------------------------------------------------------------------


def server_env(tree: Tree, database_name: str) -> dict[str, str]:
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{database_name}"
    shim = Path(tempfile.gettempdir()) / "concierge-bench-shim"
    shim.mkdir(exist_ok=True)
    link = shim / "bench"
    if not link.exists():
        link.symlink_to(REPO / "bench")
    return {
        **os.environ,
        # bench.* always from this checkout; the apps from the tree under test.
        "PYTHONPATH": f"{tree.root}:{shim}",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": url,
        "REDIS_URL": redis_url(tree),
        # The sessions are made here (cookies()), so the servers must sign with the same key.
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{tree.port}",
        "EMAIL_URL": "consolemail://",
        "ONCALL_CLINICIAN_EMAIL": "oncall@example.com",
        "PAYMENTS_STAFF_EMAIL": "payments@example.com",
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        "TWILIO_ACCOUNT_SID": "ACbench",
        "TWILIO_AUTH_TOKEN": "bench",
        "TWILIO_FROM_NUMBER": "+15005550006",
        "BENCH_STATIC_ROOT": str(tree.static_root),
    }


def redis_url(tree: Tree) -> str:
    """REDIS_URL for the current tree; the database after it for the baseline."""
    url = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/10"))
    number = int(url.path.strip("/") or 0) + (0 if tree.name == "current" else 1)
    return urlunsplit(url._replace(path=f"/{number}"))


def start(tree: Tree, database_name: str) -> None:
    tree.static_root = Path(tempfile.mkdtemp(prefix=f"bench-static-{tree.name}-"))
    env = server_env(tree, database_name)
    python = str(REPO / ".venv" / "bin" / "python")
    subprocess.run([python, "-m", "django", "collectstatic", "--noinput", "-v0"], cwd=tree.root, env=env, check=True)
    tree.process = subprocess.Popen(
        [
            str(REPO / ".venv" / "bin" / "gunicorn"),
            "concierge.wsgi",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{tree.port}",
            "--log-level",
            "warning",
        ],
        cwd=tree.root,
        env=env,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            status, _, _ = get(tree.port, "/bench/hello/")
            if status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn for {tree.name} did not start")


def stop(tree: Tree) -> None:
    if tree.process is not None:
        os.killpg(tree.process.pid, signal.SIGTERM)
        tree.process.wait(timeout=30)
    if tree.static_root is not None:
        shutil.rmtree(tree.static_root, ignore_errors=True)


def worker_rss_mb(tree: Tree) -> list[float]:
    if tree.process is None:
        return []
    master = tree.process.pid
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master}$", text, re.M):
            rss = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
            if rss:
                sizes.append(int(rss.group(1)) / 1024)
    return sizes


# --- the requests ----------------------------------------------------------------------------


def cookies() -> dict[str, str]:
    """A logged-in, two-step-verified session for each login the pages need, with the CSRF
    cookie a browser holds from the login page on (without it, every page would make a new CSRF
    secret and answer with a cookie: a browser's first visit, every time)."""
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.utils.crypto import get_random_string

    from concierge.models import User
    from concierge.testing import VerifiedClient

    jar = {}
    for email in (clinic.PATIENT, clinic.NURSE, clinic.ADMIN):
        client = VerifiedClient()
        client.force_login(User.objects.get(email=email))
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        csrf = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
        jar[email] = f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}"
    return jar


def headers(cookie: str | None) -> dict[str, str]:
    h = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
    if cookie:
        h["Cookie"] = cookie
    return h


def get(port: int, path: str, cookie: str | None = None, conn: http.client.HTTPConnection | None = None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=headers(cookie))
        response = conn.getresponse()
        body = response.read()
        return response.status, int(response.getheader("X-Bench-Statements") or 0), body
    finally:
        if own:
            conn.close()


def load_wrk(port: int, page: Page, cookie: str | None, seconds: int, connections: int) -> dict[str, float]:
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    for name, value in headers(cookie).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, f"http://127.0.0.1:{port}{page.path}"], capture_output=True, text=True, check=True)
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non_2xx:
        raise RuntimeError(f"{page.name}: {non_2xx.group(1)} error responses\n{text}")

    def percentile(p):
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {"rps": rps, "p50": percentile(50), "p99": percentile(99)}


def load_python(port: int, page: Page, cookie: str | None, seconds: int, connections: int) -> dict[str, float]:
    """The same measure as wrk, from Python threads (keep-alive connections), when wrk is missing."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while (started := time.perf_counter()) < stop_at:
            status, _, _ = get(port, page.path, cookie, conn)
            if status >= 400:
                raise RuntimeError(f"{page.name}: HTTP {status}")
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50": latencies[len(latencies) // 2],
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def browse(tree: Tree, cookie: str, *, one_day_pages: bool = False) -> tuple[float, int, int]:
    """A patient's 14-day browse: the days page, then the times of each of the 14 days.

    As the patient's browser does it: a day whose times the days page holds opens in place
    (no request); a day linked to its own page is fetched. With `one_day_pages`, all fourteen
    one-day pages are fetched whatever the days page holds (the walk measured before the days
    page held the times, and what links to the one-day pages still cost). Returns milliseconds,
    statements and requests.
    """
    first = clinic.patient_day(0)
    days_path = f"/book/{SERVICE}/"
    days = [(first + timedelta(days=i)).isoformat() for i in range(14)]
    conn = http.client.HTTPConnection("127.0.0.1", tree.port, timeout=60)
    statements = requests = 0

    def fetch(path: str) -> str:
        nonlocal statements, requests
        status, count, body = get(tree.port, path, cookie, conn)
        if status != 200:
            raise RuntimeError(f"browse {path}: HTTP {status}")
        statements += count
        requests += 1
        return body.decode()

    started = time.perf_counter()
    page = fetch(days_path)
    for day in days:
        day_path = f"{days_path}{day}/"
        if one_day_pages or f'href="{day_path}"' in page:
            fetch(day_path)
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    return elapsed, statements, requests


def schedule_cache_empty(tree: Tree) -> None:
    """Forget every cached search of the tree (the schedule cache's keys only: "s:" is its key prefix)."""
    import redis

    client = redis.Redis.from_url(redis_url(tree))
    keys = list(client.scan_iter("s:*"))
    if keys:
        client.delete(*keys)


# --- the run ---------------------------------------------------------------------------------


def checkout(ref: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), ref], cwd=REPO, check=True, capture_output=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20, help="wrk duration per page and round (default 20)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--browses", type=int, default=5, help="14-day browses per tree (default 5)")
    parser.add_argument("--baseline", help="a git ref to measure in the same run, interleaved")
    parser.add_argument("--each", action="store_true", help="also print every round's figures")
    parser.add_argument("--only", help="comma-separated page names (default: all)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/pages.py serves the pages as production does: set DATABASE_URL to PostgreSQL.")
    load = load_wrk if shutil.which("wrk") else load_python

    old_name = connection.settings_dict["NAME"]
    # Not test_<name>: the test suite may be using that one at the same time.
    connection.settings_dict["TEST"]["NAME"] = f"bench_{old_name}"
    trees = [Tree("current", REPO, PORTS["current"])]
    baseline_root = None
    if args.baseline:
        baseline_root = checkout(args.baseline)
        trees.append(Tree("baseline", baseline_root, PORTS["baseline"]))
    database_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    try:
        started = time.perf_counter()
        counts = clinic.build()
        print(
            f"# {connection.vendor}, "
            + ", ".join(f"{k}={v}" for k, v in counts.items())
            + f" (built in {time.perf_counter() - started:.0f} s); {load.__name__[5:]}, "
            f"{args.connections} connections, {args.seconds} s x {args.rounds} rounds",
            flush=True,
        )
        jar = cookies()
        # A clinic's database is vacuumed and analysed; a freshly filled one would have the
        # autovacuum working through it (and plans without statistics) during the measurements.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        connection.close()
        chosen = [p for p in pages() if not args.only or p.name == "hello" or p.name in args.only.split(",")]
        for tree in trees:
            start(tree, database_name)
            for page in chosen:  # warm up, and count each page's statements
                cookie = jar.get(page.who) if page.who else None
                get(tree.port, page.path, cookie)
                status, tree.statements[page.name], _ = get(tree.port, page.path, cookie)
                if status != 200:
                    raise RuntimeError(f"{tree.name} {page.name}: HTTP {status}")
        for _ in range(args.rounds):
            for page in chosen:
                for tree in trees:
                    cookie = jar.get(page.who) if page.who else None
                    tree.results.setdefault(page.name, []).append(
                        load(tree.port, page, cookie, args.seconds, args.connections)
                    )
                    # When wrk stops, the workers still owe the requests queued in the listen
                    # backlog (up to 16 of the page just measured): let them finish, or the next
                    # page's first requests wait behind them and its p99 measures this page.
                    time.sleep(QUIET_SECONDS)
        for tree in trees:
            prefix = f"tree={tree.name} " if args.baseline else ""
            for page in chosen:
                runs = tree.results[page.name]
                shares = [r["rps"] / h["rps"] for r, h in zip(runs, tree.results["hello"], strict=True)]
                print(
                    f"{prefix}page={page.name} share={statistics.median(shares):.3f} "
                    f"rps={statistics.median(r['rps'] for r in runs):.0f} "
                    f"p50_ms={statistics.median(r['p50'] for r in runs):.1f} "
                    f"p99_ms={statistics.median(r['p99'] for r in runs):.1f} "
                    f"queries={tree.statements[page.name]}",
                    flush=True,
                )
                if args.each:
                    rounds = " ".join(f"{r['rps']:.0f}/{r['p50']:.0f}/{r['p99']:.0f}" for r in runs)
                    print(f"{prefix}  each round rps/p50_ms/p99_ms: {rounds}", flush=True)
        browses: dict[tuple[str, bool], list[tuple[float, int, int]]] = {}
        for _ in range(args.browses):
            for tree in trees:
                for one_day_pages in (False, True):
                    schedule_cache_empty(tree)
                    run = browse(tree, jar[clinic.PATIENT], one_day_pages=one_day_pages)
                    browses.setdefault((tree.name, one_day_pages), []).append(run)
        for tree in trees:
            prefix = f"tree={tree.name} " if args.baseline else ""
            for one_day_pages, label in ((False, "browse_14_days_ms"), (True, "one_day_pages_15_ms")):
                runs = browses[(tree.name, one_day_pages)]
                print(
                    f"{prefix}{label}={statistics.median(r[0] for r in runs):.1f} "
                    f"statements={statistics.median(r[1] for r in runs):.0f} "
                    f"requests={statistics.median(r[2] for r in runs):.0f}",
                    flush=True,
                )
            rss = worker_rss_mb(tree)
            print(f"{prefix}worker_rss_mb={max(rss):.1f} workers={len(rss)}", flush=True)
    finally:
        for tree in trees:
            stop(tree)
        connection.creation.destroy_test_db(old_name, verbosity=0)
        if baseline_root is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(baseline_root)], cwd=REPO, check=False)


if __name__ == "__main__":
    main()
