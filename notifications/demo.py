"""Demo data for the notifications app, called by `manage.py seed_demo` after the demo users exist.

`seed(users, lines)`: users maps the demo emails to User rows; append a line to `lines` for each
thing worth printing. Must be idempotent: running it twice gives the same data.

Confirmed upcoming demo visits get their confirmation and reminders (the unique keys make this
idempotent), and the on-call clinician gets one sample alert, so the staff outbox page at
/outbox/ is not empty. In the local run the worker then "sends" them through the console.
"""

from django.utils import timezone

from booking.models import Visit, VisitStatus

from . import services

CLINICIAN = "clinician@demo.conciergemd.example"


def seed(users, lines):
    visits = Visit.objects.filter(
        status=VisitStatus.CONFIRMED,
        starts_at__gt=timezone.now(),
        patient__email__endswith="@demo.conciergemd.example",
    ).select_related("service", "patient")
    planned = 0
    for visit in visits:
        planned += len(services.visit_confirmed(visit=visit))
    clinician = users.get(CLINICIAN)
    if clinician is not None:
        services.staff_alert_email(
            to=clinician,
            subject="Demo: a patient asked for a call back",
            body="This is a sample alert from the demo data. Alex Morgan asked to be called about their visit time.",
            unique_key="demo-sample-alert",
        )
    lines.append(f"  outbox     {planned} visit messages planned; staff see them at /outbox/")
