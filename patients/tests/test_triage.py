"""Every triage rule fires for the answer it is about, and not for the answers around it."""

from datetime import date

import pytest

from patients.models import TriageOutcome
from patients.triage import patient_message, triage_evaluate
from patients.triage_rules import CLINICIAN_REVIEW, NOT_ELIGIBLE, NOTE, RULES

from .factories import CLEAN_ANSWERS

TODAY = date(2026, 11, 27)

# rule id: (answers that make it fire, answers next to them that do not)
CASES = {
    "PREG-1": ({"pregnancy": "pregnant"}, {"pregnancy": "no"}),
    "PREG-2": ({"pregnancy": "breastfeeding"}, {"pregnancy": "not_applicable"}),
    "PSY-1": ({"psychosis": "recent"}, {"psychosis": "no"}),
    "PSY-2": ({"psychosis": "past"}, {"psychosis": "recent"}),
    "BP-1": ({"hypertension": "uncontrolled"}, {"hypertension": "controlled"}),
    "BP-2": ({"bp_systolic": 160, "bp_diastolic": 90}, {"bp_systolic": 159, "bp_diastolic": 99}),
    "BP-3": ({"bp_systolic": 128, "bp_diastolic": 90}, {"bp_systolic": 139, "bp_diastolic": 89}),
    "BP-4": ({"hypertension": "controlled"}, {"hypertension": "no"}),
    "CARD-1": ({"heart_disease": True}, {"heart_disease": False}),
    "CARD-2": ({"heart_rhythm": True}, {"heart_rhythm": False}),
    "NEURO-1": ({"stroke": True}, {"stroke": False}),
    "NEURO-2": ({"seizures": True}, {"seizures": False}),
    "BIP-1": ({"bipolar": "unsure"}, {"bipolar": "no"}),
    "SUB-1": ({"substance_use": "current"}, {"substance_use": "past"}),
    "SUB-2": (
        {"substance_use": "recovery", "recovery_since": "2026-01"},  # 10 months
        {"substance_use": "recovery", "recovery_since": "2025-11"},  # 12 months
    ),
    "SUB-3": (
        {"substance_use": "recovery", "recovery_since": "2025-11"},
        {"substance_use": "recovery", "recovery_since": "2025-12"},
    ),
    "SUB-4": ({"substance_use": "past"}, {"substance_use": "no"}),
    "ALC-1": (
        {"alcohol_frequency": "2_3_week", "alcohol_quantity": "5_6"},
        {"alcohol_frequency": "2_3_week", "alcohol_quantity": "3_4"},
    ),
    "LIV-1": ({"liver_disease": True}, {"liver_disease": False}),
    "REACT-1": ({"ketamine_reaction": "yes"}, {"ketamine_reaction": "no"}),
    "REACT-2": ({"anaesthesia_reaction": True}, {"anaesthesia_reaction": False}),
    "MED-1": ({"benzodiazepines": True}, {"benzodiazepines": False}),
    "MED-2": ({"opioids": True}, {"opioids": False}),
    "MED-3": ({"maois": True}, {"maois": False}),
    "MED-4": ({"lamotrigine": True}, {"lamotrigine": False}),
    "MED-5": ({"stimulants": True}, {"stimulants": False}),
    "ALG-1": ({"has_allergies": True, "allergies": "penicillin: rash"}, {"has_allergies": False}),
    "TRT-1": ({"medication_trials": 1}, {"medication_trials": 2}),
    # intake 2026.2 (issue 15): hard stops
    "ALG-2": ({"ketamine_allergy": True}, {"ketamine_allergy": False, "has_allergies": True, "allergies": "nuts"}),
    "CARD-3": ({"heart_event_recent": True}, {"heart_event_recent": False, "heart_disease": True}),
    "VASC-1": ({"aneurysm": "untreated"}, {"aneurysm": "treated"}),
    "NEURO-3": ({"head_pressure": True}, {"head_pressure": False}),
    "BIP-2": ({"mania_now": True}, {"mania_now": False, "bipolar": "yes"}),
    "SUB-5": ({"ketamine_misuse": True}, {"ketamine_misuse": False}),
    # and reviews
    "VASC-2": ({"aneurysm": "treated"}, {"aneurysm": "no"}),
    "EYE-1": ({"glaucoma": True}, {"glaucoma": False}),
    "THY-1": ({"thyroid": "overactive"}, {"thyroid": "underactive"}),
    "PSY-3": ({"schizophrenia": True}, {"schizophrenia": False}),
    "SUB-6": (
        {"substance_use": "past", "substance_past_year": True},
        {"substance_use": "past", "substance_past_year": False},
    ),
}


def evaluate(**changes):
    return triage_evaluate({**CLEAN_ANSWERS, **changes}, today=TODAY)


def test_every_rule_has_a_firing_and_a_not_firing_case():
    assert set(CASES) == {rule.id for rule in RULES}
    assert len({rule.id for rule in RULES}) == len(RULES), "rule ids must be unique"


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_for_its_answer(rule_id):
    fires, _ = CASES[rule_id]

    assert rule_id in evaluate(**fires).rule_ids


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_does_not_fire_for_the_answer_next_to_it(rule_id):
    _, quiet = CASES[rule_id]

    assert rule_id not in evaluate(**quiet).rule_ids


