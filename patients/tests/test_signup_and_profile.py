import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from concierge.models import User
from notifications import content
from notifications.models import Message
from patients import services
from patients.models import PatientProfile, SignUpRequest

pytestmark = pytest.mark.django_db

PASSWORD = "violet-harbour-lantern-42"


def signup_data(**changes):
    return {
        "email": "New.Person@Example.com",
        "date_of_birth": "1990-04-12",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "accept_terms": "on",
        **changes,
    }


def error_beside(content, field, text):
    """The error sits in the field's own error block (crispy: id error_1_id_<field>)."""
    return re.search(rf'id="error_\d+_id_{field}"[^>]*>.*?{re.escape(text)}', content, re.S) is not None


def confirm_link(email):
    """The path of the link in the sign-up email for `email`: from the outbox row while it waits,
    from the email once it has gone (its row is blanked then: the link is a credential)."""
    row = Message.objects.filter(template="signup_confirm", to_address=email.lower()).latest("pk")
    text = row.context.get("confirm_url") or next(
        m.body for m in reversed(mail.outbox) if m.to == [email.lower()] and "/signup/confirm/" in m.body
    )
    found = re.search(r"/signup/confirm/[\w-]+/", text)
    assert found, text
    return found.group(0)


def sign_up(client, **changes):
    """Both steps: the form, then the emailed link with the same password. Returns the response."""
    data = signup_data(**changes)
    assert client.post("/signup/", data)["Location"] == "/signup/sent/"
    return client.post(confirm_link(data["email"]), {"password": data["password1"]})


