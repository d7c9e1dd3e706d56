# Message threads and follow-up check-ins now belong to the portal (portal 0001). A safety alert
# still points at the message or check-in that raised it; the patients app forgets the models
# (state only), and their content types (with the custom "answer" permissions) follow them.
import django.db.models.deletion
from django.db import migrations, models

MOVED = ("messagethread", "threadmessage", "followupcheckin")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="patients", model__in=MOVED).update(app_label="portal")


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="portal", model__in=MOVED).update(app_label="patients")


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0005_rename_followupcheckin_visit"),
        ("portal", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="safetyalert",
                    name="message",
                    field=models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="safety_alert",
                        to="portal.threadmessage",
                        verbose_name="portal message",
                    ),
                ),
                migrations.AlterField(
                    model_name="safetyalert",
                    name="checkin",
                    field=models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="safety_alert",
                        to="portal.followupcheckin",
                        verbose_name="follow-up check-in",
                    ),
                ),
                migrations.DeleteModel("ThreadMessage"),
                migrations.DeleteModel("FollowUpCheckIn"),
                migrations.DeleteModel("MessageThread"),
            ]
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
