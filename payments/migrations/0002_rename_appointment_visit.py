# The visit's new name (booking 0004). Constraints that name the field are dropped before the
# rename and made again after it: SQLite rebuilds the table on a rename and would fail on them.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial"), ("booking", "0004_rename_appointment_visit")]

    operations = [
        migrations.RemoveConstraint(model_name="payment", name="payment_for_a_visit_or_a_series"),
        migrations.RemoveConstraint(model_name="payment", name="payment_one_open_per_appointment"),
        migrations.RemoveConstraint(model_name="paymentallocation", name="allocation_unique"),
        migrations.RemoveConstraint(model_name="refund", name="refund_one_automatic_per_visit"),
        migrations.AlterModelOptions(name="paymentallocation", options={}),
        migrations.RenameField("payment", "appointment", "visit"),
        migrations.RenameField("paymentallocation", "appointment", "visit"),
        migrations.RenameField("refund", "appointment", "visit"),
        migrations.AlterModelOptions(name="paymentallocation", options={"ordering": ["visit__starts_at"]}),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("series__isnull", True), ("visit__isnull", False)),
                    models.Q(("series__isnull", False), ("visit__isnull", True)),
                    _connector="OR",
                ),
                name="payment_for_a_visit_or_a_series",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["requires_payment", "processing", "failed"])),
                fields=("visit",),
                name="payment_one_open_per_visit",
            ),
        ),
        migrations.AddConstraint(
            model_name="paymentallocation",
            constraint=models.UniqueConstraint(fields=("payment", "visit"), name="allocation_unique"),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reason_code__in", ["cancellation", "unfulfilled"])),
                fields=("visit",),
                name="refund_one_automatic_per_visit",
            ),
        ),
    ]
