"""The database helpers: `EpochMinutes` counts as the availability search does, on PostgreSQL and
on SQLite; `choice_label` names a choice as Django's `get_FOO_display()` does."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db.models import DateTimeField
from django.db.models.expressions import RawSQL
from django.db.models.sql import Query
from django.db.utils import ConnectionHandler
from django.utils import translation

from booking.availability import to_minutes
from booking.models import (
    Service,
    TimeOffer,
    TimeOfferStatus,
    TimeWaitlistEntry,
    TimeWaitlistStatus,
    Visit,
    VisitStatus,
)
from concierge.db import EpochMinutes, choice_label
from concierge.models import User
from notifications.models import Channel, Message, MessageStatus
from patients.models import Clearance, ClearanceDecision
from payments.models import Payment, PaymentStatus, Refund, RefundStatus

NEW_YORK = ZoneInfo("America/New_York")

MOMENTS = [
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1999, 1, 1, 0, 0, 30, 5, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 59, 59, 999999, tzinfo=UTC),  # a microsecond before a whole minute
    datetime(2026, 3, 8, 1, 59, tzinfo=NEW_YORK),  # the last minute before clocks spring forward
    datetime(2026, 3, 8, 3, 0, tzinfo=NEW_YORK),
    datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=1),  # the second 1:30 of the autumn
    datetime(2026, 12, 31, 23, 45, tzinfo=ZoneInfo("Pacific/Honolulu")),
    datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC),
]


@pytest.mark.django_db
@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_the_database_counts_minutes_as_the_search_does(moment):
    user = User.objects.create(email="epoch@example.com", date_joined=moment)

    minutes = User.objects.filter(pk=user.pk).annotate(m=EpochMinutes("date_joined")).values_list("m", flat=True)

    assert minutes.get() == to_minutes(moment)
    assert type(minutes.get()) is int


def test_sqlite_counts_them_the_same(django_db_blocker):
    """The first README command runs on SQLite: the same minutes from its text datetimes."""
    sqlite = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}})["default"]
    try:
        column = EpochMinutes(RawSQL('"at"', (), output_field=DateTimeField()))
        sql, params = sqlite.ops.compiler("SQLCompiler")(Query(None), sqlite, "default").compile(column)
        with django_db_blocker.unblock(), sqlite.cursor() as cursor:
            cursor.execute('CREATE TABLE moments ("at" datetime)')
            for moment in MOMENTS:
                cursor.execute('INSERT INTO moments ("at") VALUES (%s)', [sqlite.ops.adapt_datetimefield_value(moment)])
            cursor.execute(f'SELECT {sql} FROM moments ORDER BY "at"', params)  # noqa: S608 (our expression)
            got = [row[0] for row in cursor.fetchall()]
    finally:
        sqlite.close()

    assert got == sorted(to_minutes(m) for m in MOMENTS)


# Each model whose __str__ names a choice, the field, and its choices.
NAMED_CHOICES = [
    (Visit, "status", VisitStatus),
    (TimeWaitlistEntry, "status", TimeWaitlistStatus),
    (TimeOffer, "status", TimeOfferStatus),
    (Message, "channel", Channel),
    (Message, "status", MessageStatus),
    (Payment, "status", PaymentStatus),
    (Refund, "status", RefundStatus),
    (Clearance, "decision", ClearanceDecision),
]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(("model", "field", "choices"), NAMED_CHOICES, ids=lambda x: getattr(x, "__name__", x))
def test_a_choice_is_named_as_django_names_it(model, field, choices, language):
    with translation.override(language):
        for value in [*choices.values, "no-such-value"]:
            row = model(**{field: value})
            if model in (Visit, TimeWaitlistEntry):
                row.service = Service(name="Home infusion")
                row.starts_at = row.first_day = datetime(2026, 5, 1, tzinfo=UTC)
            row.decided_at = datetime(2026, 5, 1, tzinfo=UTC)
            expected = getattr(row, f"get_{field}_display")()
            assert choice_label(choices, value) == expected
            # What the row's __str__ says: "Cleared (2026-05-01)", "SMS reminder_24h #1 (Sent)", "... (Held)".
            if model is Clearance or field == "channel":
                assert str(row).startswith(f"{expected} ")
            else:
                assert str(row).endswith(f"({expected})")


@pytest.mark.django_db
def test_a_kept_statement_reads_the_same_row_as_the_orm_converted_as_the_orm_converts_it():
    from unittest import mock

    from django.db.models.sql.compiler import SQLCompiler

    from concierge.db import kept_row_by
    from patients.models import PatientProfile
    from patients.tests.factories import PatientProfileFactory

    profiles = [
        PatientProfileFactory(mobile_phone="+12125550123", preferred_name="Lex"),
        PatientProfileFactory(mobile_phone="", weight_kg="71.5"),
    ]
    for stored in profiles:
        read = kept_row_by(PatientProfile, "user", stored.user_id)
        expected = PatientProfile.objects.get(pk=stored.pk)
        for field in PatientProfile._meta.concrete_fields:
            got, want = getattr(read, field.attname), getattr(expected, field.attname)
            assert got == want and type(got) is type(want), field.attname  # a phone number stays one
        assert read._state.adding is False
    assert kept_row_by(PatientProfile, "user", max(p.user_id for p in profiles) + 1000) is None

    with mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql) as compiled:
        assert kept_row_by(PatientProfile, "user", profiles[0].user_id).preferred_name == "Lex"
    assert compiled.call_count == 0  # compiled once, by the first read
