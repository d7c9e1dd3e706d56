"""An index on the time of each login and each refused login (django-axes's two logs).

Both logs grow with every sign-in; their admin lists sort by the time and open a date
drill-down from its first and last value (staff/templatetags/admin_dates.py). django-axes
indexes neither column, so without these both read the whole table.
"""

from django.db import migrations

LOGS = ("axes_accesslog", "axes_accessfailurelog")


class Migration(migrations.Migration):
    dependencies = [
        ("concierge", "0004_user_language"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {table}_time_idx ON {table} (attempt_time)",
            f"DROP INDEX IF EXISTS {table}_time_idx",
        )
        for table in LOGS
    ]
