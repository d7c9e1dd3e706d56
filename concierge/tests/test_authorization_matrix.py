"""The authorization matrix: every URL of the project, who may open it, and whose objects it shows.

The table is concierge/access.py. These tests walk the URL patterns (through every include), so a
URL added without an entry fails here with its name, and an entry for a URL that is gone fails too.
For each entry: a logged-out visitor, a person of each role, and, for URLs with an object id,
another person of the owner's role asking for the owner's object (404). Admin is one entry: its
own permission system is checked against the roles table (concierge/roles.py).
"""

import pytest
import time_machine
from django.contrib import admin
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from concierge import two_factor
from concierge.access import ACCESS, ADMIN, LOGIN, PUBLIC, ROLES, WEBHOOK, rule_for
from concierge.models import Role
from concierge.roles import ROLE_PERMISSIONS
from concierge.testing import authenticator_for, current_code
from concierge.tests.factories import TEST_PASSWORD, UserFactory

from .access_world import NOW, World, built_url, sample_path, url_for, url_patterns
from .access_world import ROLES as ALL_ROLES

pytestmark = pytest.mark.django_db

NON_ADMIN = sorted(name for name, rule in ACCESS.items() if rule.access != ADMIN)


@pytest.fixture(autouse=True)
def quiet(settings):
    """A fixed clock; rate limits off (they have their own tests) so that many requests fit in one test."""
    settings.RATE_LIMITS_ENABLED = False
    from notifications.gateways import sms

    with time_machine.travel(NOW, tick=False):
        yield
    sms.outbox.clear()


@pytest.fixture
def world(request, db):
    return World(request)


def call(client, method, url):
    return client.get(url) if method == "GET" else client.post(url, {})


def is_login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(reverse("login") + "?next=")


# --- the table is complete and honest ---------------------------------------------------------


def test_every_url_of_the_project_has_an_entry():
    names = {name for name, _parts, _pattern in url_patterns()}
    undeclared = sorted(name for name in names if rule_for(name) is None)
    assert not undeclared, "URLs with no entry in concierge/access.py (say who may open them): " + ", ".join(undeclared)


def test_every_entry_is_a_url_that_exists():
    names = {name for name, _parts, _pattern in url_patterns()}
    stale = sorted(name for name in NON_ADMIN if name not in names)
    assert not stale, "entries in concierge/access.py for URLs that no longer exist: " + ", ".join(stale)
    assert any(name.startswith("admin:") for name in names)


def test_entries_are_well_formed():
    for name, rule in ACCESS.items():
        assert rule.access in (PUBLIC, WEBHOOK, ROLES, ADMIN), name
        assert rule.methods and set(rule.methods) <= {"GET", "POST"}, name
        if rule.access == ROLES:
            assert rule.roles and (rule.roles == set(Role) or rule.refused in (403, 404)), name
            assert rule.anonymous == LOGIN or isinstance(rule.anonymous, int), name
        if rule.access == WEBHOOK:
            assert rule.methods == ("POST",) and rule.anonymous in (400, 403), name
        if rule.owned is not None:
            assert rule.access == ROLES, name


# --- every entry, as each kind of person ------------------------------------------------------


@pytest.mark.parametrize("name", NON_ADMIN)
def test_who_may_open_it(name, world):
    rule = ACCESS[name]
    url, _other_url = built_url(world, name, rule)

    # Logged out.
    for method in rule.methods:
        response = call(world.client(), method, url)
        where = f"{method} {url} ({name}) logged out"
        if rule.anonymous == LOGIN:
            assert is_login_redirect(response), f"{where}: expected the login page, got {response.status_code}"
        elif rule.access == PUBLIC and rule.anonymous == 200:
            assert response.status_code < 400 and not is_login_redirect(response), f"{where}: {response.status_code}"
        else:
            assert response.status_code == rule.anonymous, f"{where}: {response.status_code}"

    # Logged in, one person of each role; for URLs with an id, the object is the owner's (user A's).
    for role in ALL_ROLES:
        user = world.user(role)
        for method in rule.methods:
            response = call(world.client(user), method, url)
            where = f"{method} {url} ({name}) as {role.value}"
            if rule.access == WEBHOOK:
                # Nobody's login counts: without the provider's signature it is refused.
                assert response.status_code == rule.anonymous, f"{where}: {response.status_code}"
            elif rule.allows(role):
                assert response.status_code not in (401, 403, 404, 405), f"{where}: {response.status_code}"
                assert not is_login_redirect(response), f"{where}: sent to log in"
                if not name.startswith("two-factor-"):
                    assert "/accounts/2fa/" not in response.get("Location", ""), f"{where}: sent to the second step"
            else:
                assert response.status_code == rule.refused, (
                    f"{where}: expected {rule.refused}, got {response.status_code}"
                )


