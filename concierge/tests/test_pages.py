import re

import pytest
from django.urls import include, path

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("an unexpected failure")


urlpatterns = [path("boom/", boom), path("", include("concierge.urls"))]


def test_home_explains_the_service_and_how_to_start(client):
    response = client.get("/")

    content = response.content.decode()
    assert response.status_code == 200
    for words in (
        "ketamine",
        "PTSD, depression and anxiety",
        "certified nurse",
        "evaluates you first",
        "vital signs",
        "Follow-up after",
        "(888) 555-0142",
        'href="/accounts/login/"',
    ):
        assert words in content, words


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.content.decode()


def test_the_kept_policy_is_django_csps_own_and_follows_the_settings(client, settings, rf):
    from csp.utils import build_policy
    from django.http import HttpResponse

    from concierge.middleware import ContentSecurityPolicyMiddleware

    assert client.get("/")["Content-Security-Policy"] == build_policy()

    changed = {"DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"], "img-src": ["'self'"]}}
    settings.CONTENT_SECURITY_POLICY = changed
    assert client.get("/")["Content-Security-Policy"] == build_policy()
    assert "data:" not in client.get("/")["Content-Security-Policy"]

    # A policy asking for nonces: a response that used one carries it (django-csp builds it).
    from csp.constants import NONCE

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {**changed["DIRECTIVES"], "script-src": ["'self'", NONCE]}}
    request = rf.get("/")

    def uses_a_nonce(request):
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")

    response = ContentSecurityPolicyMiddleware(uses_a_nonce)(request)
    assert f"'nonce-{request._csp_nonce}'" in response["Content-Security-Policy"]

    # A nonce asked for once the header is written is refused, as django-csp refuses it.
    request = rf.get("/")
    ContentSecurityPolicyMiddleware(lambda request: HttpResponse("plain"))(request)
    with pytest.raises(Exception, match="not available after the CSP header"):
        str(request.csp_nonce)


def test_unknown_page_gets_the_friendly_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


@pytest.mark.urls("concierge.tests.test_pages")
def test_server_error_gets_the_friendly_500(client):
    client.raise_request_exception = False

    response = client.get("/boom/")

    assert response.status_code == 500
    content = response.content.decode()
    assert "Something went wrong on our side" in content
    assert "(888) 555-0142" in content


def test_forbidden_gets_the_friendly_403(client, rf):
    from django.views.defaults import permission_denied

    response = permission_denied(rf.get("/"), exception=None)

    assert response.status_code == 403
    assert "You cannot open this page" in response.content.decode()


def test_vendored_assets_are_served_locally(client):
    home = client.get("/").content.decode()

    assert "/static/vendor/bootstrap/bootstrap.min.css" in home
    # Every script and stylesheet comes from this site (not "cdn" anywhere in the page: a random
    # CSP nonce or CSRF token may spell it).
    assets = re.findall(r'<(?:script[^>]*\ssrc|link[^>]*\shref)="([^"]+)"', home)
    assert assets and all(url.startswith("/") and not url.startswith("//") for url in assets), assets


def test_admin_is_for_staff_only(client, staff_user, clinician, nurse, patient):
    for user, expected in ((staff_user, 200), (clinician, 200), (nurse, 403), (patient, 403)):
        client.force_login(user)
        response = client.get("/admin/", follow=True)
        assert response.status_code == expected, user.email
        if expected == 403:
            assert "You cannot open this page" in response.content.decode()
    client.logout()
    assert client.get("/admin/").status_code == 302
