"""The pure availability module on hand-built rosters (no database)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.availability import (
    Candidate,
    LicenceData,
    ProviderData,
    SlotQuery,
    VisitData,
    find_slots,
    nearest,
    route_blocks,
    slots_by_day,
    to_minutes,
)
from roster.licensure import COMPACT_STATES, licence_valid_in

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
PHX = ZoneInfo("America/Phoenix")
FOREVER = date(2099, 1, 1)
WORKWEEK = {d: [(time(8), time(18))] for d in range(6)}  # Mon-Sat 8:00-18:00
EVERY_DAY = {d: [(time(8), time(18))] for d in range(7)}


def travel(a, b):
    """15 minutes inside one ZIP, 30 between two, 60 to or from 10475 (the far Bronx)."""
    if a == b:
        return 15
    if "10475" in (a, b):
        return 60
    return 30


def nurse(pid=1, *, home="10001", tz="America/New_York", state="NY", weekly=None, **kwargs):
    kwargs.setdefault("licences", [LicenceData(state, "RN", False, FOREVER)])
    return ProviderData(id=pid, home_zip=home, time_zone=tz, max_visits_per_day=4, weekly=weekly or WORKWEEK, **kwargs)


def query(first_day, last_day=None, *, now=None, zip_code="10001", state="NY", tz="America/New_York", **kwargs):
    defaults = {
        "visit_minutes": 120,
        "telehealth": False,
        "now": now or datetime(2026, 3, 1, 12, tzinfo=UTC),
        "notice": timedelta(hours=12),
        "horizon_days": 60,
        "step_minutes": 30,
    }
    defaults.update(kwargs)
    return SlotQuery(
        visit_zip=zip_code,
        visit_state=state,
        visit_time_zone=tz,
        first_day=first_day,
        last_day=last_day or first_day,
        **defaults,
    )


def local_times(slots, tz=NY):
    return [s.starts_at.astimezone(tz).strftime("%H:%M") for s in slots]


def at(day, hour, minute=0, tz=NY):
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


TUESDAY = date(2026, 3, 3)


def test_a_working_day_offers_every_half_hour_that_fits_with_travel_from_and_back_home():
    slots = find_slots([nurse()], query(TUESDAY), travel=travel)

    # Leaves home at 8:00, 15 minutes' drive: 8:30 is the first half hour. A two-hour visit and
    # 15 minutes home must end by 18:00: 15:30 is the last start.
    assert local_times(slots) == [f"{h:02d}:{m:02d}" for h in range(8, 16) for m in (0, 30)][1:]
    assert slots[0].starts_at == datetime(2026, 3, 3, 13, 30, tzinfo=UTC)  # 8:30 EST
    assert slots[0].ends_at - slots[0].starts_at == timedelta(hours=2)
    assert slots[0].local_start.strftime("%I:%M %p %Z") == "08:30 AM EST"
    assert slots[0].best == Candidate(1, 15, 15, 30, 0, False)


def test_minimum_notice_and_horizon():
    now = at(TUESDAY, 0, 0).astimezone(UTC)
    slots = find_slots([nurse()], query(TUESDAY, TUESDAY + timedelta(days=90), now=now), travel=travel)

    assert local_times(slots_by_day(slots)[TUESDAY]) == [
        "12:00",
        "12:30",
        "13:00",
        "13:30",
        "14:00",
        "14:30",
        "15:00",
        "15:30",
    ]
    assert max(slots_by_day(slots)) <= TUESDAY + timedelta(days=60)
    assert TUESDAY + timedelta(days=59) in slots_by_day(slots)


def test_a_licence_that_expires_mid_range_stops_the_days_after_it():
    provider = nurse(licences=[LicenceData("NY", "RN", False, date(2026, 3, 4))])

    days = slots_by_day(find_slots([provider], query(TUESDAY, date(2026, 3, 6)), travel=travel))

    assert sorted(days) == [date(2026, 3, 3), date(2026, 3, 4)]


def test_a_licence_from_another_state_does_not_count():
    provider = nurse(licences=[LicenceData("NJ", "RN", False, FOREVER)])

    assert find_slots([provider], query(TUESDAY), travel=travel) == []


@pytest.mark.parametrize(
    ("licence", "visit_state", "allowed"),
    [
        (("AZ", "RN", True), "TX", True),  # multistate RN, both compact states
        (("AZ", "LPN", True), "NJ", True),
        (("AZ", "RN", True), "NY", False),  # New York is not in the compact
        (("AZ", "RN", True), "CA", False),
        (("AZ", "RN", False), "TX", False),  # single-state licence
        (("AZ", "APRN", True), "TX", False),  # the NLC covers RN and LPN only
        (("NY", "RN", True), "NJ", False),  # a New York licence cannot be multistate
        (("NY", "RN", False), "NY", True),
    ],
)
def test_compact_licences(licence, visit_state, allowed):
    state, licence_type, multistate = licence
    on = date(2026, 3, 3)
    assert (
        licence_valid_in(
            state=state,
            licence_type=licence_type,
            multistate=multistate,
            expires_on=FOREVER,
            visit_state=visit_state,
            on_date=on,
        )
        is allowed
    )
    assert "NY" not in COMPACT_STATES and "CA" not in COMPACT_STATES and "AZ" in COMPACT_STATES


def test_expired_licence_is_not_valid_the_day_after():
    kwargs = {"state": "NY", "licence_type": "RN", "multistate": False, "visit_state": "NY"}
    assert licence_valid_in(expires_on=date(2026, 3, 3), on_date=date(2026, 3, 3), **kwargs)
    assert not licence_valid_in(expires_on=date(2026, 3, 3), on_date=date(2026, 3, 4), **kwargs)


def test_time_off_removes_the_hours_it_covers_travel_included():
    provider = nurse(time_off=[(at(TUESDAY, 12), at(TUESDAY, 14))])

    slots = find_slots([provider], query(TUESDAY), travel=travel)

    # Before: home by 12:00 after the visit -> start by 9:45. After: leave at 14:00 -> start 14:30.
    assert local_times(slots) == ["08:30", "09:00", "09:30", "14:30", "15:00", "15:30"]


def test_date_overrides_replace_the_weekly_pattern():
    off = nurse(overrides={TUESDAY: []})
    short = nurse(overrides={TUESDAY: [(time(10), time(14))]})
    sunday = nurse(overrides={date(2026, 3, 8): [(time(9), time(13))]})

    assert find_slots([off], query(TUESDAY), travel=travel) == []
    assert local_times(find_slots([short], query(TUESDAY), travel=travel)) == ["10:30", "11:00", "11:30"]
    assert local_times(find_slots([sunday], query(date(2026, 3, 8)), travel=travel)) == ["09:30", "10:00", "10:30"]


def test_existing_visits_leave_room_for_travel_before_and_after():
    visit = VisitData.of(at(TUESDAY, 11), at(TUESDAY, 13), "10475")  # 60 minutes from everywhere
    provider = nurse(visits=[visit])

    slots = find_slots([provider], query(TUESDAY), travel=travel)

    # Before it: end + 60 min to the Bronx by 11:00 -> start by 8:00, but the trip from home
    # makes 8:30 the first start: nothing fits. After it: 13:00 + 60 min -> 14:00 start, and a
    # start at 14:00 ends 16:00, +15 home = 16:15 <= 18:00; 15:30 is still the last.
    assert local_times(slots) == ["14:00", "14:30", "15:00", "15:30"]
    assert slots[0].best.travel_before == 60
    # Bronx -> here -> home, instead of Bronx -> home: 60 + 15 - 60.
    assert slots[0].best.added_travel == 15


def test_back_to_back_with_travel_is_allowed_and_partial_overlap_is_not():
    visit = VisitData.of(at(TUESDAY, 9), at(TUESDAY, 11), "10001")
    slots = find_slots([nurse(visits=[visit])], query(TUESDAY), travel=travel)

    # Same ZIP: 15 minutes between visits, so 11:30 is the first start after it.
    assert "11:30" in local_times(slots)
    assert "10:00" not in local_times(slots) and "11:00" not in local_times(slots)


def test_the_daily_cap():
    visits = [VisitData.of(at(TUESDAY, h), at(TUESDAY, h + 1), "10001") for h in (8, 10)]
    capped = nurse(visits=visits)
    capped.max_visits_per_day = 2

    assert find_slots([capped], query(TUESDAY), travel=travel) == []
    assert find_slots([nurse(visits=visits)], query(TUESDAY), travel=travel) != []


def test_a_visit_counts_on_the_providers_own_day_not_the_utc_one():
    """A video clinician in Los Angeles, one visit a day: Monday 17:00-18:00 there is Tuesday
    01:00 UTC, and it fills her Monday, not her Tuesday."""
    monday = TUESDAY - timedelta(days=1)
    late = VisitData.of(at(monday, 17, tz=LA), at(monday, 18, tz=LA), "10001")
    clinician = nurse(home="90012", tz="America/Los_Angeles", licences=[LicenceData("NY", "MD", False, FOREVER)])
    clinician.visits, clinician.max_visits_per_day = [late], 1
    q = query(monday, TUESDAY, telehealth=True, visit_minutes=45, now=datetime(2026, 2, 27, tzinfo=UTC))

    days = slots_by_day(find_slots([clinician], q, travel=travel))

    assert late.start == to_minutes(datetime(2026, 3, 3, 1, tzinfo=UTC))
    assert monday not in days
    assert local_times(days[TUESDAY], LA)[0] == "08:00"


def test_the_patients_own_visits_and_infusion_spacing():
    provider = nurse()
    busy = query(TUESDAY, patient_busy=((at(TUESDAY, 12), at(TUESDAY, 14)),))
    spaced = query(
        TUESDAY,
        date(2026, 3, 5),
        patient_infusions=(at(date(2026, 3, 2), 12),),  # Monday noon
        min_gap=timedelta(hours=48),
    )

    assert local_times(find_slots([provider], busy, travel=travel)) == [
        "08:30",
        "09:00",
        "09:30",
        "10:00",  # ends at 12:00, when the other visit starts: back to back is fine
        "14:00",
        "14:30",
        "15:00",
        "15:30",
    ]
    days = slots_by_day(find_slots([provider], spaced, travel=travel))
    assert date(2026, 3, 3) not in days
    assert local_times(days[date(2026, 3, 4)]) == [
        "12:00",
        "12:30",
        "13:00",
        "13:30",
        "14:00",
        "14:30",
        "15:00",
        "15:30",
    ]


@pytest.mark.parametrize(
    ("day", "tz", "zip_code", "state", "utc_hour_of_8_30"),
    [
        (date(2026, 3, 7), NY, "10001", "NY", 13),  # Saturday before the change: EST, UTC-5
        (date(2026, 3, 8), NY, "10001", "NY", 12),  # clocks go forward at 2:00: EDT, UTC-4
        (date(2026, 10, 31), NY, "10001", "NY", 12),  # EDT
        (date(2026, 11, 1), NY, "10001", "NY", 13),  # clocks go back at 2:00: EST
        (date(2026, 3, 7), LA, "90012", "CA", 16),  # PST, UTC-8
        (date(2026, 3, 8), LA, "90012", "CA", 15),  # PDT, UTC-7
        (date(2026, 11, 1), LA, "90012", "CA", 16),
        (date(2026, 3, 7), PHX, "85004", "AZ", 15),  # Arizona: MST, UTC-7, all year
        (date(2026, 3, 8), PHX, "85004", "AZ", 15),
        (date(2026, 11, 1), PHX, "85004", "AZ", 15),
    ],
)
def test_daylight_saving_days_give_the_same_wall_clock_times(day, tz, zip_code, state, utc_hour_of_8_30):
    provider = nurse(home=zip_code, tz=tz.key, state=state, weekly=EVERY_DAY)
    q = query(day, zip_code=zip_code, state=state, tz=tz.key, now=datetime(2026, 1, 5, tzinfo=UTC), horizon_days=400)

    slots = find_slots([provider], q, travel=travel)

    assert local_times(slots, tz) == [f"{h:02d}:{m:02d}" for h in range(8, 16) for m in (0, 30)][1:]
    assert slots[0].starts_at.hour == utc_hour_of_8_30
    assert all(s.ends_at - s.starts_at == timedelta(hours=2) for s in slots)


def test_night_of_the_change_grid_stays_on_the_half_hour():
    """A clinician working through the night of the change: no 2:30 on 8 March, two 1:30s on 1 November."""
    night = {d: [(time(0), time(6))] for d in range(7)}
    clinician = nurse(weekly=night)
    base = {"telehealth": True, "visit_minutes": 30, "now": datetime(2026, 1, 5, tzinfo=UTC), "horizon_days": 400}

    spring = find_slots([clinician], query(date(2026, 3, 8), **base), travel=travel)
    autumn = find_slots([clinician], query(date(2026, 11, 1), **base), travel=travel)

    assert local_times(spring) == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "03:00",
        "03:30",
        "04:00",
        "04:30",
        "05:00",
        "05:30",
    ]
    assert local_times(autumn).count("01:30") == 2
    assert [s.local_start.strftime("%H:%M %Z") for s in autumn][2:6] == [
        "01:00 EDT",
        "01:30 EDT",
        "01:00 EST",
        "01:30 EST",
    ]


def test_weekly_pattern_is_in_the_providers_own_time_zone():
    """A clinician in Phoenix, licensed in New York, seeing a New York patient by video."""
    clinician = nurse(home="85004", tz="America/Phoenix", licences=[LicenceData("NY", "MD", False, FOREVER)])
    q = query(TUESDAY, telehealth=True, visit_minutes=45)

    slots = find_slots([clinician], q, travel=travel)

    # 8:00-18:00 in Phoenix (UTC-7) is 10:00-20:00 in New York (UTC-5 in early March).
    assert local_times(slots)[0] == "10:00"
    assert local_times(slots)[-1] == "19:00"
    assert slots[0].best.added_travel == 0


def test_dispatch_prefers_previous_provider_then_least_added_travel_then_lightest_day_then_id():
    light_far = nurse(1, home="10475")  # 60 minutes away
    near_busy = nurse(2, visits=[VisitData.of(at(TUESDAY, 8, 30), at(TUESDAY, 9), "10001")])
    near_free = nurse(3)
    near_free_too = nurse(4)

    def order(preferred=None):
        slots = find_slots(
            [light_far, near_busy, near_free, near_free_too],
            query(TUESDAY, preferred_provider_id=preferred),
            travel=travel,
        )
        slot = next(s for s in slots if s.local_start.strftime("%H:%M") == "14:00")
        return [c.provider_id for c in slot.candidates]

    # 2 adds 15 + 15 - 15 = 15 minutes (already out at a visit nearby); 3 and 4 add 30 with an
    # empty day, so id decides; 1 adds 120.
    assert order() == [2, 3, 4, 1]
    assert order(preferred=1) == [1, 2, 3, 4]


def test_lightest_day_breaks_a_travel_tie():
    later = VisitData.of(at(TUESDAY, 16), at(TUESDAY, 17), "10001")
    busier = nurse(1, visits=[VisitData.of(at(TUESDAY, 13), at(TUESDAY, 14), "10001"), later])
    lighter = nurse(2, visits=[later])
    slots = find_slots([busier, lighter], query(TUESDAY), travel=travel)
    slot = next(s for s in slots if s.local_start.strftime("%H:%M") == "09:00")
    # Both add 15 minutes (home -> here -> 10001 instead of home -> 10001); nurse 2 has one visit.
    assert [(c.provider_id, c.added_travel, c.visits_that_day) for c in slot.candidates] == [(2, 15, 1), (1, 15, 2)]


def test_route_blocks_match_the_route_and_never_overlap():
    d = TUESDAY
    visits = [
        (at(d, 13), at(d, 15), "10475", False),
        (at(d, 9), at(d, 11), "10001", False),
    ]
    blocks = route_blocks(visits=visits, home_zip="10001", travel=travel)

    assert blocks[1] == (at(d, 8, 45), at(d, 11))  # from home: 15 min; not the last
    assert blocks[0] == (at(d, 12), at(d, 16))  # from 10001: 60 min; the last: 60 min home
    assert blocks[1][1] <= blocks[0][0]


def test_nearest_free_times():
    slots = find_slots([nurse()], query(TUESDAY), travel=travel)
    picked = nearest(slots, at(TUESDAY, 12, 10).astimezone(UTC))
    assert local_times(picked) == ["11:30", "12:00", "12:30"]


def test_no_providers_or_no_days_means_no_slots():
    assert find_slots([], query(TUESDAY), travel=travel) == []
    past = query(date(2026, 2, 1))
    assert find_slots([nurse()], past, travel=travel) == []
