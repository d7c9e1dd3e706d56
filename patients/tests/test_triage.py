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
    # rules 2026.3 (the hand-made review): named in their own words, the structured answer said No
    "MED-6": ({"medications": "Klonopin 0.5mg"}, {"medications": "Klonopin 0.5mg", "benzodiazepines": True}),
    "MED-7": ({"medications": "norco 5/325"}, {"medications": "norco 5/325", "opioids": True}),
    "MED-8": ({"medications": "lamictal 100"}, {"medications": "lamictal 100", "lamotrigine": True}),
    "MED-9": ({"medications": "Nardil"}, {"medications": "Nardil", "maois": True}),
    "MED-10": ({"medications": "adderall"}, {"medications": "adderall", "stimulants": True}),
    "MED-11": ({"medications": "Keppra 500mg"}, {"medications": "Cymbalta 60mg"}),
    "MED-12": ({"medications": "lithium 300mg"}, {"medications": "sertraline 100mg"}),
    "BP-5": ({"heart_brain_details": "last BP 140/85"}, {"heart_brain_details": "last BP 139/89"}),
    "CARD-4": ({"heart_brain_details": "afib"}, {"heart_brain_details": "afib", "heart_rhythm": True}),
    "NEURO-4": ({"heart_brain_details": "epilepsy as a child"}, {"heart_brain_details": "epilepsy", "seizures": True}),
    "PSY-4": ({"treatment_details": "bipolar 2"}, {"treatment_details": "bipolar 2", "bipolar": "yes"}),
    "PREG-3": ({"medications": "prenatal vitamins"}, {"medications": "prenatal vitamins", "pregnancy": "pregnant"}),
    "REACT-3": (
        {"reaction_details": "ketamine: panic and vomiting"},
        {"reaction_details": "propofol: nausea", "anaesthesia_reaction": True},
    ),
    "SUB-7": ({"substances": "weed most nights"}, {"substances": "weed most nights", "substance_use": "past"}),
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


def test_every_rule_reads_an_intake_question_and_free_text_only_asks_for_a_review():
    from patients.intake import QUESTIONS, TEXT

    for rule in RULES:
        assert rule.question in QUESTIONS, rule.id
    # A rule that reads the patient's own words never stops them: the words may be about the past.
    words_only = {"medications": "Xanax, oxycodone, lithium, Keppra, adderall, Nardil, lamictal"}
    words_only |= {
        "heart_brain_details": "afib, epilepsy, BP 190/120, high BP",
        "treatment_details": "bipolar, psychosis",
        "substances": "cocaine",
        "reaction_details": "ketamine",
        "allergies": "ketamine",
    }
    words_only["has_allergies"] = True
    result = evaluate(**words_only)
    assert result.outcome == TriageOutcome.CLINICIAN_REVIEW
    assert {rule.question for rule in result.fired if rule.outcome == NOT_ELIGIBLE} == set()
    assert all(QUESTIONS[key].kind == TEXT for key in words_only if key != "has_allergies")


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


# --- the hand-made review (rules 2026.3): intakes typed the way patients type them ------------------------

