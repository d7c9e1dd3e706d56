from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial"), ("booking", "0004_rename_appointment_visit")]

    operations = [migrations.RenameField("message", "appointment", "visit")]
