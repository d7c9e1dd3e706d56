"""Messages in the patient's language: every template in Spanish, chosen when it is rendered, and
Spanish STOP/START/HELP keywords."""

import re

import pytest
from django.utils import translation

from notifications import content
from notifications.content import forbidden_words_in
from notifications.models import Channel, SmsOptOut

from .conftest import local
from .test_content import LINKS, PEOPLE, TO_AN_ADDRESS, WITH_LINK, every_message, visit_for
from .test_twilio import inbound, signed_post, twilio_token  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

# A Saturday ("sáb") and a Wednesday ("mié"): the day names with accents.
SPANISH_PEOPLE = [
    *PEOPLE,
    ("Sofía Núñez", "America/New_York", "10118", "NY", local("America/New_York", 2026, 3, 7, 10, 0)),
    ("Begoña", "America/Anchorage", "99501", "AK", local("America/Anchorage", 2026, 9, 30, 12, 30)),
]


def spanish(message):
    if message.recipient is not None:
        message.recipient.language = "es"
    else:
        message.context = {**message.context, "language": "es"}
    return message


@pytest.mark.parametrize("telehealth", [False, True], ids=["home", "video"])
@pytest.mark.parametrize("person", SPANISH_PEOPLE, ids=lambda p: f"{p[0] or 'noname'}-{p[1]}")
def test_every_template_in_spanish_is_translated_private_and_fits_two_segments(person, telehealth):
    visit = visit_for(*person, telehealth=telehealth)
    with translation.override("es"):
        when = content.when_text(visit.starts_at, person[1])
    checked = 0
    for message in every_message(visit):
        visit.patient.language = "en"
        english = content.render(message)
        rendered = content.render(spanish(message))
        texts = [rendered.subject, rendered.text, re.sub(r"<[^>]+>", " ", rendered.html)]
        for text in texts:
            assert forbidden_words_in(text) == [], (message.template, message.channel, text)
        if content.template_get(message.template).staff_page:
            # A page to the clinician on call, in their language: neutral words and the queue's link.
            queue_url = message.context["queue_url"]
            assert rendered.text == "ConciergeMD: alerta urgente de un paciente, abra la cola: " + queue_url
            checked += 1
            continue
        if message.template != "staff_alert":  # written to staff, who read English
            assert rendered.text != english.text, (message.template, message.channel)
            assert "Reply STOP" not in rendered.text and "Questions?" not in rendered.text, rendered.text
        if message.channel == Channel.SMS:
            text = rendered.text
            size = content.sms_size(text)
            assert size.segments <= content.SMS_MAX_SEGMENTS, (message.template, size, text)
            assert text.endswith("PARA: salir"), text
            if message.template not in TO_AN_ADDRESS:
                assert text.startswith("Hola "), text
            if message.template in WITH_LINK:
                assert LINKS[message.template][WITH_LINK[message.template]] in text, text
            elif message.template not in TO_AN_ADDRESS and content.template_get(message.template).visit_statuses:
                if message.template != "on_my_way":
                    assert content.to_gsm7(when) in text, (when, text)
                assert "(888) 555-0142" in text, text
        else:
            assert rendered.subject != english.subject or message.template == "staff_alert", rendered.subject
        checked += 1
    assert checked == sum(len(spec.channels) for spec in content.TEMPLATES.values())


def test_a_spanish_name_keeps_its_accents_when_they_fit_and_loses_them_rather_than_a_segment():
    visit = visit_for(*SPANISH_PEOPLE[-2], telehealth=False)  # Sofía Núñez, on a Saturday
    visit.patient.language = "es"
    messages = {m.template: m for m in every_message(visit) if m.channel == Channel.SMS}
    short = content.render(messages["reminder_2h"]).text
    assert short.startswith("Hola Sofía,"), short  # two UCS-2 segments still hold the name
    long = content.render(messages["waitlist_offer"]).text
    assert long.startswith("Hola Sofia:"), long  # the wording is GSM-7: the name's accent would cost a segment
    assert content.sms_size(long).encoding == "GSM-7"


def test_a_message_is_written_in_the_language_the_patient_has_when_it_is_sent():
    visit = visit_for(*PEOPLE[0], telehealth=False)
    message = next(m for m in every_message(visit) if m.template == "confirmation" and m.channel == Channel.EMAIL)
    assert content.render(message).subject == "Your ConciergeMD visit is booked"

    visit.patient.language = "es"  # changed in the profile after the message was queued

    rendered = content.render(message)
    assert rendered.subject == "Su visita de ConciergeMD está reservada"
    assert "Hola, Alex:" in rendered.text and "vie 6 mar, 10:00 AM EST" in rendered.text
    assert content.preview(message)[0] == "Su visita de ConciergeMD está reservada"  # what staff see in the outbox


@pytest.mark.parametrize("word", ["PARA", "para", "Alto.", "CANCELAR", "¡Para!", "BAJA"])
def test_spanish_stop_words_opt_the_number_out(client, twilio_token, word):  # noqa: F811
    response = signed_post(client, "twilio-inbound", inbound("SM1", word))

    assert "<Message>" not in response.content.decode()
    assert SmsOptOut.objects.get(phone_number="+12125550143").is_opted_out


def test_comenzar_opts_back_in_and_ayuda_answers_in_spanish(client, twilio_token):  # noqa: F811
    signed_post(client, "twilio-inbound", inbound("SM1", "PARA"))
    started = signed_post(client, "twilio-inbound", inbound("SM2", "Comenzar")).content.decode()
    helped = signed_post(client, "twilio-inbound", inbound("SM3", " ayuda ")).content.decode()

    assert SmsOptOut.objects.get().is_opted_out is False
    assert "volverá a recibir mensajes" in started
    assert "Para ayuda llame al (888) 555-0142" in helped and "Responda PARA para salir" in helped
    english = signed_post(client, "twilio-inbound", inbound("SM4", "HELP")).content.decode()
    assert "For help call (888) 555-0142" in english


def test_a_spanish_text_writes_the_day_before_the_month():
    """Sofía's Saturday, March 7 at 10:00 AM reads "sab 7 mar" (concierge/formats), never "Mar 7"."""
    visit = visit_for(*SPANISH_PEOPLE[-2], telehealth=False)
    texts = []
    for message in every_message(visit):
        if message.channel == Channel.SMS:
            visit.patient.language = "es"
            texts.append(content.render(spanish(message)).text)
    assert any("sab 7 mar, 10:00 AM EST" in text for text in texts), texts
    assert not [text for text in texts if "Mar 7" in text or "7 Mar" in text]
