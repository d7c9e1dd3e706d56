import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory

from concierge.ratelimit import rate_limit


@rate_limit("unit-test", per_hour=3)
def limited_view(request):
    return HttpResponse("ok")


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def post_from(address):
    return limited_view(RequestFactory().post("/x", REMOTE_ADDR=address))


def test_posts_past_the_limit_get_429_with_a_clear_message():
    codes = [post_from("10.0.0.1").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    assert "Please wait 60 minutes" in post_from("10.0.0.1").content.decode()


def test_the_limit_is_per_address_and_never_applies_to_gets():
    for _ in range(3):
        post_from("10.0.0.1")

    assert post_from("10.0.0.2").status_code == 200
    assert limited_view(RequestFactory().get("/x", REMOTE_ADDR="10.0.0.1")).status_code == 200


def test_x_forwarded_for_is_used_only_when_trusted(settings):
    def post(forwarded):
        return limited_view(RequestFactory().post("/x", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=forwarded))

    for i in range(3):
        post(f"203.0.113.{i}")
    assert post("203.0.113.99").status_code == 429  # all counted against the proxy's address

    cache.clear()
    settings.RATE_LIMIT_TRUST_X_FORWARDED_FOR = True
    for i in range(3):
        assert post(f"203.0.113.{i}").status_code == 200
    assert post("203.0.113.0").status_code == 200


@pytest.mark.django_db
def test_the_public_and_booking_endpoints_are_limited(client):

    for _ in range(10):
        client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert client.post("/accounts/password/reset/", {"email": "nobody@example.com"}).status_code == 429

    cache.clear()
    codes = {client.get("/coverage/", {"zip": "10001"}).status_code for _ in range(121)}
    assert 429 in codes

    cache.clear()
    codes = [client.post("/signup/", {}).status_code for _ in range(21)]
    assert codes[-1] == 429 and codes[0] != 429
