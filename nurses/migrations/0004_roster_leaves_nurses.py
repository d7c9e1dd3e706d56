# The roster's models now belong to the roster app (roster 0001, booking 0006). The nurses app
# forgets them (state only), and their content types follow them so that permissions and audit
# entries written before the move stay attached.
from django.db import migrations

MOVED = ("provider", "licence", "weeklyshift", "dateoverride", "timeoff")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="nurses", model__in=MOVED).update(app_label="roster")


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="roster", model__in=MOVED).update(app_label="nurses")


class Migration(migrations.Migration):
    dependencies = [
        ("nurses", "0003_rename_visitchart_visit"),
        ("booking", "0006_providers_in_roster"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel("Licence"),
                migrations.DeleteModel("WeeklyShift"),
                migrations.DeleteModel("DateOverride"),
                migrations.DeleteModel("TimeOff"),
                migrations.DeleteModel("Provider"),
            ]
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