def test_sign_up_sends_a_link_and_the_link_opens_the_account_and_leads_to_the_profile(client):
    response = client.post("/signup/", signup_data(sms_opt_in="on"))

    assert response.status_code == 302 and response["Location"] == "/signup/sent/"
    assert "Check your email" in client.get("/signup/sent/").content.decode()
    assert not User.objects.exists()  # no account until the link is used
    assert "_auth_user_id" not in client.session
    link = confirm_link("new.person@example.com")
    assert "Type the password you chose" in client.get(link).content.decode()

    response = client.post(link, {"password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    user = User.objects.get(email="new.person@example.com")
    assert user.has_role("patient") and not user.is_staff and user.is_active
    assert user.check_password(PASSWORD)
    profile = user.patient_profile
    assert profile.date_of_birth == date(1990, 4, 12)
    assert profile.terms_accepted_at is not None
    assert profile.sms_opt_in is True
    assert profile.sms_opt_in_changed_at is not None
    assert int(client.session["_auth_user_id"]) == user.pk
    assert "Your details" in client.get("/profile/").content.decode()
    assert not SignUpRequest.objects.exists()


def test_the_link_works_once(client):
    sign_up(client)
    client.logout()
    link = confirm_link("new.person@example.com")

    page = client.post(link, {"password": PASSWORD}).content.decode()

    assert "This link is no longer valid" in page
    assert User.objects.filter(email="new.person@example.com").count() == 1


def test_the_link_needs_the_password_chosen_with_it(client):
    client.post("/signup/", signup_data())
    link = confirm_link("new.person@example.com")

    response = client.post(link, {"password": "some-other-password-99"})

    assert error_beside(response.content.decode(), "password", "not the password chosen")
    assert not User.objects.exists()


def test_someone_who_signed_up_first_with_another_persons_address_never_holds_the_account(client):
    """A stranger signs up with Pat's address and their own password, then Pat signs up for real.

    Pat receives both links. The stranger's link does not open with Pat's password, and the
    stranger never gets a link at all; the account that opens has Pat's password."""
    client.post(
        "/signup/",
        signup_data(email="pat.real@example.com", password1="stranger-pass-1234", password2="stranger-pass-1234"),
    )
    strangers_link = confirm_link("pat.real@example.com")
    client.post("/signup/", signup_data(email="pat.real@example.com"))
    pats_link = confirm_link("pat.real@example.com")
    assert strangers_link != pats_link

    refused = client.post(strangers_link, {"password": PASSWORD})
    assert error_beside(refused.content.decode(), "password", "not the password chosen")
    assert client.post(pats_link, {"password": PASSWORD})["Location"] == "/profile/"

    user = User.objects.get(email="pat.real@example.com")
    assert user.check_password(PASSWORD) and not user.check_password("stranger-pass-1234")
    client.logout()
    assert "This link is no longer valid" in client.get(strangers_link).content.decode()


def test_a_link_runs_out(client, settings):
    client.post("/signup/", signup_data())
    link = confirm_link("new.person@example.com")

    with time_machine.travel(timezone.now() + timedelta(hours=settings.SIGNUP_LINK_HOURS, minutes=1)):
        assert "This link is no longer valid" in client.get(link).content.decode()
        assert services.signup_requests_purge() == 1
    assert not SignUpRequest.objects.exists()


def test_text_messages_are_a_separate_choice_recorded_with_its_time(client):
    sign_up(client)

    profile = PatientProfile.objects.get(user__email="new.person@example.com")
    assert profile.sms_opt_in is False
    assert profile.sms_opt_in_changed_at is not None


def test_under_18_is_refused_beside_the_birth_date_and_what_was_typed_is_kept(client):
    seventeen = timezone.localdate().replace(year=timezone.localdate().year - 17)

    response = client.post("/signup/", signup_data(date_of_birth=seventeen.isoformat()))

    content = response.content.decode()
    assert response.status_code == 200
    assert error_beside(content, "date_of_birth", "You must be 18 or older")
    assert 'value="New.Person@Example.com"' in content
    assert f'value="{seventeen.isoformat()}"' in content
    assert not User.objects.exists()


def test_terms_are_required(client):
    response = client.post("/signup/", signup_data(accept_terms=""))

    assert error_beside(response.content.decode(), "accept_terms", "Please agree to the terms")
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("password1", "password2", "field", "message"),
    [
        ("short-pw-1", "short-pw-1", "password1", "at least 12 characters"),
        ("password12345", "password12345", "password1", "too common"),
        (PASSWORD, PASSWORD + "x", "password2", "not the same"),
    ],
)
def test_weak_or_mismatched_passwords_are_refused_beside_the_field(client, password1, password2, field, message):
    response = client.post("/signup/", signup_data(password1=password1, password2=password2))

    assert error_beside(response.content.decode(), field, message)
    assert not User.objects.exists()


def _page_without_token(response, client):
    page = client.get(response["Location"]).content.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def test_sign_up_answers_the_same_for_an_address_with_an_account(client, patient):
    """Nothing tells a stranger that pat@example.com is a patient here: same redirect, same page,
    one outbox row each, no email sent within the request. Pat's email says someone tried."""
    new = client.post("/signup/", signup_data(email="someone.new@example.com"))
    known = client.post("/signup/", signup_data(email=patient.email.upper()))

    assert (new.status_code, new["Location"]) == (known.status_code, known["Location"]) == (302, "/signup/sent/")
    assert _page_without_token(new, client) == _page_without_token(known, client)
    assert mail.outbox == []  # written to the outbox only; sent after the request
    assert User.objects.filter(email__iexact=patient.email).count() == 1
    rows = Message.objects.order_by("pk")
    assert [r.template for r in rows] == ["signup_confirm", "signup_exists"]
    told = rows[1]
    assert told.to_address == patient.email and told.status == "pending"
    assert "/accounts/password/reset/" in told.context["reset_url"]
    assert content.template_get("signup_exists").sensitive


def test_the_owner_of_the_address_gets_a_way_in_and_a_closed_account_the_phone(client, patient):
    client.post("/signup/", signup_data(email=patient.email))
    rendered = content.render(Message.objects.get(template="signup_exists"))
    assert "Someone just tried to open a ConciergeMD account" in rendered.text
    assert "/accounts/password/reset/" in rendered.text
    assert not content.forbidden_words_in(rendered.subject)

    patient.is_active = False
    patient.save()
    client.post("/signup/", signup_data(email=patient.email))
    closed = content.render(Message.objects.filter(template="signup_exists").latest("pk"))
    assert "Your account is closed" in closed.text and "/accounts/password/reset/" not in closed.text


def test_the_password_reset_link_in_that_email_works(client, patient):
    client.post("/signup/", signup_data(email=patient.email))
    link = Message.objects.get(template="signup_exists").context["reset_url"].removeprefix("http://testserver")

    response = client.get(link, follow=True)

    assert "new password" in response.content.decode().lower()


def test_logged_in_people_are_sent_on_from_sign_up(client, patient):
    client.force_login(patient)

    assert client.get("/signup/")["Location"] == "/me/"


def test_sign_up_page_links_the_terms_and_is_linked_from_home(client):
    page = client.get("/signup/").content.decode()

    assert 'href="/signup/terms/"' in page
    assert client.get("/signup/terms/").status_code == 200
    assert 'href="/signup/"' in client.get("/").content.decode()


# --- the profile -----------------------------------------------------------------------------------


def profile_data(**changes):
    return {
        "legal_first_name": "Patricia",
        "legal_last_name": "Quinn",
        "preferred_name": "Pat",
        "date_of_birth": "1985-03-09",
        "mobile_phone": "(602) 555-0188",
        "sms_opt_in": "on",
        "address_line1": "200 W Washington St",
        "city": "Phoenix",
        "state": "AZ",
        "zip_code": "85004",
        "weight": "176",
        "weight_unit": "lb",
        "emergency_contact_name": "Robin Quinn",
        "emergency_contact_phone": "602-555-0112",
        "emergency_contact_relationship": "Sister",
        "support_person_name": "Robin Quinn",
        "support_person_phone": "602 555 0112",
        **changes,
    }


def test_profile_is_saved_with_e164_phones_kg_weight_and_the_zip_time_zone(client, patient):
    client.force_login(patient)

    response = client.post("/profile/", profile_data())

    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    profile = PatientProfile.objects.get(user=patient)
    assert str(profile.mobile_phone) == "+16025550188"
    assert str(profile.support_person_phone) == "+16025550112"
    assert profile.weight_kg == Decimal("79.8")  # 176 lb
    assert profile.weight_unit == "lb"
    assert profile.time_zone == "America/Phoenix"
    assert profile.is_complete
    assert profile.sms_opt_in_changed_at is not None
    patient.refresh_from_db()
    assert (patient.first_name, patient.last_name) == ("Pat", "Quinn")


def test_profile_form_shows_the_weight_back_in_the_unit_typed(client, patient):
    client.force_login(patient)
    client.post("/profile/", profile_data(weight="180"))

    page = client.get("/profile/").content.decode()

    assert 'name="weight" value="180"' in page
    assert 'value="(602) 555-0188"' in page


def test_weight_in_kg(client, patient):
    client.force_login(patient)
    client.post("/profile/", profile_data(weight="82.4", weight_unit="kg"))

    assert PatientProfile.objects.get(user=patient).weight_kg == Decimal("82.4")


def test_a_zip_from_another_state_is_refused_beside_the_zip_and_everything_typed_is_kept(client, patient):
    client.force_login(patient)

    response = client.post("/profile/", profile_data(zip_code="10001"))

    content = response.content.decode()
    assert response.status_code == 200
    assert error_beside(content, "zip_code", "This ZIP code is in NY, not AZ")
    assert 'value="10001"' in content
    assert 'value="200 W Washington St"' in content
    assert 'value="(602) 555-0188"' in content
    assert not PatientProfile.objects.filter(user=patient, zip_code="10001").exists()


@pytest.mark.parametrize(
    "field, value, spanish",
    [
        # localflavor's own Spanish said "XXXXX o XXXX-XXXX": four digits before the dash.
        ("zip_code", "8500", "Escriba el código postal con el formato XXXXX o XXXXX-XXXX."),
        ("zip_code", "10001", "Este código postal es de NY, no de AZ."),
        ("date_of_birth", "2099-01-01", "La fecha de nacimiento está en el futuro."),
    ],
)
def test_the_profiles_checks_answer_in_spanish(client, patient, field, value, spanish):
    patient.language = "es"
    patient.save(update_fields=["language"])
    client.force_login(patient)

    response = client.post("/profile/", profile_data(**{field: value}))

    assert error_beside(response.content.decode(), field, spanish)


@pytest.mark.parametrize("phone", ["+44 20 7183 8750", "555-1234", "12345", "(212) 555-01"])
def test_a_phone_that_is_not_a_us_mobile_is_refused_beside_the_field(client, patient, phone):
    client.force_login(patient)

    response = client.post("/profile/", profile_data(mobile_phone=phone))

    content = response.content.decode()
    assert error_beside(content, "mobile_phone", "Enter a US mobile number")
    assert f'value="{phone}"' in content


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", (date.today() - timedelta(days=365 * 17)).isoformat(), "18 or older"),
        ("weight", "20", "Please check your weight"),
        ("weight", "700", "Please check your weight"),
        ("legal_last_name", "", "This field is required"),
        ("support_person_phone", "", "This field is required"),
    ],
)
def test_other_bad_profile_input_is_refused_beside_its_field(client, patient, field, value, message):
    client.force_login(patient)

    response = client.post("/profile/", profile_data(**{field: value}))

    assert response.status_code == 200
    assert error_beside(response.content.decode(), field, message)


def test_changing_the_text_message_choice_records_when(client, profile):
    client.force_login(profile.user)
    before = profile.sms_opt_in_changed_at

    client.post("/profile/", profile_data())  # still opted in
    profile.refresh_from_db()
    assert profile.sms_opt_in_changed_at == before

    client.post("/profile/", profile_data(sms_opt_in=""))
    profile.refresh_from_db()
    assert profile.sms_opt_in is False
    assert profile.sms_opt_in_changed_at > before
