import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from concierge.models import User
from patients.models import PatientProfile

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


def test_sign_up_creates_a_patient_with_a_profile_logs_in_and_leads_to_the_profile(client):
    response = client.post("/signup/", signup_data(sms_opt_in="on"))

    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    user = User.objects.get(email="new.person@example.com")
    assert user.has_role("patient") and not user.is_staff
    profile = user.patient_profile
    assert profile.date_of_birth == date(1990, 4, 12)
    assert profile.terms_accepted_at is not None
    assert profile.sms_opt_in is True
    assert profile.sms_opt_in_changed_at is not None
    assert int(client.session["_auth_user_id"]) == user.pk
    assert "Your details" in client.get("/profile/").content.decode()


def test_text_messages_are_a_separate_choice_recorded_with_its_time(client):
    client.post("/signup/", signup_data())

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


def test_an_email_already_in_use_is_refused(client, patient):
    response = client.post("/signup/", signup_data(email=patient.email.upper()))

    assert error_beside(response.content.decode(), "email", "already exists")
    assert User.objects.filter(email=patient.email).count() == 1


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