@pytest.mark.parametrize("name", sorted(n for n in NON_ADMIN if ACCESS[n].owned is not None))
def test_someone_elses_object_is_404(name, world):
    """User B (another person of the owner's role) asks for user A's object: 404, as for ids that do not exist."""
    rule = ACCESS[name]
    url, other_url = built_url(world, name, rule)
    owner = world.user(rule.owned.owner_role(rule))
    stranger = world.stranger(rule.owned.stranger or rule.owned.owner_role(rule))
    missing = url_for(world, name, "no-such-secret" if rule.owned.kind == "payment_secret" else 987654)

    for method in rule.methods:
        response = call(world.client(stranger), method, other_url)
        assert response.status_code == 404, f"{method} {other_url} ({name}) as user B: {response.status_code}"
        response = call(world.client(owner), method, missing)
        assert response.status_code == 404, f"{method} {missing} ({name}), an id that does not exist"
    # Its owner does get it: the 404 above is about whose it is, not a broken URL.
    response = call(world.client(owner), rule.methods[0], url)
    assert response.status_code not in (403, 404), f"{url} ({name}) as its owner: {response.status_code}"


# --- the admin, as a whole --------------------------------------------------------------------


def admin_paths():
    return sorted({sample_path(parts) for name, parts, _p in url_patterns() if name.startswith("admin:")})


def changelists():
    return {
        f"{model._meta.app_label}.{model._meta.model_name}": reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        )
        for model in admin.site._registry
    }


def test_every_admin_url_sends_logged_out_visitors_to_log_in(client):
    paths = admin_paths()
    assert len(paths) > 50
    for path in paths:
        response = client.get(path, follow=True)
        assert response.request["PATH_INFO"] == reverse("login"), f"{path} ended at {response.request['PATH_INFO']}"
        assert response.status_code == 200


@pytest.mark.parametrize("who", ["patient", "nurse"])
def test_patients_and_nurses_get_403_in_admin(who, world):
    client = world.client(world.user(Role(who)))
    for url in [reverse("admin:index"), *changelists().values()]:
        response = client.get(url, follow=True)
        assert response.status_code == 403, f"{url} as {who}: {response.status_code}"


def may_see(role, label):
    app_label, model = label.split(".")
    names = {str(p) for p in ROLE_PERMISSIONS[role]}
    return f"{app_label}.view_{model}" in names or f"{app_label}.change_{model}" in names


@pytest.mark.parametrize("role", [Role.STAFF, Role.CLINICIAN, Role.MANAGER])
def test_admin_roles_see_the_lists_their_group_allows(role, world):
    client = world.client(world.user(role))
    assert client.get(reverse("admin:index")).status_code == 200
    wrong = []
    for label, url in changelists().items():
        expected = 200 if may_see(role, label) else 403
        status = client.get(url).status_code
        if status != expected:
            wrong.append(f"{label}: {status}, roles.py says {expected}")
    assert not wrong, f"{role.value}: " + "; ".join(wrong)


# Clinical answers, plans and charts: the clinicians' (and the charts also the managers').
CLINICAL = [
    "patients.intakeresponse",
    "patients.screeningresponse",
    "patients.clearance",
    "patients.safetyalert",
    "patients.reviewqueueentry",
    "portal.followupcheckin",
    "nurses.visitchart",
]


def test_schedulers_get_403_on_every_clinical_list(world):
    client = world.client(world.user(Role.STAFF))
    lists = changelists()
    for label in CLINICAL:
        assert client.get(lists[label]).status_code == 403, label


