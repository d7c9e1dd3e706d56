# The care-team portal's records leave the patients app (state only: the tables keep their names
# until 0002). patients 0006 points the safety alert's links here and forgets the models.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("booking", "0006_providers_in_roster"),
        ("patients", "0005_rename_followupcheckin_visit"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="MessageThread",
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
                            "subject",
                            models.CharField(max_length=120, verbose_name="subject"),
                        ),
                        (
                            "topic",
                            models.CharField(
                                choices=[
                                    ("health", "My health or treatment"),
                                    ("logistics", "Visits, payments or my account"),
                                ],
                                default="health",
                                max_length=16,
                                verbose_name="about",
                            ),
                        ),
                        (
                            "urgent",
                            models.BooleanField(default=False, verbose_name="urgent"),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now,
                                verbose_name="started at",
                            ),
                        ),
                        (
                            "last_message_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now,
                                verbose_name="last message at",
                            ),
                        ),
                        (
                            "waiting_since",
                            models.DateTimeField(
                                blank=True,
                                null=True,
                                verbose_name="waiting for a reply since",
                            ),
                        ),
                        (
                            "answered_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="last answered at"
                            ),
                        ),
                        (
                            "patient_read_at",
                            models.DateTimeField(
                                blank=True,
                                null=True,
                                verbose_name="patient last read at",
                            ),
                        ),
                        (
                            "care_team_read_at",
                            models.DateTimeField(
                                blank=True,
                                null=True,
                                verbose_name="care team last read at",
                            ),
                        ),
                        (
                            "answered_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="last answered by",
                            ),
                        ),
                        (
                            "patient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="message_threads",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "patients_messagethread",
                        "verbose_name": "message thread",
                        "ordering": ["-last_message_at", "-id"],
                        "permissions": [
                            (
                                "answer_health_thread",
                                "Can read and answer patients' messages about their health",
                            ),
                            (
                                "answer_logistics_thread",
                                "Can read and answer patients' messages about visits and payments",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="ThreadMessage",
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
                            "sender",
                            models.CharField(
                                choices=[
                                    ("patient", "Patient"),
                                    ("care_team", "Care team"),
                                ],
                                max_length=16,
                                verbose_name="from",
                            ),
                        ),
                        (
                            "body",
                            models.TextField(max_length=5000, verbose_name="message"),
                        ),
                        (
                            "danger_words",
                            models.JSONField(
                                blank=True,
                                default=list,
                                verbose_name="danger words matched",
                            ),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now,
                                verbose_name="sent at",
                            ),
                        ),
                        ("form_token", models.CharField(editable=False, max_length=64)),
                        (
                            "author",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "thread",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="messages",
                                to="portal.messagethread",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "patients_threadmessage",
                        "verbose_name": "message",
                        "ordering": ["created_at", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="FollowUpCheckIn",
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
                            "feeling",
                            models.PositiveSmallIntegerField(
                                choices=[
                                    (1, "Very bad"),
                                    (2, "Not so good"),
                                    (3, "Okay"),
                                    (4, "Good"),
                                    (5, "Very good"),
                                ],
                                verbose_name="how they feel",
                            ),
                        ),
                        (
                            "side_effects",
                            models.JSONField(
                                blank=True, default=list, verbose_name="side effects"
                            ),
                        ),
                        (
                            "side_effect_severity",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("mild", "Mild: I barely noticed"),
                                    ("moderate", "Moderate: it bothered me"),
                                    ("severe", "Severe: it stopped me doing things"),
                                ],
                                max_length=10,
                                verbose_name="how bad the side effects were",
                            ),
                        ),
                        (
                            "other_side_effect",
                            models.CharField(
                                blank=True,
                                max_length=300,
                                verbose_name="other side effect",
                            ),
                        ),
                        (
                            "flags",
                            models.JSONField(
                                blank=True,
                                default=list,
                                verbose_name="needs a look because",
                            ),
                        ),
                        (
                            "submitted_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now,
                                verbose_name="sent at",
                            ),
                        ),
                        (
                            "reviewed_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="reviewed at"
                            ),
                        ),
                        (
                            "patient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="checkins",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "pcl5",
                            models.OneToOneField(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="patients.screeningresponse",
                                verbose_name="PCL-5",
                            ),
                        ),
                        (
                            "phq9",
                            models.OneToOneField(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="patients.screeningresponse",
                                verbose_name="PHQ-9",
                            ),
                        ),
                        (
                            "reviewed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="reviewed by",
                            ),
                        ),
                        (
                            "visit",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="checkin",
                                to="booking.visit",
                                verbose_name="visit",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "patients_followupcheckin",
                        "verbose_name": "follow-up check-in",
                        "ordering": ["-submitted_at", "-id"],
                        "indexes": [
                            models.Index(
                                fields=["patient", "-submitted_at"],
                                name="patients_fo_patient_f17bcc_idx",
                            )
                        ],
                    },
                ),
                migrations.AddIndex(
                    model_name="messagethread",
                    index=models.Index(
                        fields=["patient", "-last_message_at"],
                        name="patients_me_patient_184462_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="messagethread",
                    index=models.Index(
                        fields=["waiting_since"], name="patients_me_waiting_159fe2_idx"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="threadmessage",
                    constraint=models.UniqueConstraint(
                        fields=("author", "form_token"),
                        name="thread_message_once_per_form",
                    ),
                ),
            ],
        ),
    ]
