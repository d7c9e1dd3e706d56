"""Database helpers shared by the apps."""

from django.db import migrations


class PostgresOnlySQL(migrations.RunSQL):
    """SQL that exists only on PostgreSQL (exclusion constraints, for example).

    The local run uses SQLite, which has no such constraints; there the booking service's own
    check is the only guard, and it is the same check PostgreSQL backs up in tests and production.
    The constraint stays out of the model state so that SQLite table rebuilds never see it.
    """

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
