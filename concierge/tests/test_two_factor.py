import re
import time

import pytest
import time_machine
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from concierge.tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def enforced(settings):
    settings.TWO_FACTOR_ENFORCED = True


def code_for(device, drift=0):
    """The code the app would show now (drift=1: the next one, as a used code is not accepted twice)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


def log_in(client, user):
    return client.post("/accounts/login/", {"username": user.email, "password": TEST_PASSWORD})


def set_up(client, user):
    """Walk the setup page as a person would; returns (device, recovery codes)."""
    client.get("/accounts/2fa/setup/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page = client.post("/accounts/2fa/setup/", {"code": code_for(device)})
    codes = re.findall(r"<li>([a-z0-9]{8})</li>", page.content.decode())
    device.refresh_from_db()
    return device, codes


@pytest.mark.parametrize("who", ["staff_user", "clinician", "nurse"])
def test_staff_clinicians_and_nurses_must_set_up_a_second_step_before_anything(client, request, who):
    user = request.getfixturevalue(who)
    log_in(client, user)

    response = client.get("/me/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/setup/?next=")
    assert client.get("/admin/")["Location"].startswith("/accounts/2fa/setup/")


def test_setup_shows_a_qr_code_and_gives_ten_recovery_codes_once(client, staff_user):
    log_in(client, staff_user)

    page = client.get("/accounts/2fa/setup/").content.decode()
    assert 'src="data:image/svg+xml;base64,' in page
    device, codes = set_up(client, staff_user)

    assert device.confirmed
    assert len(codes) == 10 and len(set(codes)) == 10
    assert StaticToken.objects.filter(device__user=staff_user).count() == 10
    assert client.get("/admin/").status_code == 200  # this session is verified now


def test_a_wrong_setup_code_is_refused_beside_the_field(client, nurse):
    log_in(client, nurse)
    client.get("/accounts/2fa/setup/")

    page = client.post("/accounts/2fa/setup/", {"code": "000000"})

    assert "That code did not work" in page.content.decode()
    assert not TOTPDevice.objects.filter(user=nurse, confirmed=True).exists()


def test_next_login_asks_for_the_code_and_the_admin_refuses_until_it_is_given(client, staff_user):
    log_in(client, staff_user)
    device, _codes = set_up(client, staff_user)
    client.post("/accounts/logout/")

    log_in(client, staff_user)
    assert client.get("/admin/")["Location"].startswith("/accounts/2fa/verify/?next=%2Fadmin%2F")
    wrong = client.post("/accounts/2fa/verify/", {"code": "123456", "next": "/admin/"})
    assert "That code did not work" in wrong.content.decode()
    too_soon = client.post("/accounts/2fa/verify/", {"code": code_for(device, drift=1), "next": "/admin/"})
    assert "Too many wrong codes" in too_soon.content.decode()

    with time_machine.travel(time.time() + 3):
        ok = client.post("/accounts/2fa/verify/", {"code": code_for(device, drift=1), "next": "/admin/"})

    assert ok["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_works_once(client, clinician):
    log_in(client, clinician)
    _device, codes = set_up(client, clinician)
    client.post("/accounts/logout/")

    log_in(client, clinician)
    first = client.post("/accounts/2fa/verify/", {"code": codes[0]})
    assert first.status_code == 302
    client.post("/accounts/logout/")
    log_in(client, clinician)
    again = client.post("/accounts/2fa/verify/", {"code": codes[0]})

    assert "That code did not work" in again.content.decode()
    assert StaticToken.objects.filter(device__user=clinician).count() == 9


def test_admin_login_page_sends_people_to_the_one_login(client):
    response = client.get("/admin/login/?next=/admin/booking/")

    assert response["Location"] == "/accounts/login/?next=/admin/booking/"


def test_patients_may_turn_it_on_and_off(client, patient):
    log_in(client, patient)
    assert client.get("/me/").status_code == 200  # not required for patients

    set_up(client, patient)
    client.post("/accounts/logout/")
    log_in(client, patient)
    assert client.get("/me/")["Location"].startswith("/accounts/2fa/verify/")


def test_staff_cannot_turn_it_off(client, nurse):
    log_in(client, nurse)
    set_up(client, nurse)

    response = client.post("/accounts/2fa/disable/", follow=True)

    assert "cannot be turned off" in response.content.decode()
    assert TOTPDevice.objects.filter(user=nurse, confirmed=True).exists()


def test_demo_logins_share_the_published_key_and_the_local_run_shows_the_code(client, settings):
    import base64

    from django.core.management import call_command

    from concierge.demo import DEMO_TOTP_KEY_HEX
    from concierge.models import User
    from concierge.two_factor import current_code

    call_command("seed_demo")
    call_command("seed_demo")
    nurse = User.objects.get(email="nurse@demo.conciergemd.example")
    devices = TOTPDevice.objects.filter(user=nurse)
    assert [d.key for d in devices] == [DEMO_TOTP_KEY_HEX]
    assert base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY_HEX)).decode() == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert not TOTPDevice.objects.filter(user__email="patient@demo.conciergemd.example").exists()

    client.post("/accounts/login/", {"username": nurse.email, "password": "demo-pass-2026"})
    page = client.get("/accounts/2fa/verify/").content.decode()
    assert f"the code right now is <strong>{current_code(devices[0])}</strong>" in page

    settings.DEMO_DATA_ALLOWED = False  # production
    assert "the code right now" not in client.get("/accounts/2fa/verify/").content.decode()


@pytest.mark.django_db
def test_the_sessions_device_is_read_as_django_otp_reads_it_and_a_bad_one_is_no_device(rf, nurse, staff_user):
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY

    from concierge.middleware import TwoStepDeviceMiddleware

    device = TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    unconfirmed = TOTPDevice.objects.create(user=staff_user, name="new", confirmed=False)
    others = TOTPDevice.objects.create(user=staff_user, name="theirs", confirmed=True)

    def verified_device(user, persistent_id):
        request = rf.get("/")
        request.session = SessionStore()
        request.session[DEVICE_ID_SESSION_KEY] = persistent_id
        request.user = user
        TwoStepDeviceMiddleware(lambda r: None)._verify_user_sync(request, user)
        return user.otp_device, DEVICE_ID_SESSION_KEY in request.session

    found, kept = verified_device(nurse, device.persistent_id)
    assert found == device and kept and nurse.is_verified()
    assert {f.attname: getattr(found, f.attname) for f in TOTPDevice._meta.concrete_fields} == {
        f.attname: getattr(device, f.attname) for f in TOTPDevice._meta.concrete_fields
    }
    # Someone else's device, an unconfirmed one, a malformed or unknown id: no device, and the
    # session forgets it (django-otp's rules).
    for user, persistent_id in (
        (nurse, others.persistent_id),
        (staff_user, unconfirmed.persistent_id),
        (nurse, "otp_totp.totpdevice/not-a-number"),
        (nurse, "no_such_app.device/1"),
        (nurse, "concierge.user/1"),
        (nurse, f"otp_totp.totpdevice/{others.pk + 1000}"),
    ):
        assert verified_device(user, persistent_id) == (None, False), persistent_id
