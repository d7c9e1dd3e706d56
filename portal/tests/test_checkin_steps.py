"""The check-in a few questions a screen (issue 18): how you feel, then each questionnaire due, with
progress; answers kept in the session between screens and through a failed send."""

import re

import pytest

from concierge.opaque import encode as oid
from patients.models import ScreeningResponse
from patients.tests.factories import cleared, screening
from portal.models import FollowUpCheckIn

from .factories import home_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(profile, clinician, daytime):
    """A PTSD plan (PHQ-9 and PCL-5 due) with an infusion that ended 20 hours ago."""
    cleared(profile.user, clinician, diagnosis="ptsd")
    return home_visit(profile.user)


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def items(code, first, values):
    return {f"{code}-item_{n}": str(v) for n, v in enumerate(values, start=first)}


def test_the_check_in_in_parts_with_progress_back_and_the_answers_kept(client, profile, plan):
    client.force_login(profile.user)
    url = f"/dashboard/check-in/{oid(plan.pk)}/"

    first = text(client.get(url))
    # How you feel, then the PHQ-9 in 3 parts and the PCL-5 in 5: 9 parts.
    assert "Part 1 of 9: How you feel" in first and "PHQ-9" in first and "PCL-5" in first
    assert first.count('type="radio"') == 5 + 3  # how you feel and how bad: no questionnaire item yet

    step = client.post(url, {"step": "0", "go": "next", "feeling": "4", "side_effects": ["nausea"]})
    assert step.status_code == 200  # severity missing: the same screen, saying so
    assert "Please say how bad the side effects were." in text(step) and "Part 1 of 9" in text(step)
    assert 'value="nausea" id="id_side_effects_0" checked' in step.content.decode()

    step = client.post(
        url, {"step": "0", "go": "next", "feeling": "4", "side_effects": ["nausea"], "side_effect_severity": "mild"}
    )
    assert step["Location"] == f"{url}?step=1"
    second = text(client.get(step["Location"]))
    assert "Part 2 of 9: Patient Health Questionnaire (PHQ-9)" in second
    assert 'name="phq9-item_1"' in second and 'name="phq9-item_5"' not in second

    for n, (code, first_item, values) in enumerate([("phq9", 1, [1, 1, 1, 1]), ("phq9", 5, [1, 1, 1, 1])], start=1):
        assert (
            client.post(url, {"step": str(n), "go": "next", **items(code, first_item, values)})["Location"]
            == f"{url}?step={n + 1}"
        )
    back = client.post(url, {"step": "3", "go": "back", **items("phq9", 9, [0]), "phq9-difficulty": "0"})
    assert back["Location"] == f"{url}?step=2"
    assert re.search(r'name="phq9-item_6" value="1"[^>]*checked', client.get(back["Location"]).content.decode())
    assert re.search(r'name="phq9-item_9" value="0"[^>]*checked', client.get(f"{url}?step=3").content.decode())
    assert (
        client.post(url, {"step": "3", "go": "next", **items("phq9", 9, [0]), "phq9-difficulty": "0"}).status_code
        == 302
    )

    for n in range(4, 9):
        first_item = (n - 4) * 4 + 1
        go = "send" if n == 8 else "next"
        response = client.post(url, {"step": str(n), "go": go, **items("pcl5", first_item, [1] * 4)})
    last = client.get(f"{url}?step=8")  # before the send, the last screen offered the send button
    assert response["Location"] == f"{url}thanks/"

    done = FollowUpCheckIn.objects.get()
    assert (done.feeling, done.side_effects, done.side_effect_severity) == (4, ["nausea"], "mild")
    assert (done.phq9.total, done.pcl5.total) == (8, 20)
    assert f"checkin-draft:{plan.pk}" not in client.session
    assert last.status_code == 302  # checked in: the page now goes to the thanks


def test_a_failed_send_returns_to_the_first_screen_with_a_gap_and_keeps_the_rest(client, profile, plan):
    client.force_login(profile.user)
    url = f"/dashboard/check-in/{oid(plan.pk)}/"
    client.get(url)  # the questionnaires' stamps go into the draft
    client.post(url, {"step": "0", "go": "next", "feeling": "3"})
    client.post(url, {"step": "1", "go": "next", **items("phq9", 1, [1, 1, 1, 1])})
    # Screen 3 (PHQ-9 items 5-8) skipped, as an old tab or a lost post would.
    client.post(url, {"step": "3", "go": "next", **items("phq9", 9, [0]), "phq9-difficulty": "0"})
    for n in range(4, 8):
        client.post(url, {"step": str(n), "go": "next", **items("pcl5", (n - 4) * 4 + 1, [1] * 4)})

    response = client.post(url, {"step": "8", "go": "send", **items("pcl5", 17, [1] * 4)})

    assert response.status_code == 200
    page = text(response)
    assert "Part 3 of 9" in page and "Please choose an answer." in page
    assert not FollowUpCheckIn.objects.exists() and not ScreeningResponse.objects.exists()
    draft = client.session[f"checkin-draft:{plan.pk}"]
    assert draft["feeling"] == ["3"] and draft["pcl5-item_20"] == ["1"]  # every other answer kept

    client.post(url, {"step": "2", "go": "next", **items("phq9", 5, [0, 0, 0, 0])})
    done = client.post(url, {"step": "8", "go": "send", **items("pcl5", 17, [1] * 4)})
    assert done["Location"] == f"{url}thanks/"
    assert FollowUpCheckIn.objects.get().phq9.total == 4


def test_with_nothing_due_the_check_in_is_one_screen(client, profile, plan):
    screening(profile.user, "phq9")
    screening(profile.user, "pcl5")
    visit = plan
    client.force_login(profile.user)
    url = f"/dashboard/check-in/{oid(visit.pk)}/"

    page = text(client.get(url))
    assert "Part 1" not in page and "Send my check-in" in page

    response = client.post(url, {"step": "0", "go": "send", "feeling": "5"})
    assert response["Location"] == f"{url}thanks/"
