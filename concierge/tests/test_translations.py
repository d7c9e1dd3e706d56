"""Spanish stays complete: every string of a patient-facing file in SPANISH_COMPLETE has a Spanish
translation, and the compiled catalogue (committed, so `python3 dev.py run` needs no gettext)
says what the .po file says.

A file joins SPANISH_COMPLETE once it is translated in full (docs/i18n.md); from then on a string
added to it without a translation fails here, with the string and where it is.
"""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation
from django.utils.module_loading import import_string

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

# Patient-facing files translated into Spanish in full (prefixes of paths from the project root).
SPANISH_COMPLETE = (
    "notifications/templates/notifications/sms/",
    "notifications/templates/notifications/email/",
    "notifications/content.py",
    "notifications/calendar.py",
    "notifications/services/twilio_hooks.py",
    "payments/templates/payments/email/",
    "templates/base.html",
    "templates/includes/session_warning.html",
    "templates/registration/login.html",
    "patients/templates/patients/signup.html",
    "patients/templates/patients/profile.html",
    "patients/templates/patients/includes/crisis_panel.html",
    "patients/templates/patients/crisis.html",
    "patients/forms.py",
    "patients/intake.py",
    "patients/journey.py",
    "patients/templates/patients/intake_section.html",
    "patients/templates/patients/intake_review.html",
    "patients/templates/patients/intake_summary.html",
    "portal/templates/portal/dashboard.html",
    "portal/templates/portal/includes/journey.html",
    "booking/templates/booking/",
    "booking/forms.py",
    "booking/errors.py",
    "booking/policy.py",
    "payments/templates/payments/",
    "payments/templatetags/",
    "payments/display.py",
    "payments/errors.py",
    "payments/forms.py",
    "patients/instruments.py",
    "patients/templates/patients/",
    "patients/views.py",
    "patients/selectors.py",
    "patients/services.py",
    "patients/triage.py",
    "patients/triage_rules.py",
    "templates/",
    "portal/",
    "concierge/forms.py",
    "concierge/errors.py",
    "concierge/two_factor.py",
    "concierge/two_factor_views.py",
    "concierge/ratelimit.py",
    "concierge/middleware.py",
    "booking/telehealth.py",
    "booking/telehealth_views.py",
    "booking/services/",
    "booking/views/",
    "booking/checkout.py",
    "payments/views.py",
    "payments/services/refunds.py",
    "payments/gateways/types.py",
    "notifications/forms.py",
    "nurses/",
)


# Choices whose labels patients read (status badges, the waitlist's parts of the day, the payments
# list). Their models.py also holds words only staff read, so those files cannot join
# SPANISH_COMPLETE: the labels are checked one by one instead, a choice added later too.
PATIENT_CHOICES = (
    "booking.models.VisitStatus",
    "booking.models.PartOfDay",
    "payments.models.PaymentStatus",
    "payments.models.RefundStatus",
)


def english_only():
    """The wording of questionnaires offered in English only (no validated Spanish version: PCL-5)."""
    from patients.instruments import INSTRUMENTS

    with translation.override("en"):
        return {
            str(text)
            for definition in INSTRUMENTS.values()
            if "es" not in definition.languages
            for text in (definition.stem, *definition.items, *(label for _value, label in definition.options))
        }


def po_entries(path):
    """(context, msgid, plural, {index: msgstr}, locations, fuzzy) for each entry of a .po file."""
    entries, entry, key = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry is not None:
                entries.append(entry)
            entry = None
            continue
        if entry is None:
            entry = {"ctx": None, "id": "", "plural": None, "str": {}, "where": [], "fuzzy": False}
        if line.startswith("#:"):
            entry["where"] += [place.rsplit(":", 1)[0] for place in line[2:].split()]
        elif line.startswith("#,"):
            entry["fuzzy"] = entry["fuzzy"] or "fuzzy" in line
        elif not line.startswith("#"):
            match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])? (\".*\")$", line)
            if match:
                key = (match.group(1), int(match.group(2) or 0))
                text = ast.literal_eval(match.group(3))
            else:
                text = ast.literal_eval(line.strip())
            name, index = key
            if name == "msgstr":
                entry["str"][index] = entry["str"].get(index, "") + text
            else:
                field = {"msgctxt": "ctx", "msgid": "id", "msgid_plural": "plural"}[name]
                entry[field] = (entry[field] or "") + text
    return [e for e in entries if e["id"]]


