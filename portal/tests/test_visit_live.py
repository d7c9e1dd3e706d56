"""The patient's live visit status (issue 18): who is coming and where the visit stands, refreshed
without a reload, never where the nurse is."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from booking.models import VisitStatus
from notifications.services import sms_running_late
from nurses import services as nurse_services
from nurses.tests import factories as nf
from portal import live

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


def at(hour, minute=0):
    return datetime(2026, 3, 3, hour, minute, tzinfo=NY).astimezone(UTC)


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def today(patient, nurse):
    with time_machine.travel(at(9), tick=False) as clock:
        provider = nf.ProviderFactory(user=nurse)
        _user, plan = nf.patient_with_plan(patient)
        visit = nf.visit_for(provider, patient, plan, at(10))
        yield {"visit": visit, "clock": clock, "nurse": nurse}


def test_the_day_goes_booked_on_the_way_arrived(client, patient, today):
    visit = today["visit"]
    client.force_login(patient)
    url = reverse("portal:visit_live", args=[visit.pk])

    first = text(client.get(url))
    assert "is coming today at 10:00 AM EST" in first
    assert 'hx-trigger="every 30s"' in first

    nurse_services.visit_on_my_way(visit=visit, nurse=today["nurse"])
    on_the_way = text(client.get(url))
    assert "is on the way." in on_the_way
    assert "Arriving between 9:15 AM EST and 9:35 AM EST." in on_the_way
    assert 'aria-current="step">On the way' in on_the_way

    visit.status = VisitStatus.IN_PROGRESS
    visit.save(update_fields=["status"])
    assert "is with you." in text(client.get(url))

    visit.status = VisitStatus.COMPLETED
    visit.save(update_fields=["status"])
    done = text(client.get(url))
    assert "Your visit is complete." in done
    assert "hx-trigger" not in done  # nothing more to wait for


def test_running_late_shows_on_the_page(client, patient, today):
    visit = today["visit"]
    sms_running_late(visit=visit)
    client.force_login(patient)

    page = text(client.get(reverse("booking:visit", args=[visit.pk])))

    assert "is running late from an earlier visit." in page


def test_only_on_the_visit_day(patient, today):
    today["clock"].move_to(datetime(2026, 3, 2, 12, 0, tzinfo=NY))
    assert live.live_status_for(visit=today["visit"]) is None


def test_another_patients_visit_is_not_found(client, other_patient, today):
    client.force_login(other_patient)
    assert client.get(reverse("portal:visit_live", args=[today["visit"].pk])).status_code == 404
