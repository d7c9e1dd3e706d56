"""A backup restores: dump a seeded database, restore it into a fresh one, find everything intact."""

import uuid

import psycopg2
import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from booking.models import Visit
from concierge.models import User
from nurses.models import VisitChart
from patients.models import PatientProfile
from payments.models import Payment

from .access_world import NOW, World

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TABLES = [User, PatientProfile, Visit, VisitChart, Payment]


def rows(cursor, model):
    columns = ", ".join(f'"{f.column}"' for f in model._meta.concrete_fields)
    cursor.execute(f'SELECT {columns} FROM "{model._meta.db_table}" ORDER BY "id"')  # noqa: S608 (our own names)
    return cursor.fetchall()


def server_sql(admin, sql):
    server = psycopg2.connect(dbname="postgres", **admin)
    server.autocommit = True
    try:
        with server.cursor() as cursor:
            cursor.execute(sql)
    finally:
        server.close()


def test_a_dump_of_a_seeded_database_restores_into_a_fresh_one_intact(request, tmp_path):
    with time_machine.travel(NOW, tick=False):
        world = World(request)  # patients, nurses, clinicians, visits, a plan, a held visit and its payment
        visit = world.visit if isinstance(world.visit, Visit) else Visit.objects.get(pk=world.visit)
        VisitChart.objects.create(visit=visit, nurse=visit.provider.user)
        world.payment  # noqa: B018 (builds a held visit and its payment)
    with connection.cursor() as cursor:
        before = {model.__name__: rows(cursor, model) for model in TABLES}
    assert all(before.values()), {name: len(found) for name, found in before.items()}

    dump = tmp_path / "backup.dump"
    call_command("backup", "dump", str(dump))
    assert dump.stat().st_mode & 0o777 == 0o600  # PHI: readable by its owner only
    call_command("backup", "check", str(dump))

    params = connection.get_connection_params()
    fresh = f"restore_{uuid.uuid4().hex[:10]}"
    admin = {k: params[k] for k in ("host", "port", "user", "password") if params.get(k)}
    server_sql(admin, f'CREATE DATABASE "{fresh}"')
    try:
        where = f"{admin['host']}:{admin.get('port', 5432)}"
        url = f"postgres://{admin['user']}:{admin.get('password', '')}@{where}/{fresh}"
        call_command("backup", "restore", str(dump), into=url)
        restored = psycopg2.connect(dbname=fresh, **admin)
        try:
            with restored.cursor() as cursor:
                after = {model.__name__: rows(cursor, model) for model in TABLES}
        finally:
            restored.close()
    finally:
        server_sql(admin, f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')

    assert after == before
