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


# The official Spanish (US) versions of the PHQ-9 and GAD-7 (Pfizer's PHQ screeners), word for word
# (\u2013 is the en dash they print).
PHQ9_ES_STEM = "Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los siguientes problemas?"
PHQ9_ES_ITEMS = [
    "Poco interés o placer en hacer cosas",
    "Se ha sentido decaído(a), deprimido(a) o sin esperanzas",
    "Ha tenido dificultad para quedarse o permanecer dormido(a), o ha dormido demasiado",
    "Se ha sentido cansado(a) o con poca energía",
    "Sin apetito o ha comido en exceso",
    "Se ha sentido mal con usted mismo(a) \u2013 o que es un fracaso o que ha quedado mal con usted mismo(a) o con su "
    "familia",
    "Ha tenido dificultad para concentrarse en ciertas actividades, tales como leer el periódico o ver la televisión",
    "¿Se ha movido o hablado tan lento que otras personas podrían haberlo notado? o lo contrario \u2013 muy "
    "inquieto(a) o agitado(a) que ha estado moviéndose mucho más de lo normal",
    "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera",
]
GAD7_ES_STEM = "Durante las últimas 2 semanas, ¿con qué frecuencia le han molestado los siguientes problemas?"
GAD7_ES_ITEMS = [
    "Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta",
    "No ha sido capaz de parar o controlar su preocupación",
    "Se ha preocupado demasiado por motivos diferentes",
    "Ha tenido dificultad para relajarse",
    "Se ha sentido tan inquieto(a) que no ha podido quedarse quieto(a)",
    "Se ha molestado o irritado fácilmente",
    "Ha tenido miedo de que algo terrible fuera a pasar",
]
ES_ANSWERS = [(0, "Ningún día"), (1, "Varios días"), (2, "Más de la mitad de los días"), (3, "Casi todos los días")]


def test_the_phq9_and_gad7_read_as_pfizers_spanish_us_versions():
    from django.utils import translation

    from patients.instruments import GAD7, PHQ9

    with translation.override("es"):
        assert str(PHQ9.stem) == PHQ9_ES_STEM and [str(item) for item in PHQ9.items] == PHQ9_ES_ITEMS
        assert str(GAD7.stem) == GAD7_ES_STEM and [str(item) for item in GAD7.items] == GAD7_ES_ITEMS
        for definition in (PHQ9, GAD7):
            assert [(value, str(label)) for value, label in definition.options] == ES_ANSWERS  # same values


def test_the_phq9_page_shows_the_official_spanish_stem_and_item_9(client, patient):
    from .factories import PatientProfileFactory
    from .test_screening_steps import answer, token_of

    PatientProfileFactory(user=patient)
    patient.language = "es"
    patient.save()
    client.force_login(patient)
    url = "/questionnaires/phq9/"
    token = token_of(client.get(url).content.decode())
    answer(client, url, 0, {1: 1, 2: 2, 3: 3, 4: 0}, token=token)
    answer(client, url, 1, {5: 1, 6: 2, 7: 0, 8: 1}, token=token)

    last = client.get(f"{url}?step=2").content.decode()

    assert PHQ9_ES_STEM in last and PHQ9_ES_ITEMS[8] in last
    assert "Thoughts that you would be better off dead" not in last


@pytest.mark.django_db
def test_a_spanish_patients_language_lasts_for_their_request_only(client, patient):
    """The page is in Spanish, and says so; the thread is back in its own language afterwards, so
    whatever runs next in it (a test's next service call, say) is not in the patient's language."""
    from django.utils import translation

    patient.language = "es"
    patient.save(update_fields=["language"])
    client.force_login(patient)

    with translation.override("en"):
        response = client.get("/dashboard/")
        after = translation.get_language()

    assert response.status_code == 200 and '<html lang="es">' in response.content.decode()
    assert response["Content-Language"] == "es"
    assert after == "en"
