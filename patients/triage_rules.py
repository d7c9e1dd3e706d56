"""Triage rules: the medical director's list of intake answers that stop or need a clinician first.

HOW TO CHANGE THEM (medical director, with an engineer):
  1. Edit the thresholds or the RULES list below. Each rule reads one intake question (keys and
     choices are in patients/intake.py) and has an outcome:
        NOT_ELIGIBLE      hard stop: the patient cannot book an evaluation online (we ask them to call)
        CLINICIAN_REVIEW  the evaluating clinician must look at this before clearing
        NOTE              shown to the clinician, changes nothing for the patient
  2. Give a new rule a new id; never reuse or renumber an old id (sent intakes keep the ids that
     fired for them).
  3. Bump RULES_VERSION and update patients/tests/test_triage.py (each rule has a firing and a
     not-firing test). New intakes use the new rules; earlier results stay as they were recorded.

The patient never sees rule ids: they see kind words and the topics below. Clinicians see the ids.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

RULES_VERSION = "2026.1"

NOT_ELIGIBLE = "not_eligible"
CLINICIAN_REVIEW = "clinician_review"
NOTE = "note"

# Blood pressure (mmHg). At or above HARD_STOP on the last reading: not eligible until treated.
# At or above REVIEW (and below the hard stop): the clinician checks first.
BP_HARD_STOP = (160, 100)
BP_REVIEW = (140, 90)
# In recovery for fewer months than this: clinician review; longer: a note.
RECOVERY_REVIEW_MONTHS = 12
# Heavy drinking (AUDIT-C items 1 and 2): this often, or this many drinks on a typical day.
HEAVY_DRINKING_FREQUENCY = {"4_plus_week"}
HEAVY_DRINKING_QUANTITY = {"5_6", "7_9", "10_plus"}
# Treatment-resistant depression usually means at least this many adequate medicine trials.
TREATMENT_RESISTANCE_TRIALS = 2

# What the patient reads: "a clinician will talk with you about ..."
TOPIC_BLOOD_PRESSURE = _("your blood pressure")
TOPIC_HEART = _("your heart")
TOPIC_BRAIN = _("strokes or seizures")
TOPIC_PREGNANCY = _("pregnancy or breastfeeding")
TOPIC_MENTAL_HEALTH = _("some of your mental health history")
TOPIC_SUBSTANCES = _("alcohol or other substances")
TOPIC_LIVER = _("your liver")
TOPIC_REACTIONS = _("past reactions to ketamine or anaesthesia")
TOPIC_MEDICINES = _("medicines you take")
TOPIC_ALLERGIES = _("your allergies")
TOPIC_TREATMENT = _("treatments you have tried")


@dataclass(frozen=True)
class Rule:
    id: str
    question: str  # the intake question key it reads
    outcome: str
    condition: Callable
    staff_text: str  # what the clinician reads next to the id
    topic: "str | StrPromise"  # what the patient reads


# --- small condition builders over the answers (an `Answers` dict with `.today`) -------------


def answer_is(key, *values):
    return lambda a: a.get(key) in values


def yes(key):
    return lambda a: a.get(key) is True


def reading_at_least(limits):
    systolic, diastolic = limits
    return lambda a: (a.get("bp_systolic") or 0) >= systolic or (a.get("bp_diastolic") or 0) >= diastolic


def reading_between(low, high):
    return lambda a: reading_at_least(low)(a) and not reading_at_least(high)(a)


def months_since(key):
    def months(a):
        value = a.get(key)
        if not value:
            return None
        year, month = (int(part) for part in value.split("-"))
        return (a.today.year - year) * 12 + (a.today.month - month)

    return months


def recovery_shorter_than(limit):
    return lambda a: a.get("substance_use") == "recovery" and (months_since("recovery_since")(a) or 0) < limit


def recovery_at_least(limit):
    return lambda a: a.get("substance_use") == "recovery" and (months_since("recovery_since")(a) or 0) >= limit


def heavy_drinking(a):
    if a.get("alcohol_frequency") in (None, "never"):
        return False
    return (
        a.get("alcohol_frequency") in HEAVY_DRINKING_FREQUENCY or a.get("alcohol_quantity") in HEAVY_DRINKING_QUANTITY
    )


def fewer_trials_than(limit):
    return lambda a: a.get("medication_trials") is not None and a["medication_trials"] < limit


# --- the rules ------------------------------------------------------------------------------

# fmt: off
RULES = (
    # Hard stops (not eligible)
    Rule("PREG-1", "pregnancy", NOT_ELIGIBLE, answer_is("pregnancy", "pregnant"),
         "Pregnant, could be pregnant, or trying to conceive", TOPIC_PREGNANCY),
    Rule("PSY-1", "psychosis", NOT_ELIGIBLE, answer_is("psychosis", "recent"),
         "Psychosis within the last 12 months or now (active psychosis)", TOPIC_MENTAL_HEALTH),
    Rule("BP-1", "hypertension", NOT_ELIGIBLE, answer_is("hypertension", "uncontrolled"),
         "Uncontrolled or untreated hypertension (self-reported)", TOPIC_BLOOD_PRESSURE),
    Rule("BP-2", "bp_systolic", NOT_ELIGIBLE, reading_at_least(BP_HARD_STOP),
         f"Last blood pressure at or above {BP_HARD_STOP[0]}/{BP_HARD_STOP[1]}", TOPIC_BLOOD_PRESSURE),
    # Clinician review needed
    Rule("BP-3", "bp_systolic", CLINICIAN_REVIEW, reading_between(BP_REVIEW, BP_HARD_STOP),
         f"Last blood pressure {BP_REVIEW[0]}/{BP_REVIEW[1]} or above", TOPIC_BLOOD_PRESSURE),
    Rule("CARD-1", "heart_disease", CLINICIAN_REVIEW, yes("heart_disease"),
         "Heart disease, heart attack, heart failure, angina or valve disease", TOPIC_HEART),
    Rule("CARD-2", "heart_rhythm", CLINICIAN_REVIEW, yes("heart_rhythm"),
         "Heart rhythm problem", TOPIC_HEART),
    Rule("NEURO-1", "stroke", CLINICIAN_REVIEW, yes("stroke"),
         "Stroke, TIA, aneurysm or intracranial bleed", TOPIC_BRAIN),
    Rule("NEURO-2", "seizures", CLINICIAN_REVIEW, yes("seizures"),
         "Seizures or epilepsy", TOPIC_BRAIN),
    Rule("PSY-2", "psychosis", CLINICIAN_REVIEW, answer_is("psychosis", "past"),
         "History of psychosis more than 12 months ago", TOPIC_MENTAL_HEALTH),
    Rule("BIP-1", "bipolar", CLINICIAN_REVIEW, answer_is("bipolar", "yes", "unsure"),
         "Bipolar disorder or mania/hypomania (or unsure)", TOPIC_MENTAL_HEALTH),
    Rule("SUB-1", "substance_use", CLINICIAN_REVIEW, answer_is("substance_use", "current"),
         "Current substance use", TOPIC_SUBSTANCES),
    Rule("SUB-2", "recovery_since", CLINICIAN_REVIEW, recovery_shorter_than(RECOVERY_REVIEW_MONTHS),
         f"In recovery for less than {RECOVERY_REVIEW_MONTHS} months", TOPIC_SUBSTANCES),
    Rule("ALC-1", "alcohol_frequency", CLINICIAN_REVIEW, heavy_drinking,
         "Heavy drinking (4+ times a week, or 5+ drinks on a typical day)", TOPIC_SUBSTANCES),
    Rule("PREG-2", "pregnancy", CLINICIAN_REVIEW, answer_is("pregnancy", "breastfeeding"),
         "Breastfeeding", TOPIC_PREGNANCY),
    Rule("LIV-1", "liver_disease", CLINICIAN_REVIEW, yes("liver_disease"),
         "Liver disease", TOPIC_LIVER),
    Rule("REACT-1", "ketamine_reaction", CLINICIAN_REVIEW, answer_is("ketamine_reaction", "yes"),
         "Previous bad reaction to ketamine", TOPIC_REACTIONS),
    Rule("REACT-2", "anaesthesia_reaction", CLINICIAN_REVIEW, yes("anaesthesia_reaction"),
         "Previous bad reaction to anaesthesia or sedation", TOPIC_REACTIONS),
    Rule("MED-1", "benzodiazepines", CLINICIAN_REVIEW, yes("benzodiazepines"),
         "Takes a benzodiazepine (may blunt response; sedation)", TOPIC_MEDICINES),
    Rule("MED-2", "opioids", CLINICIAN_REVIEW, yes("opioids"),
         "Takes an opioid (respiratory depression, sedation)", TOPIC_MEDICINES),
    Rule("MED-3", "maois", CLINICIAN_REVIEW, yes("maois"),
         "Takes an MAOI (blood pressure)", TOPIC_MEDICINES),
    Rule("MED-4", "lamotrigine", CLINICIAN_REVIEW, yes("lamotrigine"),
         "Takes lamotrigine (may blunt response)", TOPIC_MEDICINES),
    Rule("MED-5", "stimulants", CLINICIAN_REVIEW, yes("stimulants"),
         "Takes a stimulant (blood pressure, heart rate)", TOPIC_MEDICINES),
    # Notes for the clinician
    Rule("BP-4", "hypertension", NOTE, answer_is("hypertension", "controlled", "unsure"),
         "Treated hypertension, or unsure: check blood pressure before each infusion", TOPIC_BLOOD_PRESSURE),
    Rule("SUB-3", "substance_use", NOTE, recovery_at_least(RECOVERY_REVIEW_MONTHS),
         f"In recovery for {RECOVERY_REVIEW_MONTHS} months or more", TOPIC_SUBSTANCES),
    Rule("SUB-4", "substance_use", NOTE, answer_is("substance_use", "past"),
         "Past substance use", TOPIC_SUBSTANCES),
    Rule("ALG-1", "has_allergies", NOTE, yes("has_allergies"),
         "Has allergies: see the intake", TOPIC_ALLERGIES),
    Rule("TRT-1", "medication_trials", NOTE, fewer_trials_than(TREATMENT_RESISTANCE_TRIALS),
         f"Fewer than {TREATMENT_RESISTANCE_TRIALS} medicine trials: treatment resistance not established",
         TOPIC_TREATMENT),
)
# fmt: on
