"""Settings shared by every environment, read from the environment (12-factor).

`dev` (the local run), `test` and `production` build on this module. Every variable is listed,
with its meaning, in `.env.example` and docs/operations.md.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
LOCAL_DIR = BASE_DIR / ".local"  # the local run's SQLite file, broker folder and beat schedule

env = environ.Env()
# A developer's own overrides; never committed, never read in production.
if (BASE_DIR / ".env").exists():
    env.read_env(str(BASE_DIR / ".env"))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
# The key of the opaque ids in patients' and nurses' URLs (concierge/opaque.py); empty: derived
# from SECRET_KEY. Set it to rotate SECRET_KEY without breaking links already emailed.
URL_ID_KEY = env("URL_ID_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The public address of the site, for links in emails and text messages.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "concierge",  # first: its templates and the custom user come before contrib's
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "concierge.section_names.Axes",  # third-party apps under names staff understand (section_names.py)
    "django_otp",
    "concierge.section_names.OtpTotp",
    "concierge.section_names.OtpStatic",
    "phonenumber_field",
    "localflavor",
    "concierge.section_names.Auditlog",  # the audit trail (concierge/audit.py)
    "notifications",
    "roster",
    "patients",
    "payments",
    "booking",
    "nurses",
    "portal",
    "staff",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "concierge.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sees every response below it (two-step, idle timeout, lockout pages included).
    "concierge.middleware.NoStoreMiddleware",
    "concierge.middleware.TwoStepDeviceMiddleware",  # django-otp's OTPMiddleware
    "concierge.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "concierge.middleware.IdleTimeoutMiddleware",
    "concierge.middleware.TwoFactorMiddleware",
    "concierge.middleware.ClinicTimeZoneMiddleware",
    # The audit trail: who made each change (django-auditlog), and who opened a patient's record.
    "auditlog.middleware.AuditlogMiddleware",
    "concierge.audit.PatientRecordViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "concierge.middleware.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "concierge.middleware.SecurityHeadersMiddleware",
    # Last, as django-axes asks: it turns a lockout into the locked-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "concierge.urls"
WSGI_APPLICATION = "concierge.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "csp.context_processors.nonce",
                "concierge.context_processors.clinic",
                "roster.context_processors.oncall",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Default: an embedded SQLite file so the local run needs nothing but Python. Tests, CI and
# production use PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{LOCAL_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    LOCAL_DIR.mkdir(exist_ok=True)
    # The local run has a web process and a Celery worker writing to one file: wait for the
    # lock instead of failing, and take the write lock at BEGIN so two writers never deadlock.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # Persistent connections measured eight times faster here (see RECIPES.md).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users and login ------------------------------------------------------------------------
AUTH_USER_MODEL = "concierge.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: a locked-out email + address pair is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that lets the login form say "this account is closed" (concierge/backends.py).
    "concierge.backends.EmailLoginBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home-for-user"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2  # a reset link is good for two hours
# A sign-up's confirmation link (patients.SignUpRequest) is good this long; then the row is deleted.
SIGNUP_LINK_HOURS = 48

# --- Language, time ------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# The header switch remembers a visitor's language for a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
# Everything is stored in UTC and shown in the visit's own time zone (from the visit address).
USE_TZ = True
TIME_ZONE = "UTC"
# Staff read times in the clinic's zone, labelled (admin, staff inbox, outbox); patients and
# nurses read each visit's own zone. FORMAT_MODULE_PATH's formats name the zone ("EST").
CLINIC_TIME_ZONE = env("CLINIC_TIME_ZONE", default="America/New_York")
FORMAT_MODULE_PATH = ["concierge.formats"]

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Cache (rate limits, and anything else shared between web processes) -------------------
# Local run and tests: in-process. Production shares Redis between web processes (production.py).
# "schedule": cached searches for free times and the version they are kept under
# (concierge/schedule.py). The version must be the same for every process that writes the
# schedule, the worker included: Redis where there is one; in the local run, without Redis, a
# folder next to the SQLite file that the web process and the worker share.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "schedule": (
        {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": env("REDIS_URL"), "KEY_PREFIX": "s"}
        if env("REDIS_URL", default="")
        else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(LOCAL_DIR / "cache")}
    ),
}
# How long a cached search may be kept at most (the version makes it stale long before, on any
# change; this bounds what a lost version change could cost).
SCHEDULE_CACHE_SECONDS = env.int("SCHEDULE_CACHE_SECONDS", default=15 * 60)
# A patient's dashboard and booking pages kept per process under their state version, the schedule
# version and the minute (concierge/patient_state.py). PostgreSQL only; off: every page drawn afresh.
PATIENT_PAGES_KEPT = env.bool("PATIENT_PAGES_KEPT", default=True)
RATE_LIMITS_ENABLED = True
# Set when a proxy we run puts the client address in X-Forwarded-For.
RATE_LIMIT_TRUST_X_FORWARDED_FOR = env.bool("RATE_LIMIT_TRUST_X_FORWARDED_FOR", default=False)

# --- Lockout after failed logins (django-axes) ---------------------------------------------
# Five wrong passwords for one email from one address lock that pair out for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "concierge.ratelimit.client_address"
AXES_USERNAME_CALLABLE = "concierge.ratelimit.login_identity"
AXES_VERBOSE = False

# --- Two-step login (concierge/two_factor.py) ---------------------------------------------
TWO_FACTOR_ENFORCED = True
OTP_TOTP_ISSUER = "ConciergeMD"

# --- Security headers ------------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12  # an absolute limit; the idle timeout below ends most sessions first
SESSION_IDLE_TIMEOUT_STAFF = env.int("SESSION_IDLE_TIMEOUT_STAFF", default=15 * 60)
SESSION_IDLE_TIMEOUT_PATIENT = env.int("SESSION_IDLE_TIMEOUT_PATIENT", default=30 * 60)
# Strict Content Security Policy: our own origin only, no inline script. Stripe's origins are
# added by the payment page alone.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# --- Email ----------------------------------------------------------------------------------
# EMAIL_URL picks the backend: smtp+tls://user:pass@host:587, consolemail://, or memorymail://.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="ConciergeMD <care@conciergemd.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- The clinic -----------------------------------------------------------------------------
CLINIC_NAME = "ConciergeMD"
CLINIC_PHONE = env("CLINIC_PHONE", default="(888) 555-0142")
CLINIC_PHONE_E164 = env("CLINIC_PHONE_E164", default="+18885550142")

# --- Outside systems, each behind a gateway picked here ----------------------------------
PAYMENT_GATEWAY = env("PAYMENT_GATEWAY", default="fake")  # "stripe" or "fake"
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="whsec_local_fake_gateway_secret")

SMS_BACKEND = env("SMS_BACKEND", default="console")  # "twilio", "console" or "memory"
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER", default="")

# --- Background work ------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The local run: web and worker share a folder instead of a Redis server.
    _broker_dir = LOCAL_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # A task whose worker died unacknowledged is handed out again after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True  # a task killed mid-run goes back to the queue; tasks are idempotent
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(LOCAL_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {}

# --- Logging --------------------------------------------------------------------------------
# Every handler passes records through the PHI filter (concierge/privacy.py), and error reports
# leave out request data and local variables.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"phi": {"()": "concierge.privacy.PHIFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["phi"]},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Django's own request-line logger would bypass the filter with its own handler.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
DEFAULT_EXCEPTION_REPORTER_FILTER = "concierge.privacy.PHISafeExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "concierge.privacy.PHISafeExceptionReporter"
# Celery logs through the configuration above (and so through the PHI filter).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Demo data (`manage.py seed_demo`) is for the local run and tests only.
DEMO_DATA_ALLOWED = False

# --- Geography ------------------------------------------------------------------------------
# Travel between two ZIPs = straight-line miles x road factor, at the average speed, never less
# than the minimum (parking, carrying equipment in).
TRAVEL_ROAD_FACTOR = env.float("TRAVEL_ROAD_FACTOR", default=1.3)
TRAVEL_AVERAGE_MPH = env.float("TRAVEL_AVERAGE_MPH", default=30.0)
TRAVEL_MIN_MINUTES = env.int("TRAVEL_MIN_MINUTES", default=15)

# --- Booking and scheduling (issue 4) -------------------------------------------------------
# Patients see start times at least BOOKING_MIN_NOTICE_HOURS ahead and at most BOOKING_HORIZON_DAYS
# ahead, on a BOOKING_STEP_MINUTES grid in the visit's own time zone. A held time is kept for
# BOOKING_HOLD_MINUTES while the patient pays. Patients change or cancel online up to
# BOOKING_CHANGE_CUTOFF_HOURS before the visit; inside it they call the clinic.
BOOKING_MIN_NOTICE_HOURS = env.int("BOOKING_MIN_NOTICE_HOURS", default=12)
BOOKING_HORIZON_DAYS = env.int("BOOKING_HORIZON_DAYS", default=60)
BOOKING_STEP_MINUTES = env.int("BOOKING_STEP_MINUTES", default=30)
BOOKING_HOLD_MINUTES = env.int("BOOKING_HOLD_MINUTES", default=10)
BOOKING_CHANGE_CUTOFF_HOURS = env.int("BOOKING_CHANGE_CUTOFF_HOURS", default=24)
# A scheduler booking for a patient on the phone holds the time this long while the patient pays
# the link sent by text and email (issue 19; docs/booking.md#booking-by-phone).
BOOKING_PHONE_HOLD_MINUTES = env.int("BOOKING_PHONE_HOLD_MINUTES", default=30)
# The waitlist for freed times (issue 19): an offer holds the time for the patient this long; a
# patient who let this many offers lapse without an answer leaves the waitlist (and is told).
WAITLIST_OFFER_MINUTES = env.int("WAITLIST_OFFER_MINUTES", default=15)
WAITLIST_MAX_LAPSED_OFFERS = env.int("WAITLIST_MAX_LAPSED_OFFERS", default=3)
# How long a use case waits for a row lock before answering "try again" (concierge/locking.py).
LOCK_TIMEOUT_MS = env.int("LOCK_TIMEOUT_MS", default=3000)
CELERY_BEAT_SCHEDULE["concierge-patient-state-log-fold"] = {
    "task": "concierge.tasks.patient_state_log_fold",
    "schedule": 600.0,  # the patients' change log folded into a count each (concierge/patient_state.py)
}
CELERY_BEAT_SCHEDULE["nurses-running-late"] = {
    "task": "nurses.tasks.visits_running_late_notify",
    "schedule": 300.0,  # every five minutes: the next patient hears well before their time
}
CELERY_BEAT_SCHEDULE["patients-signup-requests-purge"] = {
    "task": "patients.tasks.signup_requests_purge",
    "schedule": 3600.0,
    "options": {"expires": 3500},
}
CELERY_BEAT_SCHEDULE["booking-release-expired-holds"] = {
    "task": "booking.tasks.visit_holds_expire",
    "schedule": 60.0,
}
# The waitlists (issue 19): freed times offered in order (also run right after time frees up), and
# the coverage waitlist told when an area starts to cover their ZIP (also run after an area is saved).
CELERY_BEAT_SCHEDULE["booking-waitlist-offers"] = {
    "task": "booking.tasks.waitlist_offers_make",
    "schedule": 60.0,
    "options": {"expires": 55},
}
CELERY_BEAT_SCHEDULE["booking-coverage-waitlist"] = {
    "task": "booking.tasks.coverage_waitlist_notify",
    "schedule": 300.0,
    "options": {"expires": 290},
}

# --- Patients: screening, safety and clearance (issue 3) -------------------------------------
# PCL-5 total at or above this suggests provisional PTSD (National Center for PTSD: 31-33).
PCL5_PROVISIONAL_PTSD_CUTOFF = 33
# The on-call inbox: every safety alert is emailed here (a link to the admin record only), and so
# is a page when nobody is on the on-call rota, and every escalation (roster/oncall.py).
ONCALL_CLINICIAN_EMAIL = env("ONCALL_CLINICIAN_EMAIL", default="clinician@demo.conciergemd.example")
# The on-call chain (issue 15): a page the clinician on call has not acknowledged in admin after
# this many minutes goes to the backup. The clock looks every minute.
ONCALL_ESCALATE_AFTER_MINUTES = env.int("ONCALL_ESCALATE_AFTER_MINUTES", default=15)
CELERY_BEAT_SCHEDULE["roster-oncall-escalate"] = {
    "task": "roster.tasks.oncall_pages_escalate",
    "schedule": 60.0,
    "options": {"expires": 55},
}
# The on-call clinician's phone, a call button on every nurse visit page and protocol warning
# (roster.selectors.oncall_phone_now). Empty: the clinic's number.
ONCALL_PHONE = env("ONCALL_PHONE", default="")
ONCALL_PHONE_E164 = env("ONCALL_PHONE_E164", default="")
# A visit not started this many minutes after its start is flagged late (nurse's day, the board).
VISIT_LATE_AFTER_MINUTES = env.int("VISIT_LATE_AFTER_MINUTES", default=15)
# The expiry date offered on a new clearance, in days from the decision.
CLEARANCE_DEFAULT_VALID_DAYS = 90
# The clock tells booking about clearances that ran out (their booked infusions go on hold), once each.
CELERY_BEAT_SCHEDULE["patients-clearances-expired"] = {
    "task": "patients.tasks.clearances_expired_announce",
    "schedule": 3600.0,
    "options": {"expires": 3500},
}

# The latest expiry a clinician may give a clearance (admin refuses year 9999).
CLEARANCE_MAX_VALID_DAYS = 365
# A patient is cleared only on PHQ-9, GAD-7 and PCL-5 sent within this many days (issue 15).
CLEARANCE_QUESTIONNAIRES_WITHIN_DAYS = 30
# Symptom questionnaires older than this are offered again on the dashboard (weekly during a series).
SCREENING_RETAKE_DAYS = 7
# Templates other apps add to the patient dashboard (rendered in its `dashboard_extra` block, in
# order, with the dashboard's context: `user`, `profile`, `journey`), e.g. "booking/dashboard_visits.html".
PATIENT_DASHBOARD_SECTIONS = []
# The patient's visit page (booking) includes these templates, given `visit`: a higher app adds a
# part (portal: the nurse's live status) without booking importing it.
PATIENT_VISIT_SECTIONS = []

# --- Notifications: the outbox, reminders, texts (issue 6) -----------------------------------
# The reminder rules themselves are in notifications/rules.py (one table). Texts go only between
# these local times in the patient's zone (end excluded); a text due at night moves to the
# nearest allowed time before the visit, NOTIFICATIONS_SMS_EVENING_MARGIN_MINUTES before the end
# of the evening at the latest, or becomes an email.
NOTIFICATIONS_SMS_HOURS = ("08:00", "21:00")
NOTIFICATIONS_SMS_EVENING_MARGIN_MINUTES = 10
# At most this many texts to one patient per local calendar day; more become emails.
NOTIFICATIONS_SMS_DAILY_CAP = env.int("NOTIFICATIONS_SMS_DAILY_CAP", default=4)
# Transient send errors are retried after 1, 2, 4, 8... minutes (capped), up to this many attempts.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=5)
# A claimed row whose task never ran is queued again after this; an attempt that started and
# never recorded its result is settled by notifications/services/interrupted.py's rule after this.
NOTIFICATIONS_CLAIM_LOST_SECONDS = env.int("NOTIFICATIONS_CLAIM_LOST_SECONDS", default=10 * 60)
NOTIFICATIONS_ATTEMPT_LOST_SECONDS = env.int("NOTIFICATIONS_ATTEMPT_LOST_SECONDS", default=15 * 60)
NOTIFICATIONS_RETRY_BACKOFF_SECONDS = 60
NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS = 60 * 60
# The zone for quiet hours when a message is about no visit and the patient has no address yet.
NOTIFICATIONS_DEFAULT_TIME_ZONE = "America/New_York"
# The clock: every minute, claim the messages that are due and queue one send task each. Nothing
# is scheduled ahead in the broker; a tick that waited too long is dropped (the next one follows).
CELERY_BEAT_SCHEDULE["notifications-dispatch-due"] = {
    "task": "notifications.tasks.messages_dispatch_due",
    "schedule": 60.0,
    "options": {"expires": 55},
}

# --- Payments: Stripe deposits and payments, refunds, reconciliation (issue 5) -------------
# Stripe's API version is pinned: the SDK (requirements.txt) and the webhook endpoint in Stripe's
# dashboard must use this one. Upgrading is a deliberate change with its own tests.
STRIPE_API_VERSION = "2026-10-28.endive"
# With Stripe keys in the environment (and no explicit PAYMENT_GATEWAY) the app uses Stripe itself.
if STRIPE_SECRET_KEY and not env("PAYMENT_GATEWAY", default=""):
    PAYMENT_GATEWAY = "stripe"
# The fake gateway signs its events with this; an empty value copied from .env.example must not
# leave the local run unable to verify them.
if PAYMENT_GATEWAY == "fake" and not STRIPE_WEBHOOK_SECRET:
    STRIPE_WEBHOOK_SECRET = "whsec_local_fake_gateway_secret"  # noqa: S105 (local run only; production requires its own)
# Webhooks signed longer ago than this are refused (replays); Stripe's own default.
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
# A signature dated later than now plus this is refused (clock skew allowance; payments/webhooks.py).
STRIPE_WEBHOOK_CLOCK_SKEW_SECONDS = 60
PAYMENT_CURRENCY = "usd"
# The cancellation policy (booking/policy.py): a patient who cancels this many hours or
# more before the visit gets everything back; later, the late-cancellation fee is kept.
PAYMENT_FULL_REFUND_HOURS = env.int("PAYMENT_FULL_REFUND_HOURS", default=24)
PAYMENT_LATE_CANCEL_FEE_CENTS = env.int("PAYMENT_LATE_CANCEL_FEE_CENTS", default=5000)
# When the rest of the price (after the deposit) is collected, in the words patients read on the
# review, visit and payment pages (booking/policy.py money_words). Say what the clinic really does.
PAYMENT_BALANCE_WHEN = env(
    "PAYMENT_BALANCE_WHEN", default="after your visit: we email you a secure link to pay it by card"
)
# How long a card refund takes to show (the words after "we refund ...").
PAYMENT_REFUND_DAYS_TEXT = env("PAYMENT_REFUND_DAYS_TEXT", default="5 to 10 business days")
# What an HSA/FSA claim needs on a receipt: the clinic's legal name, address and tax id.
CLINIC_LEGAL_NAME = env("CLINIC_LEGAL_NAME", default="ConciergeMD Home Infusions, P.C.")
CLINIC_ADDRESS = env("CLINIC_ADDRESS", default="100 Example Street, Suite 200, New York, NY 10001")
CLINIC_TAX_ID = env("CLINIC_TAX_ID", default="00-0000000")
CLINIC_NPI = env("CLINIC_NPI", default="")
# An open payment whose hold ran out this long ago is cancelled at the gateway (a card check that
# began just before the hold ran out may still finish in this time).
PAYMENT_ABANDON_GRACE_MINUTES = env.int("PAYMENT_ABANDON_GRACE_MINUTES", default=15)
# Where alerts about money go: refunds that failed, disputes, paid visits that could not be kept.
PAYMENTS_STAFF_EMAIL = env("PAYMENTS_STAFF_EMAIL", default="care@conciergemd.example")
# The patient's dashboard lists the payments (payments/templates/payments/_dashboard_payments.html).
PATIENT_DASHBOARD_SECTIONS += ["payments/_dashboard_payments.html"]
CELERY_BEAT_SCHEDULE["payments-reconcile-daily"] = {
    "task": "payments.tasks.payments_reconcile",
    "schedule": crontab(hour=7, minute=30),  # UTC: before the clinic's day starts in the US
}
CELERY_BEAT_SCHEDULE["booking-release-abandoned-checkouts"] = {
    "task": "booking.tasks.checkouts_release_abandoned",
    "schedule": 300.0,
    "options": {"expires": 290},
}

# --- Booking on the patient dashboard (issue 4): the next visits, "Your visits" -------------
# Before payments: what is coming matters more than what was paid.
PATIENT_DASHBOARD_SECTIONS = ["booking/_upcoming_visits.html", *PATIENT_DASHBOARD_SECTIONS]

# --- Care-team portal: secure messages, check-ins, telehealth evaluations (issue 10) --------
# A patient message nobody has answered within this many working hours joins the overdue
# queue (staff inbox, admin). Working hours are the care team's, in one zone (public holidays
# are days off: the PublicHoliday table staff edit in admin); portal/working_hours.py counts in them.
MESSAGES_REPLY_WITHIN_WORKING_HOURS = env.int("MESSAGES_REPLY_WITHIN_WORKING_HOURS", default=4)
MESSAGES_WORKING_HOURS = {
    "time_zone": env("MESSAGES_WORKING_TIME_ZONE", default="America/New_York"),
    "weekdays": env.list("MESSAGES_WORKING_DAYS", cast=int, default=[0, 1, 2, 3, 4]),  # Monday = 0
    "opens": env("MESSAGES_WORKING_OPENS", default="08:00"),
    "closes": env("MESSAGES_WORKING_CLOSES", default="18:00"),
}
# Where the care team is told (neutral subject, a link, never the content) that a patient wrote.
CARE_TEAM_EMAIL = env("CARE_TEAM_EMAIL", default="care@conciergemd.example")
# A follow-up check-in asks the PHQ-9 (everyone) and the PCL-5 (PTSD plans) when the last one is
# this many days old. A score this much worse than the one before is a clinically meaningful
# change (PHQ-9: 5 points, Lowe et al. 2004; PCL-5: 10 points, National Center for PTSD) and
# puts the check-in in the clinicians' queue.
CHECKIN_SCREENING_DUE_DAYS = 7
CHECKIN_WORSE_BY = {"phq9": 5, "pcl5": 10}
# Telehealth evaluations: the video room for each confirmed evaluation comes from this template
# ({token} is a random unguessable token); leave it empty to have staff paste a link per visit.
TELEHEALTH_URL_TEMPLATE = env("TELEHEALTH_URL_TEMPLATE", default="https://meet.example.com/conciergemd-{token}")
# The join button opens this many minutes before the start and closes this long after the end.
TELEHEALTH_JOIN_OPENS_MINUTES = 10
TELEHEALTH_JOIN_CLOSES_MINUTES = 30
# On the dashboard, after the next visits (booking's section, first): messages and check-ins.
PATIENT_DASHBOARD_SECTIONS = [
    *PATIENT_DASHBOARD_SECTIONS[:1],
    "portal/_dashboard_messages.html",
    *PATIENT_DASHBOARD_SECTIONS[1:],
]
# On the visit page: who is coming and where they are (on my way, arriving window, arrived).
PATIENT_VISIT_SECTIONS += ["portal/_visit_live.html"]
# The live status refreshes itself this often (htmx polling) while the visit is today.
PATIENT_LIVE_POLL_SECONDS = 30

# --- Staff in admin: schedule board, queues, reports, audit (issue 8) ------------------------
# The board marks a visit at risk when the licence that covers it expires within this many days
# of the visit, and a hold that runs out within this many minutes.
BOARD_LICENCE_WARNING_DAYS = env.int("BOARD_LICENCE_WARNING_DAYS", default=30)
BOARD_HOLD_WARNING_MINUTES = env.int("BOARD_HOLD_WARNING_MINUTES", default=5)
# Reports: the days of payments and questionnaires are counted in this zone (visits use their own).
REPORTS_TIME_ZONE = env("REPORTS_TIME_ZONE", default="America/New_York")
# Outcomes report: a response is a drop of at least this percent from baseline; remission is a last
# score below these thresholds (PHQ-9 and GAD-7 below 5: minimal; PCL-5 below the provisional cut-off).
OUTCOME_RESPONSE_DROP_PERCENT = env.int("OUTCOME_RESPONSE_DROP_PERCENT", default=50)
OUTCOME_REMISSION_BELOW = {
    "phq9": env.int("OUTCOME_REMISSION_PHQ9_BELOW", default=5),
    "gad7": env.int("OUTCOME_REMISSION_GAD7_BELOW", default=5),
    "pcl5": env.int("OUTCOME_REMISSION_PCL5_BELOW", default=33),
}
# The audit trail keeps the address of whoever made a change (from X-Forwarded-For behind a proxy).
AUDITLOG_DISABLE_REMOTE_ADDR = False
