"""Keys that are published, and so can never be production's.

The development and test settings carry fixed keys in the repository; `.env.example`, the README
and docs/ show values to copy. Anyone can read them, so a production whose SECRET_KEY (or
URL_ID_KEY) is one of them signs sessions, password-reset links and opaque ids with a key the
world knows. `published_keys` gathers them, and production.py refuses to start with any of them.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The local run's default (dev.py) and the tests' key (test.py): one place each, imported there.
DEV_SECRET_KEY = "local-development-only-key-not-for-production-use-0123456789"  # noqa: S105
TEST_SECRET_KEY = "test-only-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"  # noqa: S105

# Files that ship with the code and that anyone may read; a value found in them is public.
PUBLISHED_FILES = (".env.example", "README.md", "docs/*.md", "concierge/settings/*.py")

# Django's own generated placeholder prefix (startproject), never meant for production.
_INSECURE_PREFIXES = ("django-insecure-",)
_TOKEN = re.compile(r"[A-Za-z0-9!@#$%^&*()_+=\-\[\]{}:;,.?/~|<>]{20,}")


def published_keys(root: Path = ROOT) -> set[str]:
    """Every key-like string (20+ characters without spaces) in the published files."""
    found = {DEV_SECRET_KEY, TEST_SECRET_KEY}
    for pattern in PUBLISHED_FILES:
        for path in sorted(root.glob(pattern)):
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                continue
            found.update(match.strip("\"'`") for match in _TOKEN.findall(text))
    return found


def key_problem(value: str, *, name: str = "SECRET_KEY", root: Path = ROOT) -> str | None:
    """Why `value` cannot be production's key, or None."""
    if len(value) < 50 or len(set(value)) < 5:
        return f"{name} must be at least 50 random characters."
    if value.startswith(_INSECURE_PREFIXES):
        return f"{name} is a placeholder Django generated: make a new one."
    if any(value in key for key in published_keys(root)):
        return (
            f"{name} is published (the development or test key, or a value from .env.example, the README "
            "or docs/): make a new one."
        )
    return None
