"""An index on the login page of each login and each refused login (django-axes's two logs).

Their admin lists filter by that page (staff/admin/logins.py) and list its values through an
index (concierge.admin.values_in_use) instead of a SELECT DISTINCT over every row.
"""

from django.db import migrations

LOGS = ("axes_accesslog", "axes_accessfailurelog")


class Migration(migrations.Migration):
    dependencies = [
        ("concierge", "0005_axes_log_time_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {table}_path_idx ON {table} (path_info)",
            f"DROP INDEX IF EXISTS {table}_path_idx",
        )
        for table in LOGS
    ]
