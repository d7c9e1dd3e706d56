"""Races with real threads on PostgreSQL: two staff doing the same thing at once get one effect."""

import pytest

from booking import services as booking
from booking.errors import SlotTaken
from booking.tests import factories as bf
from concierge.errors import ApplicationError
from concierge.testing import race
from concierge.tests.factories import UserFactory
from payments.models import Refund
from staff import services as staff_services

from .conftest import TUESDAY, book, ny, pay

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race_kinds(*workers):
    """concierge.testing.race, each outcome named: ("ok", value), or ("taken" | "refused" | "error", exception)."""
    return [_kind(outcome) for outcome in race(*workers)]


def _kind(outcome):
    if outcome.ok:
        return ("ok", outcome.value)
    if isinstance(outcome.error, SlotTaken):
        return ("taken", outcome.error)
    if isinstance(outcome.error, ApplicationError):
        return ("refused", outcome.error)
    return ("error", outcome.error)  # a bug: the assertions show it


def test_two_staff_giving_two_visits_at_one_time_to_the_same_nurse_one_wins(
    clock, scheduler, manager, cleared, cleared_too, infusion, maya, priya, nyc
):
    third = bf.ProviderFactory(user=UserFactory(role="nurse"), home_zip="10011")
    nyc.providers.add(third)
    first = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    second = book(cleared_too, infusion, ny(TUESDAY, 10), provider=third)

    results = race_kinds(
        lambda: booking.visit_reassign(visit=first, provider=priya, actor=scheduler),
        lambda: booking.visit_reassign(visit=second, provider=priya, actor=manager),
    )

    assert sorted(kind for kind, _ in results) == ["ok", "taken"], results
    first.refresh_from_db()
    second.refresh_from_db()
    assert [first.provider_id, second.provider_id].count(priya.pk) == 1


def test_two_staff_refunding_a_visit_in_full_at_once_refund_it_once(clock, scheduler, manager, cleared, infusion, maya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    payment = pay(visit)

    results = race_kinds(
        lambda: staff_services.visit_refund_in_full(visit=visit, reason="goodwill", actor=scheduler),
        lambda: staff_services.visit_refund_in_full(visit=visit, reason="goodwill", actor=manager),
    )

    assert sorted(kind for kind, _ in results) == ["ok", "refused"], results
    assert list(Refund.objects.filter(payment=payment).values_list("amount_cents", flat=True)) == [10000]
