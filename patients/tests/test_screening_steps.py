"""Questionnaires a few items a screen (issue 18): answers kept between screens and through a
failed send, on the server (the session), not only in the browser."""

import re

import pytest

from concierge.opaque import encode as oid
from patients.models import ScreeningResponse

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def token_of(page):
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def answer(client, url, step, answers, go="next", token=""):
    data = {"step": str(step), "go": go, "token": token}
    data.update({f"item_{n}": str(v) for n, v in answers.items()})
    return client.post(url, data)


def test_the_phq9_in_three_screens_with_back_and_the_answers_kept(client, profile):
    client.force_login(profile.user)
    url = "/questionnaires/phq9/"
    page = client.get(url).content.decode()
    token = token_of(page)
    assert "Part 1 of 3" in page and page.count('type="radio"') == 4 * 4

    first = answer(client, url, 0, {1: 1, 2: 2, 3: 3, 4: 0}, token=token)
    assert first["Location"] == f"{url}?step=1"
    second = text(client.get(first["Location"]))
    assert "Part 2 of 3" in second

    answer(client, url, 1, {5: 1, 6: 2, 7: 0, 8: 1}, token=token)
    back = answer(client, url, 2, {9: 0}, go="back", token=token)
    assert back["Location"] == f"{url}?step=1"
    kept = client.get(back["Location"]).content.decode()
    assert re.search(r'name="item_6" value="2"[^>]*checked', kept)  # the answer given before

    third = client.get(f"{url}?step=2").content.decode()
    assert "Send my answers" in third and re.search(r'name="item_9" value="0"[^>]*checked', third)
    done = answer(client, url, 2, {9: 0}, go="send", token=token)

    saved = ScreeningResponse.objects.get()
    assert done["Location"] == f"/questionnaires/results/{oid(saved.pk)}/"
    assert saved.item_answers == [1, 2, 3, 0, 1, 2, 0, 1, 0]
    assert "screening-draft:phq9" not in client.session


def test_next_with_an_unanswered_item_stays_and_says_which(client, profile):
    client.force_login(profile.user)
    url = "/questionnaires/gad7/"
    token = token_of(client.get(url).content.decode())

    response = answer(client, url, 0, {1: 1, 2: 2, 4: 0}, token=token)

    page = text(response)
    assert response.status_code == 200
    assert "Please choose an answer." in page and "Part 1 of 2" in page
    assert re.search(r'name="item_2" value="2"[^>]*checked', response.content.decode())


def test_a_failed_send_returns_to_the_screen_with_the_gap(client, profile):
    client.force_login(profile.user)
    url = "/questionnaires/gad7/"
    token = token_of(client.get(url).content.decode())
    session = client.session
    session["screening-draft:gad7"] = {"token": token, "item_1": "1", "item_2": "2", "item_4": "0"}  # item 3 lost
    session.save()

    response = answer(client, url, 1, {5: 3, 6: 1, 7: 2}, go="send", token=token)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Part 1 of 2" in page and "Please choose an answer." in page
    assert re.search(r'name="item_1" value="1"[^>]*checked', page)
    assert not ScreeningResponse.objects.exists()
    assert client.session["screening-draft:gad7"]["item_5"] == "3"  # the last screen's answers kept
