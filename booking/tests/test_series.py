"""A series of infusions for the plan: proposed with the plan's spacing, held all together or not at all."""

from datetime import date, timedelta

import pytest

from booking import services
from booking.errors import NotEligible, SlotTaken
from booking.models import Series, Visit, VisitStatus
from booking.tests import factories as f
from booking.tests.conftest import NY, TUESDAY, ny

pytestmark = pytest.mark.django_db


def local(visits):
    return [v.starts_at.astimezone(NY).strftime("%a %d %H:%M") for v in visits]


def test_proposal_spaces_the_plan_in_its_window_with_one_nurse(cleared, infusion, maya):
    proposal = services.series_propose(patient=cleared, service=infusion, first_day=TUESDAY)

    # 48 hours apart, Mon-Sat shifts (no Sundays): Saturday + 48 h is Monday. Clocks go forward
    # on Sunday 8 March, so 48 hours after 8:30 EST on Saturday is 9:30 EDT on Monday.
    assert local(proposal.visits) == [
        "Tue 03 08:30",
        "Thu 05 08:30",
        "Sat 07 08:30",
        "Mon 09 09:30",
        "Wed 11 09:30",
        "Fri 13 09:30",
    ]
    assert {v.provider_id for v in proposal.visits} == {maya.pk}
    assert proposal.wanted == 6
    assert proposal.last_day == TUESDAY + timedelta(days=20)


def test_proposal_prefers_a_nurse_who_can_take_them_all(cleared, infusion, nyc, maya):
    priya = f.ProviderFactory(home_zip="10011")
    nyc.providers.add(priya)
    f.time_off(maya, ny(date(2026, 3, 9), 0), ny(date(2026, 3, 30), 0))  # Maya can do three of six

    proposal = services.series_propose(patient=cleared, service=infusion, first_day=TUESDAY)

    assert len(proposal.visits) == 6
    assert {v.provider_id for v in proposal.visits} == {priya.pk}


def test_proposal_for_the_afternoon(cleared, infusion):
    proposal = services.series_propose(patient=cleared, service=infusion, first_day=TUESDAY, part_of_day="afternoon")

    assert all(v.starts_at.astimezone(NY).hour >= 12 for v in proposal.visits)
    assert len(proposal.visits) == 6


def test_hold_the_whole_series_then_confirm_it(cleared, infusion, maya):
    proposal = services.series_propose(patient=cleared, service=infusion, first_day=TUESDAY)

    series = services.series_hold(
        patient=cleared, service=infusion, visits=[(v.starts_at, v.provider_id) for v in proposal.visits]
    )

    visits = list(series.visits.order_by("starts_at"))
    assert [v.starts_at for v in visits] == [v.starts_at for v in proposal.visits]
    assert {v.status for v in visits} == {VisitStatus.HELD}
    assert {v.provider_id for v in visits} == {maya.pk}
    services.series_confirm(series=series)
    services.series_confirm(series=series)
    assert set(series.visits.values_list("status", flat=True)) == {VisitStatus.CONFIRMED}
    # Nothing is left to book for this plan: the plan's own words say so.
    with pytest.raises(NotEligible, match="All 6 infusions of your treatment plan are booked"):
        services.series_propose(patient=cleared, service=infusion, first_day=TUESDAY)


def test_all_or_none_when_one_time_is_taken(cleared, cleared_too, infusion):
    proposal = services.series_propose(patient=cleared, service=infusion, first_day=TUESDAY)
    services.visit_hold(patient=cleared_too, service=infusion, starts_at=proposal.visits[3].starts_at)

    with pytest.raises(SlotTaken):
        services.series_hold(patient=cleared, service=infusion, visits=[(v.starts_at, None) for v in proposal.visits])

    assert not Visit.objects.filter(patient=cleared).exists()
    assert not Series.objects.exists()


@pytest.mark.parametrize(
    ("starts", "message"),
    [
        ([ny(TUESDAY, 10), ny(TUESDAY + timedelta(days=1), 10)], "48 hours apart"),
        ([ny(TUESDAY + timedelta(days=2 * i), 10) for i in range(7)], "6 infusions left"),
        ([ny(TUESDAY, 10), ny(TUESDAY + timedelta(days=21), 10)], "within 21 days"),
        ([], "at least one"),
    ],
)
def test_the_plans_rules(cleared, infusion, starts, message):
    with pytest.raises(services.SeriesInvalid, match=message):
        services.series_hold(patient=cleared, service=infusion, visits=[(s, None) for s in starts])
    assert not Visit.objects.exists()


def test_the_window_counts_from_the_plans_first_infusion_already_booked(cleared, infusion):
    services.visit_hold(patient=cleared, service=infusion, starts_at=ny(TUESDAY, 10))

    proposal = services.series_propose(patient=cleared, service=infusion, first_day=TUESDAY + timedelta(days=10))

    assert proposal.wanted == 5
    assert proposal.last_day == TUESDAY + timedelta(days=20)
    assert len(proposal.visits) == 5  # 13, 15, 17, 19, 21 March... within 3-23 March
    with pytest.raises(services.SeriesInvalid, match="within 21 days"):
        services.series_hold(patient=cleared, service=infusion, visits=[(ny(TUESDAY + timedelta(days=21), 10), None)])
