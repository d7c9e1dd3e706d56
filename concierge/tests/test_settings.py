"""Production settings refuse to start without their secrets and pass `check --deploy` cleanly."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "concierge.settings.production",
    "SECRET_KEY": "p" * 10 + "9x!Qz7#Lk2@Vb8$Rt5^Nm4&Hj6*Gf3(Ds1)Aw0_Ec" + "K" * 10,
    "ALLOWED_HOSTS": "clinic.example.com",
    "SITE_URL": "https://clinic.example.com",
    "DATABASE_URL": "postgres://app:secret@db.internal:5432/concierge",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
    "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
    "TWILIO_AUTH_TOKEN": "twilio-token",
    "TWILIO_FROM_NUMBER": "+15005550006",
    "ONCALL_CLINICIAN_EMAIL": "oncall@clinic.example.com",
    "PAYMENTS_STAFF_EMAIL": "billing@clinic.example.com",
}


def run_manage(env, *args):
    # Start from this environment minus what the test run sets for itself.
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_check_deploy_has_zero_warnings():
    result = run_manage(PRODUCTION_ENV, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_each_secret():
    for name in (
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "STRIPE_SECRET_KEY",
        "TWILIO_AUTH_TOKEN",
        "EMAIL_URL",
        "ONCALL_CLINICIAN_EMAIL",
    ):
        env = {k: v for k, v in PRODUCTION_ENV.items() if k != name}

        result = run_manage(env, "check")

        assert result.returncode != 0, f"started without {name}"
        assert "ImproperlyConfigured" in result.stderr
        assert name in result.stderr


def test_production_refuses_a_weak_secret_key_and_sqlite():
    weak = run_manage({**PRODUCTION_ENV, "SECRET_KEY": "short"}, "check")
    sqlite = run_manage({**PRODUCTION_ENV, "DATABASE_URL": "sqlite:////tmp/x.sqlite3"}, "check")

    assert weak.returncode != 0 and "SECRET_KEY must be at least 50" in weak.stderr
    assert sqlite.returncode != 0 and "PostgreSQL" in sqlite.stderr


def test_production_forces_the_real_gateways():
    result = run_manage(
        {**PRODUCTION_ENV, "PAYMENT_GATEWAY": "fake", "SMS_BACKEND": "console"},
        "shell",
        "--verbosity=0",
        "-c",
        "from django.conf import settings; print(settings.PAYMENT_GATEWAY, settings.SMS_BACKEND, settings.DEBUG)",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["stripe", "twilio", "False"]


def test_production_refuses_every_published_key():
    """The development key, the tests' key, and anything shown in .env.example, the README or docs/."""
    from concierge.settings.known_keys import DEV_SECRET_KEY, TEST_SECRET_KEY, published_keys

    example = "Zx9!" * 13  # a key someone copied from the docs: published once written there
    (ROOT / "docs" / "_published_key_probe.md").write_text(f"SECRET_KEY={example}\n")
    try:
        assert any(example in key for key in published_keys())
        for key in (DEV_SECRET_KEY, TEST_SECRET_KEY, example, "django-insecure-" + "k3y" * 20):
            result = run_manage({**PRODUCTION_ENV, "SECRET_KEY": key}, "check")
            assert result.returncode != 0, f"started with {key[:12]}…"
            assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr
        url_key = run_manage({**PRODUCTION_ENV, "URL_ID_KEY": DEV_SECRET_KEY}, "check")
        assert url_key.returncode != 0 and "URL_ID_KEY" in url_key.stderr
    finally:
        (ROOT / "docs" / "_published_key_probe.md").unlink()
    assert run_manage(PRODUCTION_ENV, "check").returncode == 0


def test_the_web_process_loads_every_view_at_start_and_freezes_what_it_built():
    """gunicorn imports concierge.wsgi once per worker: the views are imported then (not in the
    first request) and the objects built so far are kept out of every later full collection."""
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    script = (
        "import gc, sys, concierge.wsgi; "
        "print(gc.get_freeze_count(), 'booking.views.book' in sys.modules, 'staff.admin' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    frozen, views_loaded, admin_loaded = result.stdout.split()
    assert int(frozen) > 50_000 and views_loaded == admin_loaded == "True"