def patient_facing(entry):
    if entry["id"] in ENGLISH_ONLY:
        return False
    return any(place.startswith(SPANISH_COMPLETE) for place in entry["where"])


ENGLISH_ONLY = english_only()


def catalogue_key(entry):
    return f"{entry['ctx']}\x04{entry['id']}" if entry["ctx"] is not None else entry["id"]


def test_the_compiled_catalogue_says_what_the_po_file_says():
    with MO.open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    stale = []
    for entry in po_entries(PO):
        if entry["fuzzy"] or not all(entry["str"].values()):
            continue
        key = catalogue_key(entry)
        if entry["plural"] is None:
            if compiled.get(key) != entry["str"][0]:
                stale.append(entry["id"])
        elif any(compiled.get((key, i)) != text for i, text in entry["str"].items()):
            stale.append(entry["id"])
    assert stale == [], f"run `python manage.py compilemessages -l es`: the .mo misses {stale[:5]}"


def test_the_committed_po_file_translates_every_patient_facing_string_it_has():
    missing = [
        (e["id"], e["where"][0])
        for e in po_entries(PO)
        if patient_facing(e) and (e["fuzzy"] or not all(e["str"].values()) or not e["str"])
    ]
    assert missing == []


@pytest.mark.gettext
def test_every_patient_facing_string_in_the_code_has_a_spanish_translation(tmp_path, monkeypatch):
    """Extracts the strings from the code as it is now (a string added without running
    makemessages is found too) and looks each up in the committed catalogue.

    makemessages writes into a ./locale it finds, so it runs in a mirror of the project (links to
    each top-level folder but locale/) and writes its catalogue to a temporary folder instead.
    """
    mirror, out = tmp_path / "src", tmp_path / "out"
    mirror.mkdir()
    out.mkdir()
    for item in ROOT.iterdir():
        if item.name not in ("locale", ".venv", ".git", "bench", "node_modules") and not item.name.startswith("."):
            (mirror / item.name).symlink_to(item)
    monkeypatch.chdir(mirror)
    with override_settings(LOCALE_PATHS=[out]):
        call_command("makemessages", locale=["es"], symlinks=True, verbosity=0)
    extracted = [e for e in po_entries(out / "es" / "LC_MESSAGES" / "django.po") if patient_facing(e)]
    assert len(extracted) > 150, "the extraction found too little: is the file list right?"
    with MO.open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog  # type: ignore[attr-defined]
    missing = []
    for entry in extracted:
        key = catalogue_key(entry)
        found = compiled.get(key) if entry["plural"] is None else compiled.get((key, 0))
        if not found:
            missing.append(f"{entry['where'][0]}: {entry['id'][:80]!r}")
    assert missing == [], "no Spanish translation (add it to locale/es/LC_MESSAGES/django.po):\n" + "\n".join(missing)


@pytest.mark.parametrize("path", PATIENT_CHOICES)
def test_every_label_of_the_choices_patients_read_has_a_spanish_translation(path):
    # Django shows the English when the Spanish is missing (or fuzzy): the two would be the same.
    missing = []
    for value, label in import_string(path).choices:
        with translation.override("en"):
            english = str(label)
        with translation.override("es"):
            spanish = str(label)
        if spanish == english:
            missing.append(f"{value}: {english!r}")
    assert missing == [], f"{path}: no Spanish for " + ", ".join(missing)
