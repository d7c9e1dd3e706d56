import pytest
import time_machine
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def production_timeouts(settings):
    settings.SESSION_IDLE_TIMEOUT_STAFF = 15 * 60
    settings.SESSION_IDLE_TIMEOUT_PATIENT = 30 * 60


def test_patient_session_ends_after_30_idle_minutes(client, patient):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(patient)
        assert client.get("/me/").status_code == 200

        clock.shift(29 * 60)
        assert client.get("/me/").status_code == 200  # activity resets the clock

        clock.shift(31 * 60)
        response = client.get("/me/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/me/"
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("who", ["staff_user", "nurse", "clinician"])
def test_staff_nurse_and_clinician_sessions_end_after_15_idle_minutes(client, request, who):
    user = request.getfixturevalue(who)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(user)
        client.get("/me/")
        clock.shift(16 * 60)
        response = client.get("/me/", follow=True)

    assert "_auth_user_id" not in client.session
    assert "logged out after 15 minutes without activity" in response.content.decode()


def test_keepalive_counts_as_activity(client, patient):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(patient)
        client.get("/me/")
        clock.shift(25 * 60)
        assert client.post("/session/keepalive").json() == {"authenticated": True, "timeout_seconds": 1800}
        clock.shift(25 * 60)
        assert client.get("/me/").status_code == 200


def test_pages_for_logged_in_people_carry_the_timeout_for_the_warning(client, nurse):
    client.force_login(nurse)

    content = client.get("/me/").content.decode()

    assert '<meta name="idle-timeout" content="900"' in content
    assert 'id="idle-warning"' in content
    assert "/static/js/session-timeout.js" in content


def test_session_cookie_is_http_only(client, patient):
    from concierge.tests.factories import TEST_PASSWORD

    client.post("/accounts/login/", {"username": patient.email, "password": TEST_PASSWORD})

    cookie = client.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


@pytest.mark.postgres
def test_a_signed_in_page_reads_the_login_with_its_roles_and_sees_a_role_taken_away(client, patient):
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client.force_login(patient)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("patients:profile")).status_code == 200
    assert not any(q["sql"].startswith('SELECT "auth_group"') for q in queries)  # read with the login

    patient.groups.remove(Group.objects.get(name="patient"))

    assert client.get(reverse("patients:profile")).status_code in (302, 403)


@pytest.mark.postgres
def test_the_login_read_for_a_session_is_the_stored_login_with_its_roles(patient, nurse):
    from concierge.backends import EmailLoginBackend
    from concierge.models import User

    nurse.groups.add(*patient.groups.all())  # two roles
    backend = EmailLoginBackend()
    for stored in (patient, nurse):
        read = backend.get_user(stored.pk)
        expected = User.objects.get(pk=stored.pk)
        for field in User._meta.concrete_fields:
            assert getattr(read, field.attname) == getattr(expected, field.attname), field.attname
            assert type(getattr(read, field.attname)) is type(getattr(expected, field.attname)), field.attname
        assert read.roles == expected.roles
        assert read._state.adding is False and read._state.db == "default"
    assert nurse.pk != patient.pk and backend.get_user(nurse.pk).roles == {"nurse", "patient"}

    # The id as a session stores it (a string), an unknown id, a malformed one.
    assert backend.get_user(str(patient.pk)).pk == patient.pk
    assert backend.get_user(max(patient.pk, nurse.pk) + 1000) is None
    assert backend.get_user("not-a-number") is None
    # A closed login's sessions end.
    User.objects.filter(pk=patient.pk).update(is_active=False)
    assert backend.get_user(patient.pk) is None


@pytest.mark.postgres
def test_a_signed_in_request_runs_the_login_statement_without_compiling_it_again(client, patient):
    from unittest import mock

    from django.db.models.sql.compiler import SQLCompiler
    from django.urls import reverse

    from concierge.backends import EmailLoginBackend

    EmailLoginBackend().get_user(patient.pk)  # the process's first read compiles it
    with mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql) as compiled:
        assert EmailLoginBackend().get_user(patient.pk).pk == patient.pk
    assert compiled.call_count == 0

    client.force_login(patient)
    assert client.get(reverse("patients:profile")).status_code == 200
