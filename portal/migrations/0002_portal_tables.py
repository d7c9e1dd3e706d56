# The portal's tables and indexes take the portal's name, now that nothing points at them as the
# patients app's.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("patients", "0006_portal_leaves_patients"),
    ]

    operations = [
        migrations.AlterModelTable("messagethread", None),
        migrations.AlterModelTable("threadmessage", None),
        migrations.AlterModelTable("followupcheckin", None),
        migrations.RenameIndex(
            "followupcheckin", new_name="portal_foll_patient_f030f2_idx", old_name="patients_fo_patient_f17bcc_idx"
        ),
        migrations.RenameIndex(
            "messagethread", new_name="portal_mess_patient_e92154_idx", old_name="patients_me_patient_184462_idx"
        ),
        migrations.RenameIndex(
            "messagethread", new_name="portal_mess_waiting_4f2403_idx", old_name="patients_me_waiting_159fe2_idx"
        ),
    ]