def test_clean_answers_fire_nothing_and_may_book_an_evaluation():
    result = evaluate()

    assert result.rule_ids == []
    assert result.outcome == TriageOutcome.ELIGIBLE


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({"pregnancy": "pregnant"}, TriageOutcome.NOT_ELIGIBLE),
        ({"psychosis": "recent"}, TriageOutcome.NOT_ELIGIBLE),
        ({"hypertension": "uncontrolled"}, TriageOutcome.NOT_ELIGIBLE),
        ({"heart_rhythm": True}, TriageOutcome.CLINICIAN_REVIEW),
        ({"benzodiazepines": True, "has_allergies": True}, TriageOutcome.CLINICIAN_REVIEW),
        ({"has_allergies": True, "medication_trials": 0}, TriageOutcome.ELIGIBLE),  # notes only
        ({"pregnancy": "pregnant", "opioids": True}, TriageOutcome.NOT_ELIGIBLE),  # strictest wins
    ],
)
def test_outcome_is_the_strictest_rule_that_fired(changes, outcome):
    assert evaluate(**changes).outcome == outcome


def test_the_hard_stops_are_the_medical_directors_list():
    hard_stops = {rule.question for rule in RULES if rule.outcome == NOT_ELIGIBLE}

    assert hard_stops == {
        "pregnancy",
        "psychosis",
        "hypertension",
        "bp_systolic",
        # issue 15
        "ketamine_allergy",
        "heart_event_recent",
        "aneurysm",
        "head_pressure",
        "mania_now",
        "ketamine_misuse",
    }
    assert {rule.outcome for rule in RULES} == {NOT_ELIGIBLE, CLINICIAN_REVIEW, NOTE}


def test_every_rule_reads_a_structured_intake_question():
    from patients.intake import QUESTIONS, TEXT

    for rule in RULES:
        assert rule.question in QUESTIONS, rule.id
        assert QUESTIONS[rule.question].kind != TEXT, f"{rule.id} reads free text"


def test_missing_answers_never_crash_a_rule():
    assert triage_evaluate({}, today=TODAY).outcome == TriageOutcome.ELIGIBLE


def test_patient_words_are_kind_and_never_show_rule_ids():
    result = evaluate(pregnancy="pregnant", benzodiazepines=True)
    stop = str(patient_message(result.outcome, result.rule_ids))
    review = evaluate(benzodiazepines=True, heart_rhythm=True)
    review_words = str(patient_message(review.outcome, review.rule_ids))

    assert "pregnancy" in stop and "not safe for you right now" in stop and "call us" in stop.lower()
    assert "medicines you take" in review_words and "your heart" in review_words
    assert "You can book your evaluation" in review_words
    for rule in RULES:
        assert rule.id not in stop and rule.id not in review_words


# --- issue 15: the hand-made intakes that reached "clinician review" or "nothing stops you" -------------


@pytest.mark.parametrize(
    ("changes", "outcome", "words"),
    [
        (
            {"ketamine_allergy": True, "has_allergies": True, "allergies": "ketamine: hives"},
            TriageOutcome.NOT_ELIGIBLE,
            "allergic to ketamine",
        ),
        ({"heart_event_recent": True, "heart_disease": True}, TriageOutcome.NOT_ELIGIBLE, "heart attack"),
        ({"aneurysm": "untreated", "stroke": True}, TriageOutcome.NOT_ELIGIBLE, "not been repaired"),
        ({"mania_now": True, "bipolar": "yes"}, TriageOutcome.NOT_ELIGIBLE, "high mood"),
        ({"ketamine_misuse": True, "substance_use": "current"}, TriageOutcome.NOT_ELIGIBLE, "stay away"),
        ({"head_pressure": True}, TriageOutcome.NOT_ELIGIBLE, "head injury"),
        ({"glaucoma": True}, TriageOutcome.CLINICIAN_REVIEW, "your eyes or your thyroid"),
        ({"thyroid": "overactive"}, TriageOutcome.CLINICIAN_REVIEW, "your eyes or your thyroid"),
        ({"schizophrenia": True}, TriageOutcome.CLINICIAN_REVIEW, "mental health"),
        ({"liver_disease": True}, TriageOutcome.CLINICIAN_REVIEW, "your liver"),
    ],
)
def test_hand_made_intakes_reach_the_right_outcome_with_a_kind_reason(changes, outcome, words):
    result = evaluate(**changes)
    message = str(patient_message(result.outcome, result.rule_ids))

    assert result.outcome == outcome
    assert words in message
    assert "Nothing in your answers stops you" not in message


def test_every_rule_has_a_kind_reason_for_the_patient():
    for rule in RULES:
        reason = str(rule.reason)
        assert reason.endswith("."), rule.id
        assert rule.id not in reason and len(reason) < 200, rule.id


def test_an_intake_answered_under_the_first_version_stays_readable():
    from patients.intake import INTAKE_VERSION, answers_for_display

    old = {key: value for key, value in CLEAN_ANSWERS.items() if key != "glaucoma"}
    shown_old = {q.key for _s, rows in answers_for_display(old, "2026.1") for q, _a in rows}
    shown_new = {q.key for _s, rows in answers_for_display(old, INTAKE_VERSION) for q, _a in rows}

    assert "glaucoma" not in shown_old and "hypertension" in shown_old
    assert "glaucoma" in shown_new
    # and the old answers are still judged without the new questions firing anything
    assert triage_evaluate(old, today=TODAY).outcome == TriageOutcome.ELIGIBLE
