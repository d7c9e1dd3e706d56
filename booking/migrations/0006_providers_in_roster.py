# The roster became its own app (roster 0001): the visit's provider and an area's providers now
# point there. State only: the database columns and constraints do not change.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0005_visit_indexes_and_related_names"),
        ("roster", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="visit",
                    name="provider",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="visits",
                        to="roster.provider",
                    ),
                ),
                migrations.AlterField(
                    model_name="servicearea",
                    name="providers",
                    field=models.ManyToManyField(
                        blank=True, related_name="areas", to="roster.provider", verbose_name="providers serving it"
                    ),
                ),
            ]
        )
    ]
