"""No input gives a 500, no page echoes markup unescaped, every page with health data is no-store.

For every URL of the project (the authorization matrix, concierge/access.py, and its test world
build a real object for each URL and log in as someone allowed to open it):

- the page opened as that person carries `Cache-Control: no-store` (and so does every page a
  logged-in person opens, public ones included);
- the page is asked for with hostile query strings (dates at the ends of the calendar, NUL,
  emoji, right-to-left text, markup, non-finite numbers, very long strings);
- every form the page shows is posted back with every field set to each hostile value, and
  with no fields at all.

Any 5xx fails, and so does any HTML response that contains the markup probe unescaped or a
link to nowhere (an empty `tel:`, `sms:` or `mailto:`: a number the page meant to give). A fixed
set of values per field keeps the run short; the parsers underneath (dates, numbers, times,
opaque ids) also get a small Hypothesis budget of arbitrary text.
"""

import re
from datetime import date
from html.parser import HTMLParser

import pytest
import time_machine
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from booking.forms import parse_start
from concierge import opaque
from concierge.access import ACCESS, ADMIN, PUBLIC, WEBHOOK
from concierge.inputs import EARLIEST_DAY, LATEST_DAY, day_from, finite_number

from .access_world import NOW, ROLES, World, built_url

pytestmark = pytest.mark.django_db

PROBE = '<script>alert("x16")</script>'
HOSTILE = [
    "x" * 5000,
    "a\x00b",
    "😀👩‍⚕️🏳️‍🌈",
    "\u202egnp.exe\u202c שלום مرحبا",
    PROBE,
    '"><img src=x onerror=alert(1)>',
    "NaN",
    "Infinity",
    "-1e309",
    "0001-01-01",
    "9999-12-31",
    "9999-12-31T23:59:59+14:00",
    "2026-02-30",
    "-1",
    "99999999999999999999999999",
    "",
]
QUERY_KEYS = ("date", "start", "day", "first_day", "last_day", "next", "page", "q", "status", "week", "month", "m")
NON_ADMIN = sorted(name for name, rule in ACCESS.items() if rule.access != ADMIN)
# Pages whose POST ends the session or the account: posted last, once, with nothing hostile needed.
ENDS_SESSION = {"logout", "portal:account_close"}


@pytest.fixture(autouse=True)
def quiet(settings):
    settings.RATE_LIMITS_ENABLED = False
    from notifications.gateways import sms

    with time_machine.travel(NOW, tick=False):
        yield
    sms.outbox.clear()


@pytest.fixture
def world(request, db):
    return World(request)


TOKEN = "csrfmiddlewaretoken"


class _Forms(HTMLParser):
    """The names of the fields of each POST form on a page."""

    def __init__(self):
        super().__init__()
        self.forms: list[list[str]] = []
        self._in_post = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_post = (attrs.get("method") or "get").lower() == "post"
            if self._in_post:
                self.forms.append([])
        elif self._in_post and tag in ("input", "select", "textarea") and attrs.get("name") not in (None, TOKEN):
            self.forms[-1].append(attrs["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_post = False


def form_fields(response):
    if "text/html" not in response.get("Content-Type", ""):
        return []
    parser = _Forms()
    parser.feed(response.content.decode(errors="replace"))
    return parser.forms


# A link that goes nowhere: a number or address the page meant to give and did not have.
EMPTY_LINK = re.compile(r'href="(?:tel:|sms:|mailto:)?\s*"')


def check(response, where):
    assert response.status_code < 500, f"{where}: {response.status_code}"
    if "text/html" in response.get("Content-Type", ""):
        html = response.content.decode(errors="replace")
        assert PROBE not in html, f"{where}: markup echoed unescaped"
        empty = EMPTY_LINK.search(html)
        assert empty is None, f"{where}: a link to nowhere: {html[max(0, empty.start() - 120) : empty.end()]}"


def person_for(world, rule):
    """Someone allowed to open the page (None: logged out)."""
    if rule.access in (PUBLIC, WEBHOOK):
        return None
    return next(world.user(role) for role in ROLES if rule.allows(role))


@pytest.mark.parametrize("name", NON_ADMIN)
def test_hostile_input_never_gives_a_500_and_private_pages_are_no_store(name, world):
    rule = ACCESS[name]
    url, _other = built_url(world, name, rule)
    person = person_for(world, rule)
    client = world.client(person)

    if "GET" in rule.methods:
        page = client.get(url)
        check(page, f"GET {url} ({name})")
        if person is not None:
            assert "no-store" in page.get("Cache-Control", ""), f"GET {url} ({name}): no Cache-Control: no-store"
        for value in HOSTILE:
            check(client.get(url, dict.fromkeys(QUERY_KEYS, value)), f"GET {url}?…={value[:20]!r} ({name})")
        forms = form_fields(page)
    else:
        forms = [[]]

    if "POST" in rule.methods and name not in ENDS_SESSION:
        fields = sorted({field for form in forms for field in form})
        check(client.post(url, {}), f"POST {url} ({name}) with no fields")
        for value in HOSTILE:
            check(client.post(url, dict.fromkeys(fields, value)), f"POST {url} ({name}) every field={value[:20]!r}")
            check(client.post(url, {f: [value, value] for f in fields}), f"POST {url} ({name}) lists of {value[:20]!r}")


def test_a_logged_in_person_gets_no_store_on_public_pages_too(world):
    client = world.client(world.user(ROLES[0]))
    for name in ("home", "booking:coverage"):
        response = client.get(reverse(name))
        assert "no-store" in response["Cache-Control"], name
    assert "no-store" not in world.client().get(reverse("home")).get("Cache-Control", "")


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2026-02-30"])
def test_calendar_edge_days_in_links_answer_404(world, day):
    patient = world.user(ROLES[0])
    client = world.client(patient)
    code = world.infusion.code
    assert client.get(f"/book/{code}/{day}/").status_code == 404


# --- the parsers underneath, with arbitrary text ---------------------------------------------

FAST = hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(st.text())
def test_day_from_returns_a_day_in_range_or_none(text):
    day = day_from(text)
    assert day is None or (isinstance(day, date) and EARLIEST_DAY <= day <= LATEST_DAY)


@FAST
@given(st.one_of(st.text(), st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.none()))
def test_finite_number_is_finite_or_none(value):
    number = finite_number(value)
    assert number is None or number.is_finite()


@FAST
@given(st.one_of(st.text(), st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())))
def test_a_start_time_is_read_or_refused_with_a_message(text):
    from django import forms

    try:
        moment = parse_start(text)
    except forms.ValidationError:
        return
    assert EARLIEST_DAY <= moment.date() <= LATEST_DAY


@FAST
@given(st.text(alphabet=opaque.ALPHABET + "ilou0-", max_size=20))
def test_a_token_decodes_to_a_key_or_is_refused(text):
    try:
        key = opaque.decode(text)
    except ValueError:
        return
    assert opaque.encode(key) == text
    assert re.fullmatch(opaque.PATTERN, text)
