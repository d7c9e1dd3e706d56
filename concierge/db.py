"""Database helpers shared by the apps."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, migrations
from django.db.models import BigIntegerField, Choices, Func, Model, QuerySet
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=Model)


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


# --- statements compiled once ---------------------------------------------------------------------

# Stands for the one value a kept statement is run with, while the ORM compiles it.
_VALUE = -2_045_678_913  # within a 32-bit integer: Django refuses a wider one for an int column


@dataclass(frozen=True)
class KeptStatement:
    """A SELECT the ORM compiled once, to be run again with another value: its SQL, its
    parameters (the value's place marked), the fields its columns fill and their converters."""

    sql: str
    params: tuple[Any, ...]
    field_names: tuple[str, ...]  # the model's; any annotations' columns follow them
    converters: dict[int, tuple[list[Any], Any]]

    def run(self, value: Any, using: str = "default") -> tuple[Any, ...] | None:
        """The first row for `value` (converted as the ORM converts it), or None."""
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [value if p == _VALUE else p for p in self.params])
            row = cursor.fetchone()
        if row is None:
            return None
        if self.converters:
            compiler = SQLCompiler(None, connection, using)  # type: ignore[arg-type]
            row = next(iter(compiler.apply_converters([list(row)], self.converters)))
        return tuple(row)


_kept_statements: dict[tuple[str, str], KeptStatement] = {}


def kept_statement(name: str, build: Callable[[Any], QuerySet[Any]], using: str = "default") -> KeptStatement:
    """`build(value)` (a queryset of one model's rows, read whole, with a `values_list` of every
    concrete field's attname and any annotations after them) compiled once per process and
    database, named `name`.

    Django compiles a queryset every time it runs: ~0.5-1 ms for a statement that is the same
    on every request but for one value (the signed-in login, the patient's profile). Only for
    such statements: the value must appear once among the parameters.
    """
    key = (name, using)
    found = _kept_statements.get(key)
    if found is None:
        queryset = build(_VALUE)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        if list(params).count(_VALUE) != 1:
            raise ValueError(f"{name}: the value must be one of the statement's parameters, once")
        found = KeptStatement(
            sql=sql,
            params=tuple(params),
            field_names=tuple(queryset.query.values_select),
            converters=compiler.get_converters([column for column, _, _ in compiler.select]),
        )
        _kept_statements[key] = found
    return found


def kept_row_by(model: type[M], field: str, value: Any, using: str = "default") -> M | None:
    """The row of `model` whose `field` (unique) is `value`, every concrete field read, through a
    statement compiled once (`kept_statement`): the same object as
    `model.objects.filter(field=value).first()`, for a read made on every request."""
    statement = kept_statement(
        f"{model._meta.label}.{field}",
        lambda v: (
            model._default_manager.filter(**{field: v})
            .order_by()
            .values_list(*(f.attname for f in model._meta.concrete_fields))[:1]
        ),
        using=using,
    )
    row = statement.run(value, using=using)
    if row is None:
        return None
    return model.from_db(using, statement.field_names, row)
