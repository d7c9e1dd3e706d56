"""The patient's language: guessed from the browser, chosen at sign-up and in the profile, and
switched in the header by visitors; the pages follow it."""

import pytest

from concierge.models import User
from notifications.content import render
from notifications.models import Message

from .test_signup_and_profile import PASSWORD, confirm_link, profile_data, signup_data


def sign_up(client, browser="en", **changes):
    """The form (from a browser asking for `browser`), then the emailed link."""
    data = signup_data(**changes)
    assert client.post("/signup/", data, HTTP_ACCEPT_LANGUAGE=browser)["Location"] == "/signup/sent/"
    return client.post(confirm_link(data["email"]), {"password": data["password1"]}, HTTP_ACCEPT_LANGUAGE=browser)


pytestmark = pytest.mark.django_db


def test_a_visitor_whose_browser_asks_for_spanish_gets_the_sign_up_page_in_spanish(client):
    content = client.get("/signup/", HTTP_ACCEPT_LANGUAGE="es-US,es;q=0.9,en;q=0.5").content.decode()

    assert '<html lang="es">' in content
    assert "Cree su cuenta" in content and "Correo electrónico" in content
    assert 'value="es"  id="id_language_1" checked' in content  # the language choice starts on the browser's guess
    assert "Create your account" not in content


def test_signing_up_keeps_the_language_chosen_and_the_pages_follow_it(client):
    client.post("/signup/", signup_data(language="es"), HTTP_ACCEPT_LANGUAGE="en")
    email = Message.objects.get(template="signup_confirm")
    assert render(email).subject == "Confirme su correo para terminar de crear su cuenta"  # before any account
    client.post(confirm_link("new.person@example.com"), {"password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en")

    assert User.objects.get(email="new.person@example.com").language == "es"
    content = client.get("/profile/", HTTP_ACCEPT_LANGUAGE="en").content.decode()  # the profile wins over the browser
    assert "Sus datos" in content and "Guardar mis datos" in content


def test_without_a_choice_sign_up_keeps_the_browsers_language(client):
    sign_up(client, browser="es")

    assert User.objects.get(email="new.person@example.com").language == "es"


def test_a_form_error_is_in_spanish(client):
    response = client.post("/signup/", signup_data(password2="something-else-entirely"), HTTP_ACCEPT_LANGUAGE="es")

    assert "Las dos contraseñas no son iguales." in response.content.decode()


def test_the_profile_changes_the_language_and_leaving_it_out_keeps_it(client, patient):
    client.force_login(patient)

    client.post("/profile/", profile_data(language="es"))
    patient.refresh_from_db()
    assert patient.language == "es"

    client.post("/profile/", profile_data())
    patient.refresh_from_db()
    assert patient.language == "es"
    assert 'value="es"  id="id_language_1" checked' in client.get("/profile/").content.decode()


def test_the_header_switch_sets_a_visitors_language_and_returns_to_the_page(client):
    response = client.post("/language", {"language": "es", "next": "/signup/"})

    assert response.status_code == 302 and response["Location"] == "/signup/"
    content = client.get("/signup/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Cree su cuenta" in content
    assert 'value="en"' in content and ">English</button>" in content  # the way back


def test_the_header_switch_saves_a_logged_in_persons_choice(client, patient):
    client.force_login(patient)

    client.post("/language", {"language": "es", "next": "/profile/"})

    patient.refresh_from_db()
    assert patient.language == "es"


@pytest.mark.parametrize(
    "data", [{"language": "xx", "next": "/signup/"}, {"language": "es", "next": "https://evil.example/"}]
)
def test_the_header_switch_ignores_unknown_languages_and_foreign_addresses(client, patient, data):
    client.force_login(patient)

    response = client.post("/language", data)

    assert response["Location"] in ("/signup/", "/")
    patient.refresh_from_db()
    assert patient.language == ("es" if data["language"] == "es" else "en")
    assert "evil" not in response["Location"]


def test_password_is_not_kept_in_plain_text_for_spanish_sign_up(client):
    sign_up(client, language="es")

    assert User.objects.get(email="new.person@example.com").check_password(PASSWORD)


def test_phq9_is_asked_in_its_published_spanish_and_pcl5_in_english_with_the_reason(client, patient):
    patient.language = "es"
    patient.save()
    client.force_login(patient)

    phq9 = client.get("/questionnaires/phq9/").content.decode()
    assert "¿qué tan seguido ha tenido molestias debido a los siguientes problemas?" in phq9
    assert "Poco interés o placer en hacer cosas" in phq9 and "Más de la mitad de los días" in phq9
    assert "solo en inglés" not in phq9

    pcl5 = client.get("/questionnaires/pcl5/").content.decode()
    assert "El PCL-5 se ofrece solo en inglés" in pcl5
    assert '<div lang="en">' in pcl5
    assert "Repeated, disturbing, and unwanted memories of the stressful experience?" in pcl5
    assert "Quite a bit" in pcl5  # the answers too: the English instrument as validated
    assert "Parte 1 de" in pcl5 and "Siguiente" in pcl5  # the page around it (its steps) stays in Spanish
