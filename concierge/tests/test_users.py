import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from concierge.models import Role, User
from concierge.roles import ROLE_PERMISSIONS
from concierge.services import user_create, user_set_role

pytestmark = pytest.mark.django_db


def test_email_is_the_login_and_is_stored_lower_case():
    user = user_create(email="  Ann.Smith@Example.COM ", password="a-long-password-1", role=Role.PATIENT)

    assert user.email == "ann.smith@example.com"
    assert authenticate(HttpRequest(), username="ANN.SMITH@example.com", password="a-long-password-1") == user
    assert authenticate(HttpRequest(), username="ann.smith@example.com", password="wrong-password-1") is None


def test_the_same_email_in_another_case_is_refused():
    user_create(email="ann@example.com", password="a-long-password-1", role=Role.PATIENT)

    with pytest.raises(ValidationError) as error:
        user_create(email="ANN@example.com", password="a-long-password-1", role=Role.PATIENT)

    assert "email" in error.value.message_dict
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "is_staff"),
    [(Role.PATIENT, False), (Role.NURSE, False), (Role.CLINICIAN, True), (Role.STAFF, True)],
)
def test_each_role_is_a_group_and_only_staff_and_clinicians_reach_admin(role, is_staff):
    user = user_create(email=f"{role}@example.com", password="a-long-password-1", role=role)

    assert list(user.groups.values_list("name", flat=True)) == [role.value]
    assert user.has_role(role)
    assert user.is_staff is is_staff


def test_changing_role_replaces_the_old_one():
    user = user_create(email="x@example.com", password="a-long-password-1", role=Role.NURSE)

    user_set_role(user=user, role=Role.STAFF)
    user.refresh_from_db()

    assert set(user.groups.values_list("name", flat=True)) == {"staff"}
    assert user.is_staff


def test_migrate_creates_the_role_groups_with_their_permissions():
    for role, names in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role.value)
        granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert granted == set(names)


def test_admin_lists_users_with_their_roles(client, staff_user, nurse, patient):
    client.force_login(staff_user)

    response = client.get("/admin/concierge/user/?role=nurse")

    assert response.status_code == 200
    content = response.content.decode()
    assert nurse.email in content
    assert patient.email not in content
    assert "Nurse" in content
