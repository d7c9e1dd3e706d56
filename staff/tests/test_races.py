"""Races with real threads on PostgreSQL: two staff doing the same thing at once get one effect."""

import threading

import pytest
from django.db import connections

from booking import services as booking
from booking.errors import SlotTaken
from booking.tests import factories as bf
from concierge.errors import ApplicationError
from concierge.tests.factories import UserFactory
from payments.models import Refund
from staff import services as staff_services

from .conftest import TUESDAY, book, ny, pay

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(workers):
    barrier = threading.Barrier(len(workers))
    results = [None] * len(workers)

    def run(i, work):
        try:
            barrier.wait()
            results[i] = ("ok", work())
        except SlotTaken as exc:
            results[i] = ("taken", exc)
        except ApplicationError as exc:
            results[i] = ("refused", exc)
        except Exception as exc:  # a bug: the assertions show it
            results[i] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_staff_giving_two_visits_at_one_time_to_the_same_nurse_one_wins(
    clock, scheduler, manager, cleared, cleared_too, infusion, maya, priya, nyc
):
    third = bf.ProviderFactory(user=UserFactory(role="nurse"), home_zip="10011")
    nyc.providers.add(third)
    first = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    second = book(cleared_too, infusion, ny(TUESDAY, 10), provider=third)

    results = race(
        [
            lambda: booking.visit_reassign(visit=first, provider=priya, actor=scheduler),
            lambda: booking.visit_reassign(visit=second, provider=priya, actor=manager),
        ]
    )

    assert sorted(kind for kind, _ in results) == ["ok", "taken"], results
    first.refresh_from_db()
    second.refresh_from_db()
    assert [first.provider_id, second.provider_id].count(priya.pk) == 1


def test_two_staff_refunding_a_visit_in_full_at_once_refund_it_once(clock, scheduler, manager, cleared, infusion, maya):
    visit = book(cleared, infusion, ny(TUESDAY, 10), provider=maya)
    payment = pay(visit)

    results = race(
        [
            lambda: staff_services.visit_refund_in_full(visit=visit, reason="goodwill", actor=scheduler),
            lambda: staff_services.visit_refund_in_full(visit=visit, reason="goodwill", actor=manager),
        ]
    )

    assert sorted(kind for kind, _ in results) == ["ok", "refused"], results
    assert list(Refund.objects.filter(payment=payment).values_list("amount_cents", flat=True)) == [10000]
