"""Which writes change the schedule version (concierge/schedule.py): the rule every cached answer
rests on, so a write that should count is never missed."""

import pytest

from concierge import schedule


@pytest.fixture
def watched(monkeypatch):
    monkeypatch.setattr(schedule, "_watched", {})
    return schedule._watched


def test_a_table_watched_for_some_columns_counts_updates_naming_them_anywhere(watched):
    schedule.schedule_tables_watch("people", only_updates_of=("first_name", "is_active"))

    assert schedule._counts('UPDATE "people" SET "first_name" = %s WHERE "people"."id" = %s')
    # The column after a subquery that has its own WHERE: still seen.
    assert schedule._counts(
        'UPDATE "people" SET "nickname" = (SELECT U0."name" FROM "x" U0 WHERE U0."id" = 1), '
        '"is_active" = false WHERE "people"."id" = 2'
    )
    assert not schedule._counts('UPDATE "people" SET "last_login" = %s WHERE "people"."id" = %s')
    assert not schedule._counts('INSERT INTO "people" ("first_name") VALUES (%s)')
    assert not schedule._counts('UPDATE "other" SET "first_name" = %s')


def test_registering_a_table_twice_counts_the_columns_of_both_or_every_write(watched):
    schedule.schedule_tables_watch("people", only_updates_of="is_active")
    schedule.schedule_tables_watch("people", only_updates_of=("first_name", "email"))
    assert watched["people"] == {"is_active", "first_name", "email"}

    schedule.schedule_tables_watch("people")
    schedule.schedule_tables_watch("people", only_updates_of="email")

    assert watched["people"] is None
    assert schedule._counts('INSERT INTO "people" ("email") VALUES (%s)')
    assert schedule._counts('DELETE FROM "people" WHERE "people"."id" = %s')
