from django.db import migrations, models

# The three services the clinic opened with (booking/demo.py's SERVICE_NAMES_ES), written out
# here: a migration keeps the words it was written with.
NAMES_ES = {
    "evaluation": "Evaluación por video",
    "home-infusion": "Infusión en casa",
    "booster": "Infusión de refuerzo",
}


def names_es_fill(apps, schema_editor):
    Service = apps.get_model("booking", "Service")
    for code, name_es in NAMES_ES.items():
        Service.objects.filter(code=code, name_es="").update(name_es=name_es)


class Migration(migrations.Migration):
    dependencies = [("booking", "0014_admin_filter_indexes")]

    operations = [
        migrations.AddField(
            model_name="service",
            name="name_es",
            field=models.CharField(
                blank=True,
                help_text="What Spanish-speaking patients read.",
                max_length=100,
                verbose_name="name in Spanish",
            ),
        ),
        migrations.RunPython(names_es_fill, migrations.RunPython.noop),
    ]
