"""Opaque ids (concierge/opaque.py): no URL a patient or nurse sees carries a row's integer key.

The keys stay internal; the token does not tell how many rows there are; old integer links answer
404; and a new URL pattern taking a plain ``int`` fails here, so a page added later cannot forget.
"""

import re
from itertools import pairwise

import pytest
import time_machine
from django.urls import converters
from hypothesis import given, settings
from hypothesis import strategies as st

from concierge import opaque
from concierge.access import ACCESS, ADMIN
from concierge.models import Role
from concierge.opaque import OpaqueIdConverter

from .access_world import NOW, World, built_url, url_patterns

# URL arguments that are not database keys, each with why.
NOT_KEYS = {
    ("booking:series_change", "index"): "a place in the proposal kept in the patient's own session",
}


def test_a_token_turns_back_into_its_key():
    for key in (1, 2, 3, 41, 10**6, 2**31 - 1, 2**31, opaque.MAX_KEY):
        token = opaque.encode(key)
        assert re.fullmatch(opaque.PATTERN, token)
        assert opaque.decode(token) == key


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=opaque.MAX_KEY))
def test_every_key_round_trips(key):
    assert opaque.decode(opaque.encode(key)) == key


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_anything_else_is_refused_with_value_error(text):
    try:
        key = opaque.decode(text)
    except ValueError:
        return
    assert 0 < key <= opaque.MAX_KEY and opaque.encode(key) == text


def test_neighbouring_keys_give_unrelated_tokens():
    """Tokens of 1..200 neither sort like the keys nor share their beginnings."""
    tokens = [opaque.encode(k) for k in range(1, 201)]
    assert len(set(tokens)) == 200
    assert sorted(tokens) != tokens
    assert len({t[:3] for t in tokens}) > 150
    # Differences between consecutive tokens, read as numbers, look like noise, not like 1.
    numbers = [int.from_bytes(t.encode()) for t in tokens]
    assert len({b - a for a, b in pairwise(numbers)}) == 199


def test_the_key_decides_the_tokens(settings):
    first = opaque.encode(7)
    settings.URL_ID_KEY = "another-key-entirely-0123456789-abcdefghijklmnopqrstuvwxyz"
    assert opaque.encode(7) != first
    assert opaque.decode(opaque.encode(7)) == 7


def test_no_url_outside_admin_takes_a_plain_integer():
    """Every id in a URL goes through <oid:…>; a new page with <int:pk> fails here."""
    plain = []
    for name, _parts, pattern in url_patterns():
        if name.startswith("admin:"):
            continue
        for kwarg, converter in getattr(pattern.pattern, "converters", {}).items():
            if isinstance(converter, converters.IntConverter) and (name, kwarg) not in NOT_KEYS:
                plain.append(f"{name} <int:{kwarg}>")
    assert not plain, "URLs with plain integer ids (use <oid:…>, concierge/opaque.py): " + ", ".join(plain)


def test_every_url_with_someones_object_uses_the_opaque_converter():
    from .access_world import OBJECT_KWARGS, patterns_by_name

    for name, rule in ACCESS.items():
        if rule.access == ADMIN or rule.owned is None or rule.owned.kind == "payment_secret":
            continue
        pattern = patterns_by_name()[name]
        found = {k: c for k, c in pattern.pattern.converters.items() if k in OBJECT_KWARGS}
        assert found, name
        assert all(isinstance(c, OpaqueIdConverter) for c in found.values()), name


@pytest.fixture
def world(request, db, settings):
    settings.RATE_LIMITS_ENABLED = False
    with time_machine.travel(NOW, tick=False):
        yield World(request)


OWNED = sorted(
    name
    for name, rule in ACCESS.items()
    if rule.access != ADMIN and rule.owned is not None and rule.owned.kind != "payment_secret"
)


@pytest.mark.django_db
@pytest.mark.parametrize("name", OWNED)
def test_old_integer_links_answer_404_and_the_token_works(name, world):
    rule = ACCESS[name]
    url, _other = built_url(world, name, rule)
    owner = world.user(rule.owned.owner_role(rule))
    client = world.client(owner)
    token = next(part for part in url.split("/") if re.fullmatch(opaque.PATTERN, part))
    old = url.replace(f"/{token}/", f"/{opaque.decode(token)}/")

    assert client.get(old).status_code == 404, old
    assert client.get(url).status_code not in (403, 404), url


@pytest.mark.django_db
def test_pages_show_no_row_numbers_in_links(world):
    """The patient's visit pages and the nurse's day link with tokens only."""
    visit = world.visit
    for role, url in ((Role.PATIENT, "/visits/"), (Role.NURSE, "/nurse/?date=2026-03-04")):
        page = world.client(world.user(role)).get(url).content.decode()
        assert opaque.encode(visit.pk) in page, (role, url)
        assert not re.search(rf"/visits/{visit.pk}/", page), (role, url)
        assert f"-{visit.pk}-" not in page and f'-{visit.pk}"' not in page
