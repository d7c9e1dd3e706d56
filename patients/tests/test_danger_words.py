"""The danger-language matcher against its table (patients/tests/data/danger_phrases.tsv): every
phrase in both languages gives exactly the ideas the table says, idioms give none."""

from pathlib import Path

import pytest

from patients.danger_words import DANGER_IDEAS, ENGLISH, SPANISH, danger_language, danger_words_in, normalise

TABLE = Path(__file__).parent / "data" / "danger_phrases.tsv"


def _rows():
    rows = []
    for number, line in enumerate(TABLE.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        language, kind, expected, *text = line.split("\t")
        keys = [] if expected == "-" else expected.split(",")
        rows.append(pytest.param(language, kind, keys, text[0] if text else "", id=f"{number}-{language}-{kind}"))
    return rows


ROWS = _rows()


@pytest.mark.parametrize(("language", "kind", "expected", "text"), ROWS)
def test_the_phrase_table(language, kind, expected, text):
    assert danger_words_in(text) == expected, f"{kind}: {text!r}"
    if expected and kind != "mixed":
        assert danger_language(text) == language


def test_the_table_covers_every_idea_in_both_languages_and_has_idioms_in_both():
    covered = {(row.values[0], key) for row in ROWS for key in row.values[2]}
    for idea in DANGER_IDEAS:
        assert (ENGLISH, idea.key) in covered, idea.key
        if idea.spanish and idea.key != "harm to others":
            assert (SPANISH, idea.key) in covered, idea.key
    kinds = {(row.values[0], row.values[1]) for row in ROWS}
    assert {(ENGLISH, "idiom"), (SPANISH, "idiom"), (ENGLISH, "miss"), (ENGLISH, "quiet"), (SPANISH, "quiet")} <= kinds


def test_the_issue_s_missed_phrasings_now_fire():
    assert danger_words_in("no reason to live") == ["want to die"]
    assert danger_words_in("suicidle") == ["suicide"]
    assert danger_words_in("quiero morir") == ["want to die"]


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("I CAN\u2019T  breathe!!!", "i cant breathe"),
        ("k i l l   my-self", "kil my self"),
        ("Daño, corazón", "dano corazon"),
        ("a b go", "a b go"),  # two single letters stay words
        ("su1c1de in 2 days", "suicide in 2 days"),
    ],
)
def test_normalising(text, plain):
    assert normalise(text) == plain


def test_a_negation_still_fires_on_purpose():
    # Erring on the side of safety: a false alarm costs one call from a clinician.
    assert danger_words_in("no chest pain at all") == ["chest pain"]
