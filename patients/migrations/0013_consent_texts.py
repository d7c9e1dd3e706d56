# Consent texts per language (issue 19, "Spanish from end to end").
#
# A consent version keeps being the legal unit a patient signs; its words move into ConsentText,
# one per language. Every existing version's title and text become its English text, unchanged;
# version 2026.1 also gets its Spanish text (patients/consent.py, FIRST_BODY_ES). That adds a
# translation of the SAME version: no signature changes, nobody signs again, nobody is put on
# hold (no signal is sent). Existing signatures were all of the English text: language "en".

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _phone_in(stored_body, template):
    """The clinic number the stored text was written with (the template's {clinic_phone})."""
    before, after = template.split("{clinic_phone}")
    if stored_body.startswith(before) and stored_body.endswith(after) and len(stored_body) > len(before) + len(after):
        return stored_body[len(before) : len(stored_body) - len(after)]
    return settings.CLINIC_PHONE


def texts_from_documents(apps, schema_editor):
    from patients.consent import FIRST_BODY, FIRST_BODY_ES, FIRST_TITLE_ES, FIRST_VERSION

    ConsentDocument = apps.get_model("patients", "ConsentDocument")
    ConsentText = apps.get_model("patients", "ConsentText")
    for document in ConsentDocument.objects.all():
        ConsentText.objects.get_or_create(
            document=document, language="en", defaults={"title": document.title, "body": document.body}
        )
        if document.version == FIRST_VERSION:
            # The same number the English text of 2026.1 gives, so both texts say the same thing.
            phone = _phone_in(document.body, FIRST_BODY)
            ConsentText.objects.get_or_create(
                document=document,
                language="es",
                defaults={"title": FIRST_TITLE_ES, "body": FIRST_BODY_ES.format(clinic_phone=phone)},
            )


def documents_from_texts(apps, schema_editor):
    ConsentText = apps.get_model("patients", "ConsentText")
    for text in ConsentText.objects.filter(language="en").select_related("document"):
        text.document.title = text.title
        text.document.body = text.body
        text.document.save(update_fields=["title", "body"])


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0012_signup_request_language"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsentText",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "language",
                    models.CharField(
                        choices=[("en", "English"), ("es", "Spanish")], max_length=8, verbose_name="language"
                    ),
                ),
                ("title", models.CharField(max_length=200, verbose_name="title")),
                (
                    "body",
                    models.TextField(
                        help_text='Plain text: a blank line between paragraphs; "## " starts a heading, "- " a list item.',
                        verbose_name="text",
                    ),
                ),
                (
                    "document",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="texts",
                        to="patients.consentdocument",
                        verbose_name="version",
                    ),
                ),
            ],
            options={
                "verbose_name": "consent text",
                "ordering": ["document", "language"],
                "constraints": [
                    models.UniqueConstraint(fields=("document", "language"), name="consent_text_one_per_language")
                ],
            },
        ),
        # Every signature so far was of the English text.
        migrations.AddField(
            model_name="consentsignature",
            name="language",
            field=models.CharField(
                choices=[("en", "English"), ("es", "Spanish")],
                default="en",
                max_length=8,
                verbose_name="language of the text signed",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(texts_from_documents, documents_from_texts),
        # Undoing this migration adds the columns back empty (these defaults), then puts the
        # English text back on the version (documents_from_texts).
        migrations.AlterField(
            model_name="consentdocument", name="title", field=models.CharField(default="", max_length=200)
        ),
        migrations.AlterField(model_name="consentdocument", name="body", field=models.TextField(default="")),
        migrations.RemoveField(model_name="consentdocument", name="title"),
        migrations.RemoveField(model_name="consentdocument", name="body"),
    ]
