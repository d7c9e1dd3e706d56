from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("patients", "0004_account_closure"), ("booking", "0004_rename_appointment_visit")]

    operations = [migrations.RenameField("followupcheckin", "appointment", "visit")]
