"""No provider in two visits at once (travel included), no patient in two visits at once.

PostgreSQL enforces both with exclusion constraints over time ranges, for the blocking statuses
only (held, confirmed, en route, in progress). SQLite (the local run) has no equivalent; there
the booking service's locked re-check is the guard. See concierge.db.PostgresOnlySQL.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

from concierge.db import PostgresOnlySQL

BLOCKING = "status IN ('held', 'confirmed', 'en_route', 'in_progress')"


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        PostgresOnlySQL(
            sql=f"""
                ALTER TABLE booking_appointment ADD CONSTRAINT appt_provider_no_overlap
                EXCLUDE USING gist (
                    provider_id WITH =,
                    tstzrange(blocked_from, blocked_until, '[)') WITH &&
                ) WHERE (provider_id IS NOT NULL AND {BLOCKING});
                ALTER TABLE booking_appointment ADD CONSTRAINT appt_patient_no_overlap
                EXCLUDE USING gist (
                    patient_id WITH =,
                    tstzrange(starts_at, ends_at, '[)') WITH &&
                ) WHERE ({BLOCKING});
            """,
            reverse_sql="""
                ALTER TABLE booking_appointment DROP CONSTRAINT appt_provider_no_overlap;
                ALTER TABLE booking_appointment DROP CONSTRAINT appt_patient_no_overlap;
            """,
        ),
    ]
