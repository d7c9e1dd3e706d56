"""Informed consent (issue 15): read and signed before the first infusion, and again for a new version."""

import pytest
from django.utils import timezone

from patients import selectors, services
from patients.models import ConsentSignature
from patients.signals import infusion_safety_changed

from .factories import cleared, consent_signed, consent_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(profile, clinician):
    """Cleared by a clinician, consent not signed yet."""
    cleared(profile.user, clinician, consent=False)
    return profile.user


def sign(client, patient, **changes):
    """The form as the page sends it: the version and the language of the text shown, name, tick."""
    document = selectors.consent_current()
    client.force_login(patient)
    data = {
        "version": document.version,
        "language": patient.language,
        "typed_name": "Pat Quinn",
        "agreed": "on",
        **changes,
    }
    return client.post("/consent/", data, REMOTE_ADDR="203.0.113.9")


def new_version(clinician, version="2027.1"):
    document = consent_version(
        version,
        {
            "en": ("Consent to ketamine infusions", "New text."),
            "es": ("Consentimiento para infusiones de ketamina", "Texto nuevo."),
        },
    )
    return services.consent_publish(document=document, by=clinician)


def test_the_first_version_is_published_with_the_clinics_risks_off_label_use_and_988():
    document = selectors.consent_current()

    assert document is not None and document.version == "2026.1"
    english = selectors.consent_text_for(document=document, language="en")
    for words in (
        "off-label",
        "dissociation",
        "Nausea and vomiting",
        "Blood pressure changes",
        "irregular heart rhythm",
        "benzodiazepines",
        "opioids",
        "alcohol",
        "Seizures",
        "An adult you trust must be with you",
        "Do not drive",
        "call 911",
        "988",
        "(888) 555-0142",
    ):
        assert words in english.body, words


def test_a_cleared_patient_who_has_not_signed_cannot_book_an_infusion_and_is_shown_where_to_sign(client, ready):
    eligibility = selectors.booking_eligibility_for(patient=ready)

    assert eligibility.can_book_evaluation and not eligibility.can_book_infusion
    assert "sign the consent form before your first infusion" in str(eligibility.reason)
    assert eligibility.link == "/consent/"


def test_signing_records_name_tick_time_ip_and_version_then_infusions_can_be_booked(client, ready):
    response = sign(client, ready)

    assert response.status_code == 302 and response.url == "/book/"
    signature = ConsentSignature.objects.get()
    assert (signature.patient, signature.document.version, signature.typed_name) == (ready, "2026.1", "Pat Quinn")
    assert signature.agreed is True and signature.ip_address == "203.0.113.9"
    assert abs((timezone.now() - signature.signed_at).total_seconds()) < 60
    assert selectors.booking_eligibility_for(patient=ready).can_book_infusion


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"typed_name": "Someone Else"}, "Please type your full legal name"),
        ({"agreed": ""}, "Please tick the box"),
        ({"version": "2025.9"}, "The consent form has changed"),
    ],
)
def test_signing_is_refused_without_the_legal_name_the_tick_or_the_current_version(client, ready, changes, error):
    response = sign(client, ready, **changes)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ConsentSignature.objects.exists()
    assert not selectors.booking_eligibility_for(patient=ready).can_book_infusion


def test_signing_twice_keeps_one_signature(client, ready):
    sign(client, ready)
    sign(client, ready, typed_name="pat  QUINN")
    spanish = selectors.consent_text_for(document=selectors.consent_current(), language="es")
    again = services.consent_sign(patient=ready, text=spanish, typed_name="Pat Quinn", agreed=True)

    # One signature per version, whatever the language: the first one (read in English) stays.
    assert ConsentSignature.objects.count() == 1 and again.language == "en"


def test_a_new_version_asks_again_at_the_next_booking_and_tells_booking(client, ready, clinician):
    sign(client, ready)
    heard = []

    def receiver(sender, **kwargs):
        heard.append(kwargs)

    infusion_safety_changed.connect(receiver)
    try:
        new_version(clinician)
    finally:
        infusion_safety_changed.disconnect(receiver)

    assert {(h["patient"], h["reason"], h["safety"]) for h in heard} == {(ready, "consent", False)}
    eligibility = selectors.booking_eligibility_for(patient=ready)
    assert not eligibility.can_book_infusion
    assert "We have updated our consent form" in str(eligibility.reason)
    page = client.get("/consent/").content.decode()
    assert "since you signed version 2026.1" in page and "New text." in page


def test_publishing_the_same_version_twice_sends_nothing_the_second_time(ready, clinician):
    consent_signed(ready)
    document = consent_version("2027.2")
    services.consent_publish(document=document, by=clinician)
    heard = []
    infusion_safety_changed.connect(lambda sender, **kw: heard.append(kw), weak=False, dispatch_uid="t-consent")
    try:
        services.consent_publish(document=document, by=clinician)
    finally:
        infusion_safety_changed.disconnect(dispatch_uid="t-consent")

    assert heard == []


def test_the_patient_downloads_exactly_what_they_signed_even_after_a_new_version(client, ready, clinician):
    sign(client, ready)
    new_version(clinician)

    response = client.get("/consent/signed/")

    text = response.content.decode()
    assert response["Content-Disposition"] == 'attachment; filename="consent-2026.1.txt"'
    assert "Version 2026.1" in text and "dissociation" in text and "New text." not in text
    assert "Pat Quinn" in text and "203.0.113.9" in text


def test_nothing_to_download_before_signing_leads_to_the_form(client, ready):
    client.force_login(ready)

    response = client.get("/consent/signed/")
    assert response.status_code == 302 and response.url == "/consent/"


def test_staff_see_the_signed_version_in_admin(client, ready, staff_user):
    sign(client, ready)
    client.force_login(staff_user)

    page = client.get("/admin/patients/consentsignature/").content.decode()

    assert "2026.1" in page and "Pat Quinn" in page


def test_a_published_version_cannot_be_edited_in_admin(client, clinician):
    client.force_login(clinician)
    document = selectors.consent_current()
    english, spanish = document.texts.order_by("language")

    client.post(
        f"/admin/patients/consentdocument/{document.pk}/change/",
        {
            "version": "2026.9",
            "texts-TOTAL_FORMS": "2",
            "texts-INITIAL_FORMS": "2",
            "texts-0-id": english.pk,
            "texts-0-document": document.pk,
            "texts-0-language": "en",
            "texts-0-title": "Changed",
            "texts-0-body": "Changed",
            "texts-1-id": spanish.pk,
            "texts-1-document": document.pk,
            "texts-1-language": "es",
            "texts-1-title": "Cambiado",
            "texts-1-body": "Cambiado",
        },
    )

    document.refresh_from_db()
    assert document.version == "2026.1"
    assert {text.title for text in document.texts.all()} == {
        "Consent to ketamine infusions at home",
        "Consentimiento para infusiones de ketamina en casa",
    }


def test_the_home_page_names_the_risks_in_plain_words_and_links_the_full_text(client):
    page = client.get("/").content.decode()

    assert "Risks and side effects" in page
    for words in ("off-label", "dissociation", "Nausea", "irregular heart rhythm", "benzodiazepines", "Seizures"):
        assert words in page, words
    assert 'href="/consent/text/"' in page
    full = client.get("/consent/text/").content.decode()
    assert "Less common but serious risks" in full
