"""In Spanish, at phone width: a visitor switches the site to Spanish in the header, signs up,
gives their details, answers the health questions and the questionnaires (the PCL-5 in English,
as it says), books and pays for the video evaluation, and gets the confirmation in Spanish. Once
a clinician clears her, she reads the consent form in Spanish, signs it, and may book infusions."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from booking.models import Visit, VisitStatus
from concierge.models import User
from concierge.tests.factories import UserFactory
from notifications.content import render
from notifications.models import Message
from patients.consent import FIRST_TITLE_ES, FIRST_VERSION
from patients.models import ConsentSignature
from patients.tests.factories import cleared
from patients.tests.test_signup_and_profile import confirm_link

PASSWORD = "maple-orbit-candle-2026"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo")


def answer_every_question(page, *, prefer="No"):
    """Each group of choices on the page: the answer `prefer` where there is one, else the first."""
    for group in page.locator("main fieldset").all():
        radios = group.locator("input[type=radio]")
        if radios.count() == 0:
            continue
        preferred = group.get_by_label(prefer, exact=True)
        (preferred if preferred.count() == 1 else radios.first).check()


def answer_every_step(page, axe, *, prefer):
    """A questionnaire a few items a screen (its progress in Spanish): each screen answered, then
    "Siguiente", until the last one sends the answers."""
    while True:
        answer_every_question(page, prefer=prefer)
        send = page.get_by_role("button", name="Enviar mis respuestas")
        if send.count():
            send.click()
            return
        expect(page.get_by_text(re.compile(r"^Parte \d+ de \d+$"))).to_be_visible()
        page.get_by_role("button", name="Siguiente").click()
        axe(page)


def test_sign_up_intake_and_booking_in_spanish_on_a_phone(live_server, page, axe, demo):
    page.goto(live_server.url + "/")
    axe(page)
    page.get_by_role("button", name="Show menu").click()
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    axe(page)

    page.goto(live_server.url + "/signup/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cree su cuenta")
    axe(page)
    page.get_by_label("Correo electrónico").fill("lucia.new@example.com")
    page.get_by_label("Fecha de nacimiento").fill("1988-03-02")
    page.get_by_label(re.compile(r"^\s*Contraseña\s*\*?\s*$")).fill(PASSWORD)
    page.get_by_label("Escriba la contraseña otra vez").fill(PASSWORD)
    page.get_by_label("Acepto los términos del servicio y el aviso de privacidad").check()
    expect(page.get_by_label("Español")).to_be_checked()  # the switch's choice is the first guess
    page.get_by_role("button", name="Crear mi cuenta").click()

    # the link in the email (written in Spanish before any account exists), then the password again
    expect(page.get_by_role("heading", level=1)).to_have_text("Revise su correo")
    axe(page)
    sent = [m for m in mail.outbox if m.to == ["lucia.new@example.com"]]
    assert [m.subject for m in sent] == ["Confirme su correo para terminar de crear su cuenta"]
    page.goto(live_server.url + confirm_link("lucia.new@example.com"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Termine de crear su cuenta")
    axe(page)
    page.get_by_label(re.compile(r"^\s*Contraseña\s*\*?\s*$")).fill(PASSWORD)
    page.get_by_role("button", name="Abrir mi cuenta").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sus datos")
    axe(page)
    assert User.objects.get(email="lucia.new@example.com").language == "es"
    page.get_by_label("Nombre legal").fill("Lucía")
    page.get_by_label("Apellido(s) legal(es)").fill("Fernández")
    page.get_by_label("Fecha de nacimiento").fill("1988-03-02")
    page.get_by_label("Teléfono celular").fill("(212) 555-0199")
    page.get_by_label(re.compile(r"^\s*Dirección\s*\*?\s*$")).fill("350 W 31st St")
    page.get_by_label("Ciudad").fill("New York")
    page.get_by_label("Estado").select_option("NY")
    page.get_by_label("Código postal (ZIP)").fill("10001")
    page.get_by_label(re.compile(r"^\s*Peso\s*\*?\s*$")).fill("150")
    page.get_by_label("Contacto de emergencia: nombre").fill("Ana Fernández")
    page.get_by_label("Contacto de emergencia: teléfono").fill("212 555 0123")
    page.get_by_label("Adulto que se queda con usted después de cada visita: nombre").fill("Ana Fernández")
    page.get_by_label("Teléfono de esa persona").fill("212-555-0123")
    page.get_by_role("button", name="Guardar mis datos").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Hola, Lucía")
    axe(page)
    page.get_by_role("link", name="Responder las preguntas de salud").click()

    for heading in (
        "Corazón, presión arterial y cerebro",
        "Salud mental y tratamientos anteriores",
        "Alcohol y otras sustancias",
        "Embarazo, hígado y reacciones anteriores",
        "Medicamentos y alergias",
    ):
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        axe(page)
        answer_every_question(page)
        if heading.startswith("Salud mental"):
            page.get_by_label("¿Cuántos medicamentos diferentes").fill("2")
        if heading.startswith("Alcohol"):
            page.get_by_role("group", name=re.compile("drogas recreativas")).get_by_label("No, nunca").check()
        if heading.startswith("Embarazo"):
            page.get_by_role("group", name=re.compile("ketamina antes")).get_by_label(
                "Nunca he recibido ketamina"
            ).check()
        if heading.startswith("Medicamentos"):
            page.get_by_label("Anote cada medicamento").fill("Ninguno")
        page.get_by_role("button", name=re.compile("Guardar y (continuar|revisar)")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Revise y envíe sus respuestas")
    axe(page)
    page.get_by_role("button", name="Enviar mis respuestas").click()
    expect(page.get_by_text("Nada en sus respuestas le impide reservar su evaluación")).to_be_visible()
    axe(page)

    page.get_by_role("link", name="Responder los cuestionarios de síntomas").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cuestionario sobre la salud del paciente (PHQ-9)")
    axe(page)
    answer_every_step(page, axe, prefer="Ningún día")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gracias: su PHQ-9 quedó guardado")
    axe(page)
    page.get_by_role("link", name=re.compile("Siguiente: el GAD-7")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Escala del trastorno de ansiedad generalizada (GAD-7)")
    axe(page)
    answer_every_step(page, axe, prefer="Ningún día")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gracias: su GAD-7 quedó guardado")
    axe(page)
    page.get_by_role("link", name=re.compile("Siguiente: el PCL-5")).click()
    expect(page.get_by_text("El PCL-5 se ofrece solo en inglés")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("PTSD Checklist for DSM-5 (PCL-5)")
    axe(page)
    answer_every_step(page, axe, prefer="Not at all")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gracias: su PCL-5 quedó guardado")
    axe(page)

    page.goto(live_server.url + "/dashboard/")
    axe(page)
    page.get_by_role("link", name="Reservar su evaluación").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reservar una visita")
    axe(page)
    page.get_by_role("link", name="Elegir una hora").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Elija un día")
    axe(page)
    page.locator("a.day-free").first.click()
    axe(page)
    page.locator("a.time-button").first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Revise su visita")
    axe(page)
    page.get_by_role("button", name=re.compile("Guardar esta hora")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Pague para reservar su visita")
    expect(page.get_by_text("Le guardamos esta hora hasta las")).to_be_visible()
    axe(page)
    page.get_by_label("Número de tarjeta").fill("4242 4242 4242 4242")
    page.get_by_label("Vencimiento (MM / AA)").fill("12 / 34")
    page.get_by_label("Código de seguridad (CVC)").fill("123")
    page.get_by_role("button", name=re.compile(r"^Pagar ")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Su visita está reservada")
    axe(page)
    visit = Visit.objects.get(patient__email="lucia.new@example.com")
    assert visit.status == VisitStatus.CONFIRMED
    confirmation = Message.objects.get(visit=visit, template="confirmation", channel="email")
    assert render(confirmation).subject == "Su visita de ConciergeMD está reservada"  # her language

    # Cleared by a clinician after the evaluation: the consent, in Spanish, before any infusion.
    lucia = User.objects.get(email="lucia.new@example.com")
    cleared(lucia, UserFactory(role="clinician", email="dra.ruiz@example.com"), consent=False)
    page.goto(live_server.url + "/book/")
    expect(page.get_by_role("status").first).to_contain_text("Lea y firme el formulario de consentimiento")
    axe(page)
    page.get_by_role("link", name="Leer y firmar el formulario de consentimiento").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FIRST_TITLE_ES)
    expect(page.get_by_role("heading", name="Riesgos menos frecuentes pero graves")).to_be_visible()
    expect(page.locator("main")).to_contain_text("benzodiacepinas")
    expect(page.locator("main")).not_to_contain_text("Less common but serious risks")
    expect(page.get_by_text("solo está disponible en inglés")).to_have_count(0)
    axe(page)
    page.get_by_label("Escriba su nombre legal completo para firmar").fill("Lucía Fernández")
    page.get_by_label(re.compile("Leí este formulario de consentimiento")).check()
    page.get_by_role("button", name="Firmar el formulario de consentimiento").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Reservar una visita")
    axe(page)
    signature = ConsentSignature.objects.get(patient=lucia)
    assert (signature.document.version, signature.language) == (FIRST_VERSION, "es")
