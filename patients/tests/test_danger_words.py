"""The danger-word list: each idea fires on its words and simple variants, and everyday words do not."""

import pytest

from patients.danger_words import DANGER_PATTERNS, danger_words_in

FIRING = {
    "suicide": ["I have been thinking about suicide", "feeling SUICIDAL tonight"],
    "kill myself": ["I want to kill myself", "thought about killing my self"],
    "end my life": ["I want to end my life", "ready to end it all", "thinking of taking my own life"],
    "want to die": ["I just want to die", "everyone would be better off dead"],
    "self-harm": ["I self-harmed again", "self harm", "I keep cutting myself", "I hurt myself last night"],
    "overdose": ["I overdosed", "worried about an over-dose", "I took too many pills"],
    "chest pain": ["Chest pains since the visit", "my chest hurts", "pain in my chest", "chest tightness"],
    "trouble breathing": ["I can\u2019t breathe", "I cannot breathe well", "trouble breathing", "short of breath"],
    "fainting": ["I fainted in the kitchen", "I passed out for a minute"],
    "seizure": ["I had a seizure", "convulsions this morning"],
}

QUIET = [
    "Can I reschedule to Friday afternoon?",
    "The nurse was lovely. My skill at parking is not.",
    "Is the invoice overdue?",
    "I feel much better and I am breathing easier",
    "Please call me back about my plan",
    "",
]


def test_every_danger_idea_has_a_firing_case():
    assert set(FIRING) == {key for key, _pattern in DANGER_PATTERNS}


@pytest.mark.parametrize(("key", "text"), [(k, t) for k, texts in FIRING.items() for t in texts])
def test_each_idea_fires_on_its_words_and_their_variants(key, text):
    assert key in danger_words_in(text)


@pytest.mark.parametrize("text", QUIET)
def test_everyday_words_do_not_fire(text):
    assert danger_words_in(text) == []


def test_several_ideas_in_one_message_come_back_in_list_order():
    assert danger_words_in("Chest pain and I want to die") == ["want to die", "chest pain"]


def test_a_negation_still_fires_on_purpose():
    # Erring on the side of safety: a false alarm costs one call from a clinician.
    assert danger_words_in("no chest pain at all") == ["chest pain"]
