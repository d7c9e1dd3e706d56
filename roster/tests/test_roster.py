"""Roster services: a provider's time zone follows the base, licences renew, the weekly pattern replaces."""

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError

from concierge.tests.factories import UserFactory
from roster.models import ProviderKind, WeeklyShift
from roster.services import licence_save, provider_save, weekly_pattern_set

pytestmark = pytest.mark.django_db


def test_the_base_zip_sets_the_time_zone_and_saving_again_updates(nurse):
    provider = provider_save(user=nurse, kind=ProviderKind.NURSE, home_zip="85004")
    assert provider.time_zone == "America/Phoenix"

    again = provider_save(user=nurse, kind=ProviderKind.NURSE, home_zip="10011", max_visits_per_day=3)

    assert again.pk == provider.pk
    assert (again.time_zone, again.max_visits_per_day) == ("America/New_York", 3)
    with pytest.raises(ValidationError):
        provider_save(user=UserFactory(role="nurse"), kind=ProviderKind.NURSE, home_zip="00000")


def test_a_licence_is_renewed_not_duplicated(nurse):
    provider = provider_save(user=nurse, kind=ProviderKind.NURSE, home_zip="10001")
    licence_save(provider=provider, state="NY", licence_type="RN", number="1", expires_on=date(2027, 1, 1))
    licence_save(provider=provider, state="NY", licence_type="RN", number="1", expires_on=date(2029, 1, 1))

    assert list(provider.licences.values_list("state", "expires_on")) == [("NY", date(2029, 1, 1))]


def test_the_weekly_pattern_is_replaced(nurse):
    provider = provider_save(user=nurse, kind=ProviderKind.NURSE, home_zip="10001")
    weekly_pattern_set(provider=provider, hours={0: [(time(8), time(18))], 1: [(time(8), time(12))]})
    weekly_pattern_set(provider=provider, hours={0: [(time(8), time(18))], 2: [(time(9), time(17))]})

    assert sorted(WeeklyShift.objects.values_list("weekday", "start_time", "end_time")) == [
        (0, time(8), time(18)),
        (2, time(9), time(17)),
    ]
    with pytest.raises(ValidationError):
        weekly_pattern_set(provider=provider, hours={3: [(time(18), time(8))]})


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_each_photo_to_its_own_table():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from concierge.models import User
    from roster.models import Provider, ProviderPhoto

    before = [("roster", "0005_provider_photo")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("roster", "Provider")
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 2048
    with_photo, without = (
        old.objects.create(
            user_id=User.objects.create(email=f"{name}@example.com").pk,
            kind="nurse",
            home_zip="10001",
            time_zone="America/New_York",
            photo=photo,
            photo_type=mime,
        )
        for name, photo, mime in (("maya", png, "image/png"), ("priya", b"", ""))
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    [photo] = ProviderPhoto.objects.all()
    assert (photo.provider_id, bytes(photo.data), photo.content_type) == (with_photo.pk, png, "image/png")
    assert Provider.objects.filter(pk__in=[with_photo.pk, without.pk]).count() == 2
