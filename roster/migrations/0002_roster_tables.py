# The roster's tables take the roster's name, now that nothing points at them as the nurses app's.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("roster", "0001_initial"),
        ("nurses", "0004_roster_leaves_nurses"),
    ]

    operations = [
        migrations.AlterModelTable("provider", None),
        migrations.AlterModelTable("licence", None),
        migrations.AlterModelTable("weeklyshift", None),
        migrations.AlterModelTable("dateoverride", None),
        migrations.AlterModelTable("timeoff", None),
    ]
