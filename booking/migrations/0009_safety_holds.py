"""Safety holds (issue 14): a visit may be ON_HOLD (clinician review), and each hold is a row.

A visit on hold keeps its nurse's time (booking/models.py says why), so the statuses the two
exclusion constraints of 0002 count as blocking gain 'on_hold': the constraints are recreated
with the new predicate (PostgreSQL only; see concierge.db.PostgresOnlySQL).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from concierge.db import PostgresOnlySQL

OLD_BLOCKING = "status IN ('held', 'confirmed', 'en_route', 'in_progress')"
NEW_BLOCKING = "status IN ('held', 'confirmed', 'en_route', 'in_progress', 'on_hold')"


def _constraints(blocking):
    return f"""
        ALTER TABLE booking_visit DROP CONSTRAINT appt_provider_no_overlap;
        ALTER TABLE booking_visit DROP CONSTRAINT appt_patient_no_overlap;
        ALTER TABLE booking_visit ADD CONSTRAINT appt_provider_no_overlap
        EXCLUDE USING gist (
            provider_id WITH =,
            tstzrange(blocked_from, blocked_until, '[)') WITH &&
        ) WHERE (provider_id IS NOT NULL AND {blocking});
        ALTER TABLE booking_visit ADD CONSTRAINT appt_patient_no_overlap
        EXCLUDE USING gist (
            patient_id WITH =,
            tstzrange(starts_at, ends_at, '[)') WITH &&
        ) WHERE ({blocking});
    """


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0008_calendar_feed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="visit",
            name="status",
            field=models.CharField(
                choices=[
                    ("held", "Held"),
                    ("confirmed", "Confirmed"),
                    ("en_route", "Nurse on the way"),
                    ("in_progress", "In progress"),
                    ("completed", "Completed"),
                    ("cancelled", "Cancelled"),
                    ("no_show", "No-show"),
                    ("expired", "Hold expired"),
                    ("on_hold", "On hold — clinician review"),
                ],
                default="held",
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.CreateModel(
            name="SafetyHold",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "previous_status",
                    models.CharField(
                        choices=[
                            ("held", "Held"),
                            ("confirmed", "Confirmed"),
                            ("en_route", "Nurse on the way"),
                            ("in_progress", "In progress"),
                            ("completed", "Completed"),
                            ("cancelled", "Cancelled"),
                            ("no_show", "No-show"),
                            ("expired", "Hold expired"),
                            ("on_hold", "On hold — clinician review"),
                        ],
                        max_length=16,
                        verbose_name="status before the hold",
                    ),
                ),
                ("reasons", models.JSONField(default=list, verbose_name="reasons (codes)")),
                ("staff_words", models.TextField(blank=True, verbose_name="why (for the clinical team)")),
                ("safety", models.BooleanField(default=False, verbose_name="danger sign")),
                ("placed_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="placed at")),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("open", "On hold"),
                            ("released", "Released by a clinician"),
                            ("cancelled", "Visit cancelled"),
                        ],
                        default="open",
                        max_length=16,
                        verbose_name="outcome",
                    ),
                ),
                ("ended_at", models.DateTimeField(blank=True, null=True, verbose_name="ended at")),
                ("note", models.TextField(blank=True, verbose_name="note")),
                (
                    "ended_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="released or cancelled by",
                    ),
                ),
                (
                    "visit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="safety_holds",
                        to="booking.visit",
                        verbose_name="visit",
                    ),
                ),
            ],
            options={
                "verbose_name": "safety hold",
                "ordering": ["-placed_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("outcome", "open")),
                        fields=("visit",),
                        name="safety_hold_one_open_per_visit",
                    )
                ],
            },
        ),
        PostgresOnlySQL(sql=_constraints(NEW_BLOCKING), reverse_sql=_constraints(OLD_BLOCKING)),
    ]
