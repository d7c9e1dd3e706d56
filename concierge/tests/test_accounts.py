import re

import pytest
from django.core import mail

from concierge.tests.factories import TEST_PASSWORD
from notifications.models import Message

pytestmark = pytest.mark.django_db


def test_login_page_has_labelled_fields(client):
    response = client.get("/accounts/login/")

    content = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<label[^>]*for="id_username"', content)
    assert re.search(r'<label[^>]*for="id_password"', content)
    assert '<main id="main"' in content


def test_wrong_password_shows_the_error_and_keeps_the_email(client, patient):
    response = client.post("/accounts/login/", {"username": patient.email, "password": "not-the-password"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "do not match an account" in content
    assert f'value="{patient.email}"' in content
    assert "_auth_user_id" not in client.session


def test_a_missing_field_is_marked_beside_that_field(client):
    response = client.post("/accounts/login/", {"username": "", "password": "x"})

    content = response.content.decode()
    assert 'id="id_username"' in content
    assert re.search(r'id="error_1_id_username"[^>]*>.*This field is required', content, re.S)


def test_patient_logs_in_and_lands_on_their_account(client, patient):
    response = client.post(
        "/accounts/login/", {"username": patient.email.upper(), "password": TEST_PASSWORD}, follow=True
    )

    assert response.status_code == 200
    assert int(client.session["_auth_user_id"]) == patient.pk
    assert patient.email in response.content.decode()


def test_staff_logs_in_with_both_steps_and_lands_in_admin(client, staff_user):
    from concierge.testing import authenticator_for, current_code

    device = authenticator_for(staff_user)
    response = client.post("/accounts/login/", {"username": staff_user.email, "password": TEST_PASSWORD})
    assert client.get(response["Location"])["Location"] == "/accounts/2fa/verify/?next=%2Fme%2F"

    verified = client.post("/accounts/2fa/verify/", {"code": current_code(device), "next": "/me/"})

    assert verified["Location"] == "/me/"
    assert client.get("/me/")["Location"] == "/admin/"


def test_logout_is_a_post_and_ends_the_session(client, patient):
    client.force_login(patient)

    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")

    assert "You are logged out" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/me/").status_code == 302


def test_password_reset_emails_a_link_through_the_outbox_that_sets_a_new_password(
    client, patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "PAT@example.com"})
        assert mail.outbox == []  # nothing is sent in the request: the outbox sends it once it commits

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [patient.email]
    assert message.subject == "Reset your ConciergeMD password"
    assert "X-ConciergeMD-Message" in message.extra_headers  # an outbox row sent it
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)
    # Once sent, the row keeps no trace of the link.
    row = Message.objects.get(template="password_reset")
    assert (row.status, row.recipient, row.context, row.body) == ("sent", patient, {}, "")

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-secret-42", "new_password2": "a-brand-new-secret-42"},
    )
    assert done.status_code == 302
    patient.refresh_from_db()
    assert patient.check_password("a-brand-new-secret-42")
    assert client.get(link, follow=True).context["validlink"] is False


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(
    client, patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert mail.outbox == [] and callbacks == []
    assert not Message.objects.exists()

    with django_capture_on_commit_callbacks(execute=False):
        known = client.post("/accounts/password/reset/", {"email": patient.email})

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert "If that address has an account" in client.get(unknown["Location"]).content.decode()


def test_the_core_hands_the_reset_email_to_the_outbox():
    # Connected in NotificationsConfig.ready(): without it, a reset request would email nothing.
    from concierge.signals import password_reset_requested
    from notifications.apps import RESET_EMAIL_RECEIVER

    assert any(lookup_key[0] == RESET_EMAIL_RECEIVER for lookup_key, *_ in password_reset_requested.receivers)


def test_password_change_refuses_a_short_password_and_keeps_the_session(client, patient):
    client.force_login(patient)

    short = client.post(
        "/accounts/password/change/",
        {"old_password": TEST_PASSWORD, "new_password1": "short1", "new_password2": "short1"},
    )
    assert "at least 12 characters" in short.content.decode()

    ok = client.post(
        "/accounts/password/change/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "longer-and-better-77",
            "new_password2": "longer-and-better-77",
        },
    )
    assert ok.status_code == 302
    patient.refresh_from_db()
    assert patient.check_password("longer-and-better-77")
    assert client.get("/me/").status_code == 200


def test_five_wrong_passwords_lock_that_email_from_that_address(client, patient):
    for _ in range(5):
        client.post(
            "/accounts/login/", {"username": patient.email, "password": "wrong-password"}, REMOTE_ADDR="10.1.1.1"
        )

    locked = client.post(
        "/accounts/login/", {"username": patient.email, "password": TEST_PASSWORD}, REMOTE_ADDR="10.1.1.1"
    )

    assert locked.status_code == 429
    assert "paused for 15 minutes" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address, or another email from this address, is not locked.
    other = client.post(
        "/accounts/login/", {"username": patient.email, "password": TEST_PASSWORD}, REMOTE_ADDR="10.2.2.2"
    )
    assert other.status_code == 302


def test_the_lockout_ends_after_the_cooling_off_period(client, patient):
    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            client.post("/accounts/login/", {"username": patient.email, "password": "wrong-password"})
        assert (
            client.post("/accounts/login/", {"username": patient.email, "password": TEST_PASSWORD}).status_code == 429
        )
        clock.shift(16 * 60)
        assert (
            client.post("/accounts/login/", {"username": patient.email, "password": TEST_PASSWORD}).status_code == 302
        )
