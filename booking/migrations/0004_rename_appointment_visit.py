# One name per concept: the code calls a visit a visit (the patient's word, and the UI's).
# RenameModel keeps the rows, the exclusion constraints (they follow the table) and, through
# contenttypes, the permissions and audit entries of the model.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0003_appointment_video_url"),
        ("nurses", "0002_visit_chart"),
        ("patients", "0004_account_closure"),
        ("notifications", "0001_initial"),
        ("payments", "0001_initial"),
    ]

    operations = [
        migrations.RenameModel("Appointment", "Visit"),
    ]
