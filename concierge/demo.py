"""The demo cast. Each app adds its part in `seed_demo` below; every step is idempotent."""

from collections.abc import Callable

from django.utils.module_loading import autodiscover_modules
from django_otp.plugins.otp_totp.models import TOTPDevice

from concierge.locking import lock_order_next_use_case

from .models import Role, User
from .services import user_create, user_set_role
from .two_factor import two_factor_required

DEMO_PASSWORD = "demo-pass-2026"
DEMO_EMAIL_DOMAIN = "@demo.conciergemd.example"
# Staff, clinicians and nurses log in with two steps. Every demo login that needs it shares this
# published authenticator key (base32 JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP, in the README), and in the
# local run the code page also shows the current code for demo logins (never in production:
# DEMO_DATA_ALLOWED is off there).
DEMO_TOTP_KEY_HEX = "48656c6c6f21deadbeef48656c6c6f21deadbeef"

DEMO_USERS = [
    # email, role, first name, last name, superuser
    ("admin@demo.conciergemd.example", Role.STAFF, "Sam", "Rivera", True),
    ("clinician@demo.conciergemd.example", Role.CLINICIAN, "Dana", "Okafor", False),
    # Runs the clinic: the board, queues, reports, the audit trail (issue 8). Not a superuser.
    ("manager@demo.conciergemd.example", Role.MANAGER, "Morgan", "Blake", False),
    ("nurse@demo.conciergemd.example", Role.NURSE, "Maya", "Chen", False),
    ("nurse2@demo.conciergemd.example", Role.NURSE, "Luis", "Ortega", False),
    ("nurse3@demo.conciergemd.example", Role.NURSE, "Priya", "Shah", False),
    ("patient@demo.conciergemd.example", Role.PATIENT, "Alex", "Morgan", False),
    ("patient2@demo.conciergemd.example", Role.PATIENT, "Jordan", "Lee", False),
    ("patient3@demo.conciergemd.example", Role.PATIENT, "Riley", "Park", False),
    # Maya Chen's patients today (nurses.demo.seed_today).
    ("patient4@demo.conciergemd.example", Role.PATIENT, "Taylor", "Brooks", False),
    ("patient5@demo.conciergemd.example", Role.PATIENT, "Rob", "Hart", False),
    # Reads the site and gets her texts in Spanish; cleared, and on the waitlist for freed times.
    ("patient6@demo.conciergemd.example", Role.PATIENT, "María", "López", False),
]


def demo_user(email, role, first_name, last_name, superuser=False):
    user = User.objects.filter(email=email).first()
    if user is None:
        return user_create(
            email=email,
            password=DEMO_PASSWORD,
            role=role,
            first_name=first_name,
            last_name=last_name,
            is_superuser=superuser,
        )
    user.first_name, user.last_name, user.is_superuser, user.is_active = first_name, last_name, superuser, True
    if not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
    user.save()
    return user_set_role(user=user, role=role)


# Each app registers its demo steps (`@demo_step(order=...)` in its demo.py, found when seed_demo
# starts); they run in this order, later steps using what earlier ones made. The core cannot name
# the apps above it, so the order is a number each step declares:
#   10 roster            (nurses and the clinician, their licences and hours)
#   20 patients          (profiles, intakes, questionnaires, Alex's clearance)
#   30 booking           (services, areas, Alex's infusions, Jordan's evaluation)
#   40 nurses            (Maya's day today: Taylor's and Rob's visits)
#   50 booking payments  (every confirmed demo visit paid through the test gateway)
#   60 portal            (a message thread; Jordan's video room)
#   70 booking outbox    (confirmations and reminders planned, one sample staff alert)
DemoStep = Callable[[dict, list], None]
_steps: list[tuple[int, str, DemoStep]] = []


def demo_step(*, order: int) -> Callable[[DemoStep], DemoStep]:
    """Register `seed(users, lines)` as a demo step run at `order` (idempotent: run twice, same data)."""

    def register(step: DemoStep) -> DemoStep:
        name = f"{step.__module__}.{step.__qualname__}"
        if all(registered != name for _order, registered, _step in _steps):
            _steps.append((order, name, step))
        return step

    return register


def demo_authenticator(user):
    """The demo authenticator app for a login that needs two steps (idempotent)."""
    if not two_factor_required(user):
        return None
    TOTPDevice.objects.filter(user=user).exclude(name="Demo authenticator").delete()
    device, _created = TOTPDevice.objects.update_or_create(
        user=user, name="Demo authenticator", defaults={"key": DEMO_TOTP_KEY_HEX, "confirmed": True}
    )
    return device


def seed_demo():
    lines = []
    users = {}
    for email, role, first, last, superuser in DEMO_USERS:
        users[email] = demo_user(email, role, first, last, superuser)
        demo_authenticator(users[email])
        lines.append(f"  {role.label:<10} {email}")
    autodiscover_modules("demo")  # each app's demo.py registers its steps
    for _order, _name, step in sorted(_steps, key=lambda entry: entry[:2]):
        lock_order_next_use_case()  # each step as if run on its own (concierge/locking.py)
        step(users, lines)
    return lines
