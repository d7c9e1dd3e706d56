"""The on-call chain: who covers which hours, paging them, acknowledgement in admin, and escalation
to the backup after 15 minutes (with the clock frozen; races on PostgreSQL)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection

from concierge.testing import race
from concierge.tests.factories import UserFactory
from notifications.content import forbidden_words_in
from notifications.models import Message
from roster import oncall, tasks
from roster.models import OnCallPage, OnCallShift, ProviderKind
from roster.services import provider_save

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
# Friday 6 March 2026.
FRIDAY = date(2026, 3, 6)


def at(day, hour, minute=0, zone=NY):
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def provider(user, phone):
    return provider_save(user=user, kind=ProviderKind.CLINICIAN, home_zip="10001", phone=phone)


@pytest.fixture
def cleo(clinician):
    return provider(clinician, "+12125550101")


@pytest.fixture
def bea(db):
    return provider(UserFactory(role="clinician", email="bea@example.com", first_name="Bea"), "+12125550102")


@pytest.fixture
def dan(db):
    return provider(UserFactory(role="clinician", email="dan@example.com", first_name="Dan"), "+12125550103")


def shift(clinician, backup, start, end, *, weekday=None, day=None, zone="America/New_York"):
    block = OnCallShift(
        clinician=clinician,
        backup=backup,
        weekday=weekday,
        date=day,
        start_time=time(*start),
        end_time=time(*end),
        time_zone=zone,
    )
    block.full_clean()
    block.save()
    return block


@pytest.fixture
def rota(cleo, bea, dan):
    """Cleo covers weekday days in New York, Bea every night (18:00-08:00) with Cleo as backup."""
    for weekday in range(5):
        shift(cleo, bea, (8, 0), (18, 0), weekday=weekday)
    for weekday in range(7):
        shift(bea, cleo, (18, 0), (8, 0), weekday=weekday)
    return {"cleo": cleo, "bea": bea, "dan": dan}


# --- who is on call -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "who"),
    [
        (at(FRIDAY, 8, 0), "cleo"),  # the day block starts
        (at(FRIDAY, 17, 59), "cleo"),
        (at(FRIDAY, 18, 0), "bea"),  # the night block
        (at(FRIDAY + timedelta(days=1), 3, 0), "bea"),  # Friday's night, on Saturday morning
        (at(FRIDAY + timedelta(days=1), 12, 0), None),  # Saturday daytime: nobody on the rota
        (at(FRIDAY + timedelta(days=3), 7, 59), "bea"),  # Sunday's night into Monday
        (at(FRIDAY + timedelta(days=3), 8, 0), "cleo"),
        (at(FRIDAY, 5, 30, LA), "cleo"),  # 8:30 in New York
    ],
)
def test_who_is_on_call_follows_the_weekly_rota_in_its_own_zone(rota, moment, who):
    cover = oncall.oncall_cover_at(at=moment)
    assert (cover.shift.clinician.user.first_name.lower() if cover else None) == who


def test_a_dated_block_wins_over_the_weekly_rota_for_its_hours(rota):
    shift(rota["dan"], rota["cleo"], (12, 0), (14, 0), day=FRIDAY)

    assert oncall.oncall_cover_at(at=at(FRIDAY, 12, 30)).clinician.first_name == "Dan"
    assert oncall.oncall_cover_at(at=at(FRIDAY, 14, 0)).clinician.first_name == "Cleo"


def test_a_block_in_another_zone_counts_in_that_zone(cleo, bea):
    shift(cleo, bea, (9, 0), (17, 0), weekday=FRIDAY.weekday(), zone="America/Los_Angeles")

    assert oncall.oncall_cover_at(at=at(FRIDAY, 11, 0)) is None  # 8:00 in Los Angeles
    assert oncall.oncall_cover_at(at=at(FRIDAY, 12, 0)).clinician == cleo.user  # 9:00 there


def test_the_rota_refuses_a_block_without_a_backup_a_phone_or_a_day(cleo, bea, nurse):
    with pytest.raises(ValidationError) as same:
        shift(cleo, cleo, (8, 0), (18, 0), weekday=0)
    assert "backup" in same.value.message_dict
    no_phone = provider(UserFactory(role="clinician", email="np@example.com"), "")
    with pytest.raises(ValidationError) as phone:
        shift(no_phone, bea, (8, 0), (18, 0), weekday=0)
    assert "mobile phone" in str(phone.value)
    a_nurse = provider_save(user=nurse, kind=ProviderKind.NURSE, home_zip="10001", phone="+12125550109")
    with pytest.raises(ValidationError) as not_clinician:
        shift(a_nurse, bea, (8, 0), (18, 0), weekday=0)
    assert "clinician" in str(not_clinician.value)
    with pytest.raises(ValidationError) as both:
        shift(cleo, bea, (8, 0), (18, 0), weekday=0, day=FRIDAY)
    assert "weekday" in both.value.message_dict


# --- paging and escalating ---------------------------------------------------------------------------


def texts(*numbers):
    return list(Message.objects.filter(channel="sms", to_address__in=numbers).order_by("id"))


def test_a_page_texts_and_emails_the_clinician_on_call_in_neutral_words_once(
    rota, settings, django_capture_on_commit_callbacks
):
    settings.ONCALL_CLINICIAN_EMAIL = "oncall@clinic.example"
    with time_machine.travel(at(FRIDAY, 22, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        page = oncall.oncall_page(key="safety-alert:7", link="/admin/patients/safetyalert/7/change/")
        again = oncall.oncall_page(key="safety-alert:7", link="/admin/patients/safetyalert/7/change/")

    assert again == page and page.clinician == rota["bea"].user and page.backup == rota["cleo"].user
    [text] = texts("+12125550102")
    assert text.status == "sent"  # 22:00: a page is not held for quiet hours
    assert text.body == "ConciergeMD: urgent patient alert, open the queue: " + oncall.queue_url()
    [email] = mail.outbox
    assert email.to == ["bea@example.com"] and email.subject == "Urgent patient alert"
    assert oncall.queue_url() in email.body
    for words in (text.body, email.subject, email.body):
        assert forbidden_words_in(words) == [] and "safety" not in words.lower()


def test_nobody_on_the_rota_leaves_the_page_to_the_on_call_inbox(cleo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        page = oncall.oncall_page(key="safety-alert:8", link="/admin/")

    assert page.clinician is None
    assert not Message.objects.exists()  # the caller's own email to the inbox is the page


def test_an_acknowledged_page_is_not_escalated(rota):
    with time_machine.travel(at(FRIDAY, 10, 0), tick=False):
        page = oncall.oncall_page(key="thread-message:3", link="/staff/messages/3/")
    with time_machine.travel(at(FRIDAY, 10, 5), tick=False):
        oncall.oncall_page_acknowledge(page=page, by=rota["cleo"].user)
        oncall.oncall_page_acknowledge(page=page, by=rota["bea"].user)  # the first one stays
    with time_machine.travel(at(FRIDAY, 11, 0), tick=False):
        assert oncall.oncall_pages_escalate() == []

    page.refresh_from_db()
    assert (page.acknowledged_by, page.acknowledged_at) == (rota["cleo"].user, at(FRIDAY, 10, 5))
    assert texts("+12125550101") != [] and texts("+12125550102") == []


def test_only_a_clinician_acknowledges(rota, staff_user):
    page = oncall.oncall_page(key="thread-message:4", link="/")
    with pytest.raises(Exception) as refused:
        oncall.oncall_page_acknowledge(page=page, by=staff_user)
    assert refused.value.code == "not_allowed"


def test_an_unacknowledged_page_goes_to_the_backup_after_15_minutes_once(
    rota, settings, django_capture_on_commit_callbacks
):
    settings.ONCALL_CLINICIAN_EMAIL = "oncall@clinic.example"
    with time_machine.travel(at(FRIDAY, 10, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        page = oncall.oncall_page(key="safety-alert:9", link="/admin/patients/safetyalert/9/change/")
    mail.outbox.clear()

    with time_machine.travel(at(FRIDAY, 10, 14) + timedelta(seconds=59), tick=False):
        assert tasks.oncall_pages_escalate() == 0
    with time_machine.travel(at(FRIDAY, 10, 15), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert tasks.oncall_pages_escalate() == 1
        assert tasks.oncall_pages_escalate() == 0  # the clock ticks again, or the task came twice

    page.refresh_from_db()
    assert page.escalated_at == at(FRIDAY, 10, 15)
    [backup_text] = texts("+12125550102")  # Bea backs Cleo up in the daytime
    assert backup_text.template == "oncall_page" and backup_text.status == "sent"
    assert sorted(m.to[0] for m in mail.outbox) == ["bea@example.com", "oncall@clinic.example"]
    assert all("not acknowledged for 15 minutes" in m.body for m in mail.outbox)
    # Acknowledging late stops nothing more from going out, and is recorded.
    oncall.oncall_page_acknowledge(page=page, by=rota["bea"].user)
    with time_machine.travel(at(FRIDAY, 12, 0), tick=False):
        assert tasks.oncall_pages_escalate() == 0


def test_the_escalation_waits_the_configured_minutes(rota, settings):
    settings.ONCALL_ESCALATE_AFTER_MINUTES = 5
    with time_machine.travel(at(FRIDAY, 10, 0), tick=False):
        oncall.oncall_page(key="safety-alert:10", link="/")
    with time_machine.travel(at(FRIDAY, 10, 5), tick=False):
        assert len(oncall.oncall_pages_escalate()) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clocks_at_the_same_moment_escalate_a_page_once(rota):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    with time_machine.travel(at(FRIDAY, 10, 0), tick=False):
        page = oncall.oncall_page(key="safety-alert:11", link="/")
    later = at(FRIDAY, 10, 20)

    outcomes = race(*[lambda: oncall.oncall_pages_escalate(now=later) for _ in range(4)])

    assert sorted(len(o.value) for o in outcomes) == [0, 0, 0, 1]
    assert len(texts("+12125550102")) == 1
    assert OnCallPage.objects.get(pk=page.pk).escalated_at == later


# --- admin --------------------------------------------------------------------------------------------


def test_the_clinician_acknowledges_in_the_on_call_queue(client, rota):
    with time_machine.travel(at(FRIDAY, 10, 0), tick=False):
        page = oncall.oncall_page(key="thread-message:12", link="/staff/messages/12/")
    client.force_login(rota["cleo"].user)

    queue = client.get("/admin/roster/oncallpage/?status=open").content.decode()
    assert "Waiting" in queue and 'href="/staff/messages/12/"' in queue
    response = client.post(f"/admin/roster/oncallpage/{page.pk}/change/", {"acknowledge": "on"})

    assert response.status_code == 302
    page.refresh_from_db()
    assert page.acknowledged_by == rota["cleo"].user
    assert "Acknowledged" in client.get("/admin/roster/oncallpage/").content.decode()


def test_schedulers_keep_the_rota_but_do_not_see_the_alerts(client, rota, staff_user):
    client.force_login(staff_user)

    rota_page = client.get("/admin/roster/oncallshift/").content.decode()
    assert client.get("/admin/roster/oncallpage/").status_code == 403
    with time_machine.travel(at(FRIDAY, 10, 0), tick=False):
        assert "On call now: " in client.get("/admin/roster/oncallshift/").content.decode()
    assert "Bea" in rota_page
    response = client.post(
        "/admin/roster/oncallshift/add/",
        {
            "date": "2026-03-07",
            "start_time": "08:00",
            "end_time": "18:00",
            "time_zone": "America/New_York",
            "clinician": rota["dan"].pk,
            "backup": rota["cleo"].pk,
            "note": "Saturday cover",
        },
    )
    assert response.status_code == 302
    assert oncall.oncall_cover_at(at=at(FRIDAY + timedelta(days=1), 12, 0)).clinician == rota["dan"].user
