from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("nurses", "0002_visit_chart"), ("booking", "0004_rename_appointment_visit")]

    operations = [migrations.RenameField("visitchart", "appointment", "visit")]
