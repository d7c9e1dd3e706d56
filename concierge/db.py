"""Database helpers shared by the apps."""

from django.db import migrations
from django.db.models import BigIntegerField, Choices, Func


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


class EpochMinutes(Func):
    """A datetime column as whole minutes since the Unix epoch (UTC), computed by the database.

    The availability search works in epoch minutes (booking/availability.py). Read this way,
    thousands of visit rows arrive as integers: the driver builds no aware datetime per value
    and the search converts none back. Floors like `int(moment.timestamp()) // 60` for every
    moment after 1970.
    """

    output_field = BigIntegerField()
    template = "(FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / 60))::bigint"

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite keeps a datetime as UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]"; strftime('%s') of
        # its first 19 characters is the whole epoch seconds (with the fraction it would round).
        # '%%%%s': the template's formatting halves it, and the driver's placeholders halve it again.
        return self.as_sql(
            compiler,
            connection,
            template="(CAST(strftime('%%%%s', substr(%(expressions)s, 1, 19)) AS INTEGER) / 60)",
        )

    @property
    def convert_value(self):
        # Both databases answer an integer already: no per-row int() (the default for an
        # integer output field), which would cost more than the conversion it saves.
        return self._convert_value_noop


def choice_label(choices: type[Choices], value: str) -> str:
    """What `get_FOO_display()` gives for a field whose choices are `choices`, at a tenth of its cost.

    Django's builds a dict of all the field's choices on every call, hashing each pair, and so
    translating each lazy label: ~50 µs for a visit's status. A model's `__str__` is called for
    every row of an admin list (each row's checkbox is named by it), so a list of 100 messages
    spent ~7 ms there. An unknown value is shown as itself, as Django shows it.
    """
    try:
        return str(choices(value).label)
    except ValueError:
        return value