def test_clinicians_open_the_clinical_lists(world):
    client = world.client(world.user(Role.CLINICIAN))
    lists = changelists()
    for label in CLINICAL:
        assert client.get(lists[label]).status_code == 200, label


def test_visit_and_payment_actions_refuse_roles_whose_group_may_not_change_them(world):
    """Clinicians read visits in admin but do not move, cancel, refund or mark them (roles.py)."""
    visit, payment = world.visit, world.payment
    client = world.client(world.user(Role.CLINICIAN))
    for name in ("reassign", "cancel_visit", "refund"):
        url = reverse(f"admin:booking_visit_{name}", args=[visit.pk])
        assert client.get(url).status_code == 403, name
        assert client.post(url, {"reason": "x"}).status_code == 403, name
    for name in ("remind", "no_show"):
        assert client.post(reverse(f"admin:booking_visit_{name}", args=[visit.pk])).status_code == 403, name
    assert client.get(reverse("admin:payments_payment_refund", args=[payment.pk])).status_code == 403
    visit.refresh_from_db()
    assert visit.status == "confirmed"
    # Reports are the managers'.
    for role in (Role.STAFF, Role.CLINICIAN):
        assert world.client(world.user(role)).get(reverse("admin:staff_reports")).status_code == 403
    assert world.client(world.user(Role.MANAGER)).get(reverse("admin:staff_reports")).status_code == 200


def test_a_superuser_opens_every_list(world):
    boss = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    client = world.client(boss)
    for label, url in changelists().items():
        assert client.get(url).status_code == 200, label


# --- found by the matrix: the two-step pages with only a password typed -------------------------
# The two-step pages are open to a session that has typed the password but not yet the code (so
# that people can get through the second step). Changing the second step itself must need it.


def password_only(user):
    """A session that typed the password but not the authenticator code."""
    client = Client()
    client.login(request=HttpRequest(), username=user.email, password=TEST_PASSWORD)
    return client


def verify_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(reverse("two-factor-verify"))


def test_a_password_alone_cannot_pair_another_authenticator(nurse):
    mine = authenticator_for(nurse)
    client = password_only(nurse)
    thief = two_factor.totp_device_start(user=nurse)

    assert verify_redirect(client.get(reverse("two-factor-setup")))
    response = client.post(reverse("two-factor-setup"), {"code": current_code(thief)})

    assert verify_redirect(response)
    assert list(TOTPDevice.objects.filter(user=nurse, confirmed=True)) == [mine]
    assert verify_redirect(client.get(reverse("nurses:today")))  # still not past the second step


def test_a_password_alone_cannot_get_new_recovery_codes(nurse):
    authenticator_for(nurse)
    client = password_only(nurse)

    response = client.post(reverse("two-factor-recovery-codes"))

    assert verify_redirect(response)
    assert not StaticToken.objects.filter(device__user=nurse).exists()


def test_a_password_alone_cannot_turn_a_patients_second_step_off(patient):
    authenticator_for(patient)
    client = password_only(patient)

    response = client.post(reverse("two-factor-disable"))

    assert verify_redirect(response)
    assert TOTPDevice.objects.filter(user=patient, confirmed=True).exists()


def test_recovery_codes_come_only_with_an_authenticator(staff_user):
    client = password_only(staff_user)  # must still pair an app

    response = client.post(reverse("two-factor-recovery-codes"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("two-factor-setup"))
    assert not StaticToken.objects.filter(device__user=staff_user).exists()


def test_after_the_second_step_the_authenticator_can_be_replaced(client, nurse):
    old = authenticator_for(nurse)
    client.force_login(nurse)  # both steps

    assert client.get(reverse("two-factor-setup")).status_code == 200
    new = TOTPDevice.objects.get(user=nurse, confirmed=False)
    page = client.post(reverse("two-factor-setup"), {"code": current_code(new)})

    assert page.status_code == 200 and "account/recovery_codes.html" in [t.name for t in page.templates]
    assert list(TOTPDevice.objects.filter(user=nurse, confirmed=True)) == [new]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
