# The roster leaves the nurses app (state only: the tables stay where they are until 0002 renames
# them). nurses 0004 forgets the models once booking's foreign keys point here (booking 0006).

import django.core.validators
import django.db.models.deletion
import localflavor.us.models
import phonenumber_field.modelfields
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("nurses", "0003_rename_visitchart_visit"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Provider",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("nurse", "Nurse"),
                                    ("clinician", "Clinician"),
                                ],
                                max_length=16,
                                verbose_name="kind",
                            ),
                        ),
                        (
                            "phone",
                            phonenumber_field.modelfields.PhoneNumberField(
                                blank=True,
                                max_length=128,
                                region="US",
                                verbose_name="mobile phone",
                            ),
                        ),
                        (
                            "home_zip",
                            localflavor.us.models.USZipCodeField(
                                max_length=10, verbose_name="home base ZIP"
                            ),
                        ),
                        (
                            "time_zone",
                            models.CharField(
                                editable=False, max_length=64, verbose_name="time zone"
                            ),
                        ),
                        (
                            "max_visits_per_day",
                            models.PositiveSmallIntegerField(
                                default=4,
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(12),
                                ],
                                verbose_name="maximum visits a day",
                            ),
                        ),
                        (
                            "is_active",
                            models.BooleanField(default=True, verbose_name="active"),
                        ),
                        (
                            "user",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="provider",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "nurses_provider",
                        "ordering": ["user__last_name", "user__first_name"],
                    },
                ),
                migrations.CreateModel(
                    name="DateOverride",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("date", models.DateField(verbose_name="date")),
                        (
                            "start_time",
                            models.TimeField(
                                blank=True, null=True, verbose_name="from"
                            ),
                        ),
                        (
                            "end_time",
                            models.TimeField(
                                blank=True, null=True, verbose_name="until"
                            ),
                        ),
                        (
                            "note",
                            models.CharField(
                                blank=True, max_length=200, verbose_name="note"
                            ),
                        ),
                        (
                            "provider",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="date_overrides",
                                to="roster.provider",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "nurses_dateoverride",
                        "ordering": ["date", "start_time"],
                    },
                ),
                migrations.CreateModel(
                    name="TimeOff",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("starts_at", models.DateTimeField(verbose_name="from")),
                        ("ends_at", models.DateTimeField(verbose_name="until")),
                        (
                            "reason",
                            models.CharField(
                                blank=True, max_length=200, verbose_name="reason"
                            ),
                        ),
                        (
                            "provider",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="time_off",
                                to="roster.provider",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "nurses_timeoff",
                        "verbose_name_plural": "time off",
                        "ordering": ["starts_at"],
                    },
                ),
                migrations.CreateModel(
                    name="WeeklyShift",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "weekday",
                            models.PositiveSmallIntegerField(
                                choices=[
                                    (0, "Monday"),
                                    (1, "Tuesday"),
                                    (2, "Wednesday"),
                                    (3, "Thursday"),
                                    (4, "Friday"),
                                    (5, "Saturday"),
                                    (6, "Sunday"),
                                ],
                                verbose_name="day",
                            ),
                        ),
                        ("start_time", models.TimeField(verbose_name="from")),
                        ("end_time", models.TimeField(verbose_name="until")),
                        (
                            "provider",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="weekly_shifts",
                                to="roster.provider",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "nurses_weeklyshift",
                        "ordering": ["weekday", "start_time"],
                    },
                ),
                migrations.CreateModel(
                    name="Licence",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "state",
                            localflavor.us.models.USStateField(
                                max_length=2, verbose_name="state"
                            ),
                        ),
                        (
                            "licence_type",
                            models.CharField(
                                choices=[
                                    ("RN", "Registered nurse (RN)"),
                                    ("LPN", "Licensed practical nurse (LPN)"),
                                    (
                                        "APRN",
                                        "Advanced practice registered nurse (APRN)",
                                    ),
                                    ("MD", "Physician (MD)"),
                                    ("DO", "Physician (DO)"),
                                    ("PA", "Physician assistant (PA)"),
                                ],
                                max_length=8,
                                verbose_name="type",
                            ),
                        ),
                        (
                            "multistate",
                            models.BooleanField(
                                default=False, verbose_name="multistate (compact)"
                            ),
                        ),
                        (
                            "number",
                            models.CharField(
                                max_length=64, verbose_name="licence number"
                            ),
                        ),
                        ("expires_on", models.DateField(verbose_name="expires on")),
                        (
                            "verified_on",
                            models.DateField(
                                blank=True, null=True, verbose_name="verified on"
                            ),
                        ),
                        (
                            "provider",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="licences",
                                to="roster.provider",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "nurses_licence",
                        "ordering": ["state", "-expires_on"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("provider", "state", "licence_type"),
                                name="licence_unique_per_state",
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
