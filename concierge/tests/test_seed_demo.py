import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.http import HttpRequest

from concierge.demo import DEMO_PASSWORD, DEMO_USERS
from concierge.models import User

pytestmark = pytest.mark.django_db


def snapshot():
    return sorted(
        (u.email, u.first_name, u.is_staff, u.is_superuser, tuple(u.groups.values_list("name", flat=True)))
        for u in User.objects.all()
    )


def test_seed_demo_twice_gives_the_same_data(capsys):
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")

    assert snapshot() == first
    assert len(first) == len(DEMO_USERS)
    for email, *_ in DEMO_USERS:
        assert authenticate(HttpRequest(), username=email, password=DEMO_PASSWORD) is not None
    assert "patient@demo.conciergemd.example" in capsys.readouterr().out


def test_seed_demo_repairs_a_changed_demo_login():
    call_command("seed_demo")
    nurse = User.objects.get(email="nurse@demo.conciergemd.example")
    nurse.set_password("something-else-entirely")
    nurse.is_active = False
    nurse.save()

    call_command("seed_demo")

    assert authenticate(HttpRequest(), username=nurse.email, password=DEMO_PASSWORD) is not None


def test_seed_demo_is_refused_where_demo_data_is_off(settings):
    settings.DEMO_DATA_ALLOWED = False

    with pytest.raises(CommandError, match="disabled"):
        call_command("seed_demo")
    assert not User.objects.exists()
