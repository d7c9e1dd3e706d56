"""The consent in the patient's language (issue 19): one version, a text per language.

The version is what a patient signs; its texts (one per language of settings.LANGUAGES) are
written on a draft, all required to publish, and never changed after. The patient reads the
text in their language (English only for a version that has none in theirs, and the page says
so), and the signature records the language of the text they read.
"""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from concierge.errors import InvalidState
from concierge.models import User
from patients import selectors, services
from patients.consent import FIRST_BODY, FIRST_BODY_ES, FIRST_TITLE, FIRST_TITLE_ES, FIRST_VERSION
from patients.models import ConsentDocument, ConsentSignature, ConsentText
from patients.signals import infusion_safety_changed
from portal import data_rights

from .factories import cleared, consent_signed, consent_version
from .test_consent import sign

pytestmark = pytest.mark.django_db

ENGLISH_HEADING = "Less common but serious risks"
SPANISH_HEADING = "Riesgos menos frecuentes pero graves"


@pytest.fixture
def ready(profile, clinician):
    """Cleared by a clinician, consent not signed yet."""
    cleared(profile.user, clinician, consent=False)
    return profile.user


@pytest.fixture
def spanish(ready):
    ready.language = "es"
    ready.save(update_fields=["language"])
    return ready


def legacy_version(version="2025.9"):
    """A version published with an English text only, as before texts per language (the migration
    gave every older version its English text); publishing now would refuse it."""
    document = consent_version(version, {"en": ("Old consent", "## Old heading\nOld text.")})
    ConsentDocument.objects.filter(pk=document.pk).update(published_at=document.created_at)
    return document


# --- what the patient reads --------------------------------------------------------------------------


def test_a_spanish_patient_reads_the_consent_in_spanish(client, spanish):
    client.force_login(spanish)

    page = client.get("/consent/").content.decode()

    assert f'<h1 class="h3">{FIRST_TITLE_ES}</h1>' in page
    assert SPANISH_HEADING in page and "benzodiacepinas" in page and "Línea de Prevención del Suicidio" in page
    assert ENGLISH_HEADING not in page and FIRST_TITLE not in page
    assert "solo está disponible en inglés" not in page
    assert '<input type="hidden" name="language" value="es">' in page
    assert "Firmar el formulario de consentimiento" in page  # the page around it, as before


def test_an_english_patient_reads_the_consent_in_english(client, ready):
    client.force_login(ready)

    page = client.get("/consent/").content.decode()

    assert f'<h1 class="h3">{FIRST_TITLE}</h1>' in page and ENGLISH_HEADING in page
    assert SPANISH_HEADING not in page and "only available in English" not in page


