"""What messages say: every template rendered with realistic data, checked against the wording rules."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from notifications import content, services
from notifications.content import FORBIDDEN_WORDS, forbidden_words_in, gsm7_length, to_gsm7
from notifications.models import Channel, Message

from .conftest import local
from .factories import PatientProfileFactory, VideoVisitServiceFactory, VisitFactory

pytestmark = pytest.mark.django_db

# Realistic people and places: short and long names, letters GSM-7 lacks, the zones we serve.
PEOPLE = [
    ("Alex", "America/New_York", "10118", "NY", local("America/New_York", 2026, 3, 6, 10, 0)),
    ("Maximiliano-Alexander", "America/Anchorage", "99501", "AK", local("America/Anchorage", 2026, 9, 30, 12, 30)),
    ("Zoë Renée", "America/Phoenix", "85004", "AZ", local("America/Phoenix", 2026, 12, 16, 11, 45)),
    ("", "Pacific/Honolulu", "96813", "HI", local("Pacific/Honolulu", 2026, 7, 1, 9, 15)),
]


# What the templates with a link are given by the app that writes them (booking).
LINKS = {
    "payment_link": {"pay_url": "https://app.conciergemd.example/pay/123456/", "amount": "$100.00", "visits": 1},
    "waitlist_offer": {"offer_url": "https://app.conciergemd.example/offers/123456/"},
    "coverage_open": {
        "coverage_url": "https://app.conciergemd.example/coverage/?zip_code=85004",
        "zip_code": "85004",
        "language": "en",
        "time_zone": "America/Phoenix",
    },
}
# Templates whose text carries a link (the key in LINKS) in place of the clinic's phone number.
WITH_LINK = {"payment_link": "pay_url", "waitlist_offer": "offer_url", "coverage_open": "coverage_url"}
# Written to an address nobody has logged in with (the coverage waitlist): no name, no visit.
TO_AN_ADDRESS = ("coverage_open",)


def visit_for(name, zone, zip_code, state, starts_at, telehealth):
    profile = PatientProfileFactory(
        preferred_name=name, legal_first_name=name, time_zone=zone, zip_code=zip_code, state=state, city="Town"
    )
    profile.user.first_name = name
    profile.user.save()
    service = VideoVisitServiceFactory() if telehealth else None
    extra = {"service": service} if service else {}
    return VisitFactory(profile=profile, starts_at=starts_at, hold_expires_at=starts_at - timedelta(days=2), **extra)


def every_message(visit):
    """One unsaved message per template and channel, about `visit`."""
    eta = visit.starts_at - timedelta(minutes=20)
    for key, spec in content.TEMPLATES.items():
        for channel in spec.channels:
            context = {"starts_at": visit.starts_at.isoformat()}
            if key == "on_my_way":
                context.update(eta_from=eta.isoformat(), eta_until=(eta + timedelta(minutes=40)).isoformat())
            if key == "staff_alert":
                context.update(subject="Please call a patient today", body="Details are in the admin.")
            if key == "password_reset":
                context.update(reset_url="http://testserver/accounts/password/reset/MQ/set-password/")
            if key == "oncall_page":
                context.update(queue_url="http://testserver/admin/roster/oncallpage/?status=open")
            context.update(LINKS.get(key, {}))
            yield Message(
                channel=channel,
                recipient=None if key in TO_AN_ADDRESS else visit.patient,
                to_address="someone@example.com" if key in TO_AN_ADDRESS else "",
                template=key,
                visit=None if key in ("staff_alert", *TO_AN_ADDRESS) else visit,
                context=context,
                unique_key=f"t:{key}:{channel}",
                due_at=visit.starts_at,
            )


@pytest.mark.parametrize("telehealth", [False, True], ids=["home", "video"])
@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p[1])
def test_every_template_is_free_of_clinical_words(person, telehealth):
    visit = visit_for(*person, telehealth=telehealth)
    checked = 0
    for message in every_message(visit):
        rendered = content.render(message)
        texts = [rendered.subject, rendered.text, re.sub(r"<[^>]+>", " ", rendered.html)]
        for text in texts:
            assert forbidden_words_in(text) == [], (message.template, message.channel, text)
        checked += 1
    assert checked == sum(len(spec.channels) for spec in content.TEMPLATES.values())


@pytest.mark.parametrize("telehealth", [False, True], ids=["home", "video"])
@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p[1])
def test_every_text_fits_two_segments_with_everything_the_patient_needs(person, telehealth):
    name, zone, *_ = person
    visit = visit_for(*person, telehealth=telehealth)
    when = content.when_text(visit.starts_at, zone)
    phrase = "your ConciergeMD video visit" if telehealth else "your ConciergeMD home visit"
    for message in every_message(visit):
        if message.channel != Channel.SMS:
            continue
        text = content.render(message).text
        assert gsm7_length(text) is not None, f"an English text is GSM-7: {text!r}"
        assert content.sms_size(text).segments <= content.SMS_MAX_SEGMENTS, (message.template, text)
        if message.template not in WITH_LINK:
            assert content.sms_size(text).segments == 1, (message.template, text)  # English reminders: one
        if content.template_get(message.template).staff_page:
            # A page to the clinician on call: neutral words and the queue's link, no greeting.
            assert text == "ConciergeMD: urgent patient alert, open the queue: " + message.context["queue_url"]
            continue
        if message.template in TO_AN_ADDRESS:
            assert "85004" in text and LINKS["coverage_open"]["coverage_url"] in text, text
            assert text.endswith("Reply STOP to opt out")
            continue
        first = to_gsm7(name.split(" ")[0]) or "there"
        greeting = re.match(r"Hi ([^,]+), ", text)
        assert greeting and first.startswith(greeting.group(1)), text
        if content.template_get(message.template).visit_statuses is None:
            # Not about a visit (the portal's "new message" notice): a login link and nothing more.
            assert "new message from ConciergeMD" in text and "/dashboard/messages/" in text, text
            assert text.endswith("Reply STOP to opt out")
            continue
        assert phrase in text
        if message.template == "on_my_way":
            assert content.day_text(visit.starts_at, zone) in text
            assert re.search(r"\d{1,2}:\d\d( [AP]M)?-\d{1,2}:\d\d [AP]M [A-Z]{3,4}\b", text), text
        else:
            assert when in text, text
            assert re.search(r"[AP]M (EST|EDT|AKST|AKDT|MST|HST)\b", text), text
        if message.template in WITH_LINK:
            assert LINKS[message.template][WITH_LINK[message.template]] in text
        else:
            assert "(888) 555-0142" in text
        assert text.endswith("Reply STOP to opt out")


def test_the_forbidden_list_covers_the_words_the_issue_names():
    for word in ("ketamine", "infusion", "IV", "PTSD", "depression", "anxiety", "dose", "mg", "psychiatric"):
        assert forbidden_words_in(f"Your {word} visit") == [word.lower()]
    for word in ("suicide", "therapy", "treatment", "diagnosis", "symptoms", "medication"):
        assert word in FORBIDDEN_WORDS
    assert forbidden_words_in("arriving at 9:40, given 5 mg") == ["mg"]
    assert forbidden_words_in("Driving, arrival, IVY league") == []


def test_gsm7_helpers():
    assert gsm7_length("Hi Zoë") is None
    assert to_gsm7("Hi Zo\u00eb \u2013 it\u2019s \u201cfine\u201d") == 'Hi Zoe - it\'s "fine"'
    assert gsm7_length("a€b") == 4  # the euro sign is an escape: two septets
    assert to_gsm7("José Müller") == "José Müller"  # é and ü are in GSM-7 already


def test_the_confirmation_email_has_html_text_and_a_calendar_file(django_capture_on_commit_callbacks):
    visit = visit_for(*PEOPLE[0], telehealth=False)
    with (
        time_machine.travel(visit.starts_at - timedelta(days=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.message_enqueue(
            channel=Channel.EMAIL,
            to_user=visit.patient,
            template="confirmation",
            context_ids={"visit": visit.pk},
            context={"starts_at": visit.starts_at.isoformat()},
            unique_key="test-confirmation",
        )

    [email] = mail.outbox
    assert email.to == [visit.patient.email]
    assert email.subject == "Your ConciergeMD visit is booked"
    for text in (email.body, email.alternatives[0][0]):
        assert "Fri Mar 6, 10:00 AM EST" in text
        assert "No food for 6 hours before your visit." in text
        assert "Clear liquids" in text and "2 hours before" in text
        assert "adult" in text and "stays" in text
        assert "No driving until the next day" in text
        assert "350 5th Ave" in text
    name, ics, mimetype = email.attachments[0]
    assert (name, mimetype) == ("visit.ics", "text/calendar")
    assert "SUMMARY:Home visit" in str(ics)


def test_a_staff_alert_keeps_a_neutral_subject(django_capture_on_commit_callbacks, clinician):
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_alert_email(
            to=clinician,
            subject="PHQ-9 item 9: suicide risk for patient 12",
            body="PHQ-9 item 9 was answered 2. Call the patient now.",
            unique_key="phq9-12-1",
        )
        services.staff_alert_email(to=clinician, subject="again", body="again", unique_key="phq9-12-1")
        services.staff_alert_email(to="oncall@example.com", subject="Call a patient", body="x", unique_key="phq9-12-1")

    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["clinician@example.com"], "ConciergeMD: a patient needs your attention"),
        (["oncall@example.com"], "Call a patient"),
    ]
    assert "answered 2" in mail.outbox[0].body  # the body is for the clinician
