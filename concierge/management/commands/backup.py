"""Back up the database, and restore a backup into an empty one (docs/operations.md, "Backups").

    manage.py backup dump FILE                     pg_dump's custom format (compressed, one file)
    manage.py backup restore FILE --into URL       pg_restore into an empty database
    manage.py backup check FILE                    pg_restore --list: the file is a readable dump

The dump holds every table (patients, visits, charts, payments, the outbox, the audit log): it
is PHI, so it is written with mode 0600 and belongs only in the encrypted backup store. The
PostgreSQL client programs come from PG_BIN (default: PATH, then /usr/lib/postgresql/15/bin).
"""

import os
import shutil
import subprocess
from pathlib import Path

import environ
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

FALLBACK_BIN = "/usr/lib/postgresql/15/bin"


def program(name: str) -> str:
    folder = os.environ.get("PG_BIN", "")
    if folder:
        return str(Path(folder) / name)
    return shutil.which(name) or str(Path(FALLBACK_BIN) / name)


def connection_env(db: dict) -> tuple[list[str], dict[str, str]]:
    """Host, port and user as arguments; the password through the environment (never argv)."""
    args = ["--host", str(db.get("HOST") or "localhost"), "--username", str(db.get("USER") or "")]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    return args, env


def postgres_settings(url: str | None = None) -> dict:
    db = environ.Env.db_url_config(url) if url else settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        raise CommandError("Backups are for PostgreSQL (production); the local SQLite file can simply be copied.")
    return db


class Command(BaseCommand):
    help = "Dump the database to a file, check a dump, or restore one into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["dump", "restore", "check"])
        parser.add_argument("file")
        parser.add_argument("--into", help="restore: the database URL to restore into (must be empty)")

    def handle(self, *args, action, file, into=None, **options):
        path = Path(file)
        if action == "dump":
            self.dump(path)
        elif action == "check":
            self.run([program("pg_restore"), "--list", str(path)], os.environ.copy(), quiet=True)
            self.stdout.write(self.style.SUCCESS(f"{path} is a readable dump."))
        else:
            if not into:
                raise CommandError("restore needs --into DATABASE_URL (an empty database; never the live one).")
            self.restore(path, postgres_settings(into))

    def dump(self, path: Path) -> None:
        db = postgres_settings()
        args, env = connection_env(db)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        os.chmod(path, 0o600)
        self.run([program("pg_dump"), *args, "--format=custom", "--no-owner", "--file", str(path), db["NAME"]], env)
        self.stdout.write(self.style.SUCCESS(f"Dumped {db['NAME']} to {path} ({path.stat().st_size} bytes)."))

    def restore(self, path: Path, db: dict) -> None:
        args, env = connection_env(db)
        self.run(
            [program("pg_restore"), *args, "--no-owner", "--exit-on-error", "--dbname", db["NAME"], str(path)], env
        )
        self.stdout.write(self.style.SUCCESS(f"Restored {path} into {db['NAME']}."))

    def run(self, command: list[str], env: dict[str, str], quiet: bool = False) -> None:
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 (our argv)
        if result.returncode != 0:
            raise CommandError(f"{Path(command[0]).name} failed: {result.stderr.strip()[:500]}")