def test_the_public_text_follows_the_visitors_language(client):
    page = client.get("/consent/text/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert FIRST_TITLE_ES in page and SPANISH_HEADING in page and ENGLISH_HEADING not in page


def test_a_version_without_a_spanish_text_is_shown_in_english_and_says_so(client, spanish):
    legacy_version()
    client.force_login(spanish)

    page = client.get("/consent/").content.decode()

    assert "Este documento solo está disponible en inglés." in page
    assert '<div lang="en">' in page and "Old heading" in page
    assert '<input type="hidden" name="language" value="en">' in page


def test_the_english_text_of_the_consent_is_chosen_by_one_selector():
    document = selectors.consent_current()

    assert selectors.consent_text_for(document=document, language="es").title == FIRST_TITLE_ES
    assert selectors.consent_text_for(document=document, language="es-mx").title == FIRST_TITLE_ES
    assert selectors.consent_text_for(document=document, language="en").title == FIRST_TITLE
    assert selectors.consent_text_for(document=document, language="fr").title == FIRST_TITLE
    assert selectors.consent_text_for(document=consent_version("2030.1", {})) is None


# --- what the signature records ----------------------------------------------------------------------


def test_signing_as_a_spanish_patient_records_the_spanish_text_and_the_version(client, spanish):
    response = sign(client, spanish)

    assert response.status_code == 302 and response.url == "/book/"
    signature = ConsentSignature.objects.get()
    assert (signature.document.version, signature.language) == (FIRST_VERSION, "es")
    assert selectors.booking_eligibility_for(patient=spanish).can_book_infusion


def test_the_signature_names_the_text_the_page_showed_not_the_language_since(client, ready):
    # The page was shown in English; the patient switched to Spanish in another tab before signing.
    ready.language = "es"
    ready.save(update_fields=["language"])

    sign(client, ready, language="en")

    assert ConsentSignature.objects.get().language == "en"


def test_signing_a_text_that_was_not_shown_is_refused(client, spanish):
    legacy_version()  # no Spanish text: the page showed the English one

    response = sign(client, spanish, version="2025.9", language="es")

    assert response.status_code == 200
    assert "El formulario de consentimiento cambió" in response.content.decode()
    assert not ConsentSignature.objects.exists()


def test_a_spanish_patient_signs_the_english_text_of_a_version_that_has_only_english(client, spanish):
    legacy_version()

    sign(client, spanish, version="2025.9", language="en")

    assert ConsentSignature.objects.get().language == "en"


def test_the_download_is_the_text_signed_in_its_language(client, spanish):
    sign(client, spanish)

    text = client.get("/consent/signed/").content.decode()

    assert FIRST_TITLE_ES in text and SPANISH_HEADING in text and ENGLISH_HEADING not in text
    assert "Versión 2026.1" in text


def test_the_data_export_holds_the_language_and_the_text_signed(spanish, clinician):
    sign_text = selectors.consent_text_for(document=selectors.consent_current(), language="es")
    services.consent_sign(patient=spanish, text=sign_text, typed_name="Pat Quinn", agreed=True)

    data = json.loads(json.dumps(data_rights.patient_data_export(patient=spanish)))

    [row] = data["consent_signatures"]
    assert (row["version"], row["language"], row["title"]) == (FIRST_VERSION, "es", FIRST_TITLE_ES)
    assert row["text"] == sign_text.body.strip() and SPANISH_HEADING in row["text"]


# --- writing and publishing a version ----------------------------------------------------------------


def test_publishing_a_version_without_a_spanish_text_is_refused(ready, clinician):
    consent_signed(ready)
    document = consent_version("2027.1", {"en": ("Consent", "Text.")})

    with translation.override("en"), pytest.raises(InvalidState) as refused:
        services.consent_publish(document=document, by=clinician)

    assert "Version 2027.1 cannot be published: it has no text in Spanish" in str(refused.value.message)
    document.refresh_from_db()
    assert document.published_at is None and selectors.consent_current().version == FIRST_VERSION
    assert selectors.consent_signed_current(patient=ready)


def test_the_admin_publish_action_says_which_text_is_missing(client, clinician):
    document = consent_version("2027.1", {"en": ("Consent", "Text.")})
    client.force_login(clinician)

    response = client.post(
        "/admin/patients/consentdocument/",
        {"action": "publish", "_selected_action": [document.pk]},
        follow=True,
    )

    assert "Version 2027.1 cannot be published: it has no text in Spanish" in response.content.decode()
    document.refresh_from_db()
    assert document.published_at is None


def test_a_version_saved_as_published_needs_a_text_in_every_language_too():
    with pytest.raises(ValidationError):
        ConsentDocument(version="2031.1", published_at=timezone.now()).save()
    draft = consent_version("2031.2", {"en": ("Consent", "Text.")})
    draft.published_at = timezone.now()
    with pytest.raises(ValidationError):
        draft.save()
    assert not ConsentDocument.objects.filter(version="2031.1").exists()


def test_a_version_with_a_text_in_every_language_is_published(clinician):
    document = consent_version("2027.1")

    services.consent_publish(document=document, by=clinician)

    assert selectors.consent_current() == document


def test_published_texts_never_change_whatever_the_path():
    document = selectors.consent_current()
    text = document.texts.get(language="es")

    text.title = "Cambiado"
    with pytest.raises(ValidationError):
        text.save()
    with pytest.raises(ValidationError):
        text.full_clean()
    with pytest.raises(ValidationError):
        text.delete()
    with pytest.raises(ValidationError):
        ConsentText.objects.create(document=document, language="en", title="Another", body="Another")
    document.version = "2026.9"
    with pytest.raises(ValidationError):
        document.save()
    # A draft's texts are written and changed freely, and moving one off a published version is refused.
    draft = consent_version("2027.1")
    draft_text = draft.texts.get(language="en")
    draft_text.title = "Better"
    draft_text.save()
    draft_text.delete()
    moved = ConsentText.objects.get(pk=text.pk)
    moved.document = draft
    with pytest.raises(ValidationError):
        moved.save()
    assert ConsentText.objects.get(pk=text.pk).title == FIRST_TITLE_ES


# --- admin -------------------------------------------------------------------------------------------


def test_a_clinician_writes_a_draft_with_a_text_per_language_in_admin(client, clinician):
    client.force_login(clinician)

    form = client.get("/admin/patients/consentdocument/add/").content.decode()
    assert 'name="texts-0-title"' in form and 'name="texts-1-title"' in form
    assert '<option value="es" selected>' in form  # the second empty text starts on Spanish

    response = client.post(
        "/admin/patients/consentdocument/add/",
        {
            "version": "2027.1",
            "texts-TOTAL_FORMS": "2",
            "texts-INITIAL_FORMS": "0",
            "texts-MIN_NUM_FORMS": "0",
            "texts-MAX_NUM_FORMS": "2",
            "texts-0-language": "en",
            "texts-0-title": "Consent",
            "texts-0-body": "## Heading\nText.",
            "texts-1-language": "es",
            "texts-1-title": "Consentimiento",
            "texts-1-body": "## Encabezado\nTexto.",
        },
    )

    assert response.status_code == 302
    document = ConsentDocument.objects.get(version="2027.1")
    assert document.published_at is None and document.missing_languages() == []
    assert {t.language: t.title for t in document.texts.all()} == {"en": "Consent", "es": "Consentimiento"}


def test_admin_pages_of_consent_versions_render_published_ones_read_only(client, clinician, staff_user):
    draft = consent_version("2027.1", {"en": ("Consent", "Text.")})
    published = selectors.consent_current()
    client.force_login(clinician)

    listing = client.get("/admin/patients/consentdocument/").content.decode()
    assert FIRST_TITLE in listing and "English, Spanish" in listing
    assert "Missing, needed before publishing: Spanish" in listing

    page = client.get(f"/admin/patients/consentdocument/{published.pk}/change/").content.decode()
    assert FIRST_TITLE_ES in page and 'name="texts-0-title"' not in page and 'name="version"' not in page

    page = client.get(f"/admin/patients/consentdocument/{draft.pk}/change/").content.decode()
    assert 'name="texts-0-title"' in page and 'name="texts-1-title"' in page  # the English one, and Spanish to add

    client.force_login(staff_user)
    assert client.get(f"/admin/patients/consentdocument/{published.pk}/change/").status_code == 200


def test_the_consent_version_list_costs_the_same_queries_for_one_version_or_four(client, clinician):
    client.force_login(clinician)
    url = "/admin/patients/consentdocument/"
    client.get(url)  # the first page of a session also reads what later ones find cached
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200

    for number in range(3):
        consent_version(f"2027.{number + 1}")
    with CaptureQueriesContext(connection) as four:
        assert client.get(url).status_code == 200

    assert len(four.captured_queries) == len(one.captured_queries)


def test_staff_see_the_language_of_each_signature_in_admin(client, spanish, staff_user):
    sign(client, spanish)
    signature = ConsentSignature.objects.get()
    client.force_login(staff_user)

    listing = client.get("/admin/patients/consentsignature/").content.decode()
    page = client.get(f"/admin/patients/consentsignature/{signature.pk}/change/").content.decode()

    assert "Spanish" in listing and "Spanish" in page and 'name="language"' not in page


# --- the migration that gave 2026.1 its Spanish text ---------------------------------------------------

BEFORE = [("patients", "0012_signup_request_language")]
AFTER = [("patients", "0013_consent_texts")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_2026_1_its_spanish_text_and_every_signature_stays_valid():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Document = old.get_model("patients", "ConsentDocument")
    Signature = old.get_model("patients", "ConsentSignature")
    Signature.objects.all().delete()
    Document.objects.all().delete()
    english_body = FIRST_BODY.format(clinic_phone="(212) 555-0199")  # the number when it was seeded
    first = Document.objects.create(
        version=FIRST_VERSION, title=FIRST_TITLE, body=english_body, published_at="2026-01-05T12:00:00Z"
    )
    draft = Document.objects.create(version="2026.2", title="Draft", body="Draft text.")
    patient = User.objects.create(email="signed@example.com")  # concierge's tables are as they are now
    Signature.objects.create(patient_id=patient.pk, document=first, typed_name="Sam Signed", agreed=True)
    heard = []
    infusion_safety_changed.connect(lambda sender, **kw: heard.append(kw), weak=False, dispatch_uid="t-migration")
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    finally:
        infusion_safety_changed.disconnect(dispatch_uid="t-migration")

    texts = {(t.document.version, t.language): t for t in ConsentText.objects.select_related("document")}
    assert set(texts) == {(FIRST_VERSION, "en"), (FIRST_VERSION, "es"), ("2026.2", "en")}
    assert (texts[FIRST_VERSION, "en"].title, texts[FIRST_VERSION, "en"].body) == (FIRST_TITLE, english_body)
    assert texts[FIRST_VERSION, "es"].title == FIRST_TITLE_ES
    assert texts[FIRST_VERSION, "es"].body == FIRST_BODY_ES.format(clinic_phone="(212) 555-0199")
    assert texts["2026.2", "en"].body == "Draft text." and ConsentDocument.objects.get(pk=draft.pk).published_at is None
    # The same version, one more language: the signature stands, nobody signs again or is held.
    signature = ConsentSignature.objects.get()
    assert (signature.document_id, signature.language) == (first.pk, "en")
    assert selectors.consent_signed_current(patient=User.objects.get(pk=patient.pk))
    assert heard == []
