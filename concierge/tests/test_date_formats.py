"""Dates read in the reader's language: the project's named date formats.

A date written with month or weekday names puts its words in each language's order ("Monday,
December 7" but "lunes 7 de diciembre"), so pages, messages and forms ask for such a format by
name and concierge/formats/<language>/formats.py says how it reads. These tests hold that rule for
every template and module, not for the pages that happen to be tested: a format written out in
English order, or a name that no language defines (Django would print the name's letters as a
format, "lunPM2026_..."), fails here.
"""

import datetime
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import formats, translation
from django.utils.formats import FORMAT_SETTINGS

from concierge.formats.en import formats as english
from concierge.formats.es import formats as spanish

ROOT = Path(settings.BASE_DIR)
# A format's letters that write a word: month names (F, M, N, b, E) and, with a day number
# beside them, weekday names (D, l). A backslash escapes the letter after it.
MONTH_WORDS = set("FMNbE")
TEMPLATE_FORMAT = re.compile(r"""\|(?:date|time):(["'])(?P<format>.*?)\1""")
PYTHON_FORMAT = re.compile(
    r"""(?:date_format|time_format|dateformat\.format)\([^()]*(?:\([^()]*\)[^()]*)*?,\s*(["'])(?P<format>.*?)\1"""
)
STRFTIME_WORDS = re.compile(r"""strftime\((["'])[^"']*%[aAbBcx][^"']*\1""")
NAMED = re.compile(r"^[A-Z_]+_FORMAT$")


def project_files(*suffixes):
    for path in sorted(ROOT.rglob("*")):
        parts = path.relative_to(ROOT).parts
        outside = parts[0] in {".venv", "bench", "node_modules", "staticfiles"}
        if path.suffix in suffixes and not outside and "tests" not in parts and "migrations" not in parts:
            yield path


def used_formats():
    for path in project_files(".html", ".txt", ".py"):
        text = path.read_text(encoding="utf-8")
        pattern = TEMPLATE_FORMAT if path.suffix != ".py" else PYTHON_FORMAT
        for match in pattern.finditer(text):
            yield path.relative_to(ROOT), match.group("format")


def writes_words_in_order(fmt):
    letters = re.sub(r"\\.", "", fmt)
    return bool(MONTH_WORDS & set(letters))


def own_names(module):
    """The module's own names, not Django's (each language's Django module has those)."""
    return {name for name in dir(module) if name.isupper() and name not in FORMAT_SETTINGS}


def test_every_named_format_is_defined_in_every_language():
    assert own_names(english) == own_names(spanish)
    assert {code for code, _ in settings.LANGUAGES} == {"en", "es"}


def test_the_sources_are_found():
    """The scan sees the templates and modules that format dates (a broken pattern finds none)."""
    found = {str(path) for path, _ in used_formats()}
    assert "booking/templatetags/booking_tags.py" in found
    assert "notifications/content.py" in found
    assert "payments/templates/payments/receipt.html" in found


def test_no_page_or_message_writes_a_date_in_english_order():
    spelled_out = [
        (str(path), fmt) for path, fmt in used_formats() if not NAMED.match(fmt) and writes_words_in_order(fmt)
    ]
    assert spelled_out == [], "use a named format from concierge/formats/en/formats.py"


def test_no_module_spells_dates_with_strftime_names():
    """strftime's %b and %A are always English, whatever the reader's language."""
    found = [
        str(path.relative_to(ROOT))
        for path in project_files(".py")
        if STRFTIME_WORDS.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_every_format_name_used_is_defined():
    defined = own_names(english) | FORMAT_SETTINGS
    unknown = sorted({(str(path), fmt) for path, fmt in used_formats() if NAMED.match(fmt) and fmt not in defined})
    assert unknown == []


MONDAY = datetime.datetime(2026, 12, 7, 14, 30, tzinfo=ZoneInfo("America/New_York"))


@pytest.mark.parametrize(
    ("name", "english_text", "spanish_text"),
    [
        ("DAY_FORMAT", "Monday, December 7", "lunes 7 de diciembre"),
        ("DAY_YEAR_FORMAT", "Monday, December 7, 2026", "lunes 7 de diciembre de 2026"),
        ("DAY_TIME_FORMAT", "Monday, December 7, 2:30 PM", "lunes 7 de diciembre, 2:30 PM"),
        ("SHORT_DAY_FORMAT", "Mon, Dec 7", "lun 7 dic"),
        ("SHORT_DAY_TIME_FORMAT", "Mon Dec 7, 2:30 PM EST", "lun 7 dic, 2:30 PM EST"),
        ("MESSAGE_DAY_FORMAT", "Mon Dec 7", "lun 7 dic"),
        ("MONTH_DAY_SHORT_FORMAT", "Dec 7", "7 dic"),
        ("MONTH_DAY_TIME_FORMAT", "Dec 7, 2:30 PM EST", "7 dic, 2:30 PM EST"),
        ("ABBR_DATE_FORMAT", "Dec 7, 2026", "7 dic 2026"),
        ("LONG_DATE_FORMAT", "December 7, 2026", "7 de diciembre de 2026"),
        ("DATETIME_FORMAT", "Dec. 7, 2026, 2:30 p.m. EST", "7 de diciembre de 2026, 2:30 PM EST"),
    ],
)
def test_each_named_format_reads_naturally_in_each_language(name, english_text, spanish_text):
    with translation.override("en"):
        assert formats.date_format(MONDAY, name) == english_text
    with translation.override("es"):
        assert formats.date_format(MONDAY, name) == spanish_text