REVIEW = TriageOutcome.CLINICIAN_REVIEW
# (the free-text answer, what the patient wrote) -> clinician review first
NEEDS_REVIEW = [
    ("medications", "Xanax 0.5mg as needed"),
    ("medications", "alprazolam"),
    ("medications", "alprazolan 0.25"),
    ("medications", "xanex"),
    ("medications", "klonopin 1mg at night"),
    ("medications", "klonipin"),
    ("medications", "Clonazepam .5"),
    ("medications", "rivotril 2mg"),
    ("medications", "ativan prn"),
    ("medications", "Lorazepam"),
    ("medications", "valium"),
    ("medications", "diazepam 5 mg"),
    ("medications", "oxycodone 10mg"),
    ("medications", "oxicodona"),
    ("medications", "percocet for my back"),
    ("medications", "hydrocodone"),
    ("medications", "Norco 5/325"),
    ("medications", "tramadol 50mg twice a day"),
    ("medications", "suboxone 8mg"),
    ("medications", "buprenorphine"),
    ("medications", "methadone 80mg daily"),
    ("medications", "fentanyl patch"),
    ("medications", "morphine"),
    ("medications", "codeine cough syrup"),
    ("medications", "jarabe con codeína"),
    ("medications", "tylenol with codeine"),
    ("medications", "lamotrigine 200mg"),
    ("medications", "Lamictal"),
    ("medications", "lithium 300mg"),
    ("medications", "litio"),
    ("medications", "seroquel 50 for sleep"),
    ("medications", "abilify 5mg"),
    ("medications", "Keppra 500mg"),
    ("medications", "depakote"),
    ("medications", "adderall 20mg"),
    ("medications", "vyvanse"),
    ("medications", "Nardil"),
    ("medications", "sertraline 100mg, Xanax"),
    ("medications", "prenatal vitamins"),
    ("medications", "vitaminas prenatales, estoy embarazada"),
    ("heart_brain_details", "my last BP was 150/95"),
    ("heart_brain_details", "160 over 100"),
    ("heart_brain_details", "150 sobre 95"),
    ("heart_brain_details", "142/88 at the pharmacy"),
    ("heart_brain_details", "high BP"),
    ("heart_brain_details", "I have high blood pressure but don't take anything"),
    ("heart_brain_details", "presión alta"),
    ("heart_brain_details", "I have afib"),
    ("heart_brain_details", "I have a pacemaker"),
    ("heart_brain_details", "arritmia"),
    ("heart_brain_details", "had a seizure in 2019"),
    ("heart_brain_details", "epilepsia de niño"),
    ("heart_brain_details", "I'm 8 weeks pregnant"),
    ("treatment_details", "I was diagnosed bipolar 2 in 2015"),
    ("treatment_details", "had a psychotic episode in college"),
    ("treatment_details", "esquizofrenia"),
    ("reaction_details", "ketamine gave me a terrible panic and I couldn't breathe"),
    ("substances", "weed every night"),
    ("substances", "cocaine on weekends"),
    # The name is the patient's own whatever else the text denies or whoever else it names.
    ("medications", "no other meds besides Xanax"),
    ("medications", "Xanax 0.5, no other medicines"),
    ("medications", "not sure if klonopin counts"),
    ("medications", "no se si el rivotril cuenta"),
    ("medications", "I have had no problems since starting lamictal"),
    ("heart_brain_details", "no afib, but a stent in 2019"),
    ("treatment_details", "I have bipolar, like my mother"),
]
# Nothing here needs a clinician first.
QUIET = [
    ("medications", "sertraline 100mg"),
    ("medications", "vitamin D"),
    ("medications", "none"),
    ("medications", "n/a"),
    ("medications", "Ninguno"),
    ("medications", "zoloft 50mg, lexapro before"),
    ("medications", "wellbutrin 150, birth control, fish oil"),
    ("medications", "levothyroxine 50mcg, metformin 500mg"),
    ("medications", "ibuprofen as needed, tylenol"),
    ("medications", "trazodone 50 mg for sleep, melatonin"),
    ("medications", "gabapentin 300, propranolol 10 for performance anxiety"),
    ("medications", "escitalopram 10 mg; omeprazole"),
    ("medications", "bupropion XL 300mg"),
    ("medications", "prozac 20mg, multivitamin, magnesium"),
    ("medications", "hydroxyzine 25 prn, buspirone 10 bid"),
    ("medications", "Cymbalta 60mg"),
    ("medications", "ambien 5mg"),
    ("medications", "estradiol, spironolactone"),
    ("heart_brain_details", "BP usually 118/76"),
    ("heart_brain_details", "no"),
    ("treatment_details", "therapy for 5 years, it has the ability to help"),
    # Denied, or someone else's: what a patient writes to say "not me".
    ("heart_brain_details", "No heart problems"),
    ("heart_brain_details", "no history of seizures or epilepsy"),
    ("heart_brain_details", "Denies any history of seizures"),
    ("heart_brain_details", "never been pregnant"),
    ("heart_brain_details", "sin convulsiones ni problemas del corazón"),
    ("heart_brain_details", "family history of heart disease"),
    ("heart_brain_details", "my mother had bipolar disorder"),
    ("heart_brain_details", "mi hermana está embarazada"),
    ("substances", "I do not use weed"),
    ("treatment_details", "I go to concerts to relax"),
    # A medicine they are allergic to is not one they take.
    ("allergies", "codeine (hives), penicillin"),
]


@pytest.mark.parametrize(("key", "text"), NEEDS_REVIEW)
def test_a_contraindication_in_the_patients_own_words_needs_a_clinician_first(key, text):
    result = evaluate(**{key: text})
    message = str(patient_message(result.outcome, result.rule_ids))

    assert result.outcome == REVIEW, result.rule_ids
    assert "A few of your answers need a clinician" in message


@pytest.mark.parametrize(("key", "text"), QUIET)
def test_everyday_medicines_and_answers_need_nothing(key, text):
    assert evaluate(**{key: text}).outcome == TriageOutcome.ELIGIBLE


def test_allergic_to_ketamine_in_words_needs_a_clinician_and_high_bp_treated_stays_a_note():
    assert evaluate(has_allergies=True, allergies="ketamina").outcome == REVIEW
    controlled = evaluate(hypertension="controlled", heart_brain_details="high blood pressure, on lisinopril")
    assert controlled.rule_ids == ["BP-4"]
