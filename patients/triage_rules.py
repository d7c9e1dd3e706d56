"""Triage rules: the medical director's list of intake answers that stop or need a clinician first.

HOW TO CHANGE THEM (medical director, with an engineer):
  1. Edit the thresholds or the RULES list below. Each rule reads one intake question (keys and
     choices are in patients/intake.py) and has an outcome:
        NOT_ELIGIBLE      hard stop: the patient cannot book an evaluation online (we ask them to call)
        CLINICIAN_REVIEW  the evaluating clinician must look at this before clearing
        NOTE              shown to the clinician, changes nothing for the patient
  2. Give a new rule a new id; never reuse or renumber an old id (sent intakes keep the ids that
     fired for them).
     Each rule also has `reason`: one sentence in kind words that the patient reads (why this
     answer matters), never a rule id and never a verdict on the person.
  3. Bump RULES_VERSION and update patients/tests/test_triage.py (each rule has a firing and a
     not-firing test). New intakes use the new rules; earlier results stay as they were recorded.

WHAT PATIENTS WRITE IN THEIR OWN WORDS. A patient may answer "No" to "do you take a
benzodiazepine?" and list "Klonopin 0.5mg" under their medicines, or write "150/95" or "high BP"
in the details. The rules marked "named in their own words" read the free-text answers for the
names in NAMED below (brand and generic, common misspellings, Spanish) and for blood pressure
readings. They only ever ask for a clinician's review (never a hard stop: the words may be about
the past or a question), and only when the structured answer did not already say so. To add a
name, add it to its list and a line to the table in patients/tests/test_triage.py.

The patient never sees rule ids: they see kind words and the topics below. Clinicians see the ids.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from .danger_words import normalise, one_letter_off
from .intake import QUESTIONS, TEXT

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

RULES_VERSION = "2026.3"  # the hand-made review (2026-12): names and readings in the patient's own words

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
TOPIC_EYES_THYROID = _("your eyes or your thyroid")


@dataclass(frozen=True)
class Rule:
    id: str
    question: str  # the intake question key it reads
    outcome: str
    condition: Callable
    staff_text: str  # what the clinician reads next to the id
    topic: "str | StrPromise"  # what the patient reads: "a clinician will talk with you about ..."
    reason: "str | StrPromise" = ""  # why it matters, in kind words for the patient


# The free-text answers (never read by a rule but through `named` and `reading_in_words_at_least`).
TEXT_KEYS = tuple(key for key, question in QUESTIONS.items() if question.kind == TEXT)


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


# --- names in the patient's own words ------------------------------------------------------------

# What a patient writes for each group, as `danger_words` compares text: lower case, no accents,
# whole words (with or without the space inside a name). Names of 6 letters or more are also
# caught one letter off ("alprazolan", "klonipin"); real words one letter off a name are in
# NOT_A_NAME. Misspellings of shorter names are listed.
# fmt: off
NAMED = {
    "benzodiazepine": (
        "benzo", "benzos", "benzodiazepine", "benzodiazepines", "benzodiazepina", "benzodiazepinas",
        "alprazolam", "xanax", "xanex", "zanax", "zanex", "xanx", "xr xanax",
        "lorazepam", "ativan", "orfidal", "clonazepam", "klonopin", "klonipin", "clonopin", "klonapin", "rivotril",
        "diazepam", "valium", "temazepam", "restoril", "chlordiazepoxide", "librium", "clorazepate", "tranxene",
        "oxazepam", "triazolam", "halcion", "midazolam", "bromazepam", "lexotan",
    ),
    "opioid": (
        "opioid", "opioids", "opiate", "opiates", "opioide", "opioides",
        "oxycodone", "oxycontin", "oxy", "percocet", "percoset", "roxicodone", "oxicodona",
        "hydrocodone", "vicodin", "norco", "lortab", "hidrocodona",
        "tramadol", "ultram", "tapentadol", "nucynta",
        "suboxone", "subutex", "zubsolv", "sublocade", "buprenorphine", "butrans", "buprenorfina",
        "methadone", "metadona", "fentanyl", "fentanil", "fentanilo", "duragesic",
        "morphine", "morfina", "ms contin", "codeine", "codeina", "tylenol 3", "tylenol with codeine",
        "hydromorphone", "dilaudid", "oxymorphone", "opana", "meperidine", "demerol", "kratom",
    ),
    "lamotrigine": ("lamotrigine", "lamotrigina", "lamictal", "lamotrigene"),
    "maoi": (
        "maoi", "phenelzine", "nardil", "tranylcypromine", "parnate", "isocarboxazid", "marplan",
        "selegiline", "emsam",
    ),
    "stimulant": (
        "adderall", "aderall", "adderal", "vyvanse", "lisdexamfetamine", "amphetamine", "dextroamphetamine",
        "dexedrine", "anfetamina", "ritalin", "concerta", "methylphenidate", "metilfenidato", "focalin",
        "modafinil", "provigil", "armodafinil", "nuvigil", "phentermine",
    ),
    # Medicines for seizures (and some for bipolar disorder): ask about both.
    "anticonvulsant": (
        "levetiracetam", "keppra", "valproate", "valproic", "divalproex", "depakote", "depakene", "valproato",
        "carbamazepine", "tegretol", "carbamazepina", "oxcarbazepine", "trileptal", "phenytoin", "dilantin",
        "lacosamide", "vimpat", "topiramate", "topamax", "zonisamide", "clobazam", "onfi",
    ),
    # Medicines for bipolar disorder or psychosis.
    "mood stabiliser or antipsychotic": (
        "lithium", "lithobid", "litio", "quetiapine", "seroquel", "quetiapina", "olanzapine", "zyprexa",
        "risperidone", "risperdal", "risperidona", "aripiprazole", "abilify", "aripiprazol", "haloperidol",
        "haldol", "clozapine", "clozaril", "lurasidone", "latuda", "cariprazine", "vraylar", "ziprasidone",
        "geodon", "paliperidone", "invega", "lumateperone", "caplyta", "antipsychotic", "antipsicotico",
    ),
    "heart": (
        "afib", "a fib", "atrial fibrillation", "fibrilacion auricular", "arrhythmia", "arrythmia", "arritmia",
        "irregular heartbeat", "irregular heart beat", "svt", "tachycardia", "taquicardia", "long qt", "wpw",
        "pacemaker", "marcapasos", "heart failure", "chf", "insuficiencia cardiaca", "angina", "heart attack",
        "infarto", "stent", "stents", "heart bypass", "triple bypass", "cabg",
        "heart disease", "cardiopatia", "cardiomyopathy", "heart valve",
        "murmur", "heart condition", "heart problem", "heart problems",
    ),
    "high blood pressure": (
        "hypertension", "hipertension", "high blood pressure", "high bp", "hbp", "presion alta",
        "tension alta", "presion arterial alta",
    ),
    "seizures": (
        "seizure", "seizures", "epilepsy", "epileptic", "epilepsia", "epileptico", "epileptica",
        "convulsion", "convulsions", "convulsiones",
    ),
    "psychosis or mania": (
        "psychosis", "psychotic", "psicosis", "psicotico", "psicotica", "schizophrenia", "schizophrenic",
        "esquizofrenia", "schizoaffective", "esquizoafectivo", "bipolar", "mania", "manic", "hypomania",
        "hypomanic", "maniaco", "hipomania", "hearing voices", "escucho voces", "hallucinations",
        "alucinaciones",
    ),
    "pregnancy": (
        "pregnant", "pregnancy", "prenatal", "trying to conceive", "ivf", "embarazada", "embarazo",
        "prenatales",
    ),
    "ketamine": ("ketamine", "ketamina", "esketamine", "spravato", "special k", "ketalar"),
    "drug": (
        "cocaine", "cocaina", "crack cocaine", "meth", "methamphetamine", "metanfetamina", "crystal meth", "heroin",
        "heroina", "mdma", "ecstasy", "lsd", "shrooms", "psilocybin", "pcp", "weed", "marijuana",
        "marihuana", "cannabis", "thc", "edibles", "mota", "ghb",
    ),
}
# fmt: on
# Real words one letter off a name: never a misspelling of it.
NOT_A_NAME = frozenset(
    {
        "ability",
        "morphing",
        "maniac",
        "concert",
        "concerts",
        "halcyon",
        "heroic",
        "heroine",
        "herein",
        "anginas",
        "peacemaker",
        "peacemakers",
    }
)  # fmt: skip
# A blood pressure reading written out: "150/95", "160 over 100", "150 sobre 95", "150x95".
BP_IN_WORDS = re.compile(r"(?<!\d)(\d{2,3})\s*(?:/|over|sobre|x|-)\s*(\d{2,3})(?!\d)")


def _texts(a):
    return " ".join(str(a.get(key) or "") for key in TEXT_KEYS)


@cache
def _name_patterns(group):
    names = NAMED[group]
    phrases = [normalise(name).replace(" ", " ?") for name in names]
    pattern = re.compile(r"(?<![a-z0-9])(?:" + "|".join(phrases) + r")(?![a-z0-9])")
    long_names = tuple(normalise(name) for name in names if len(name) >= 6 and " " not in name)
    return pattern, long_names


# What a name says depends on its clause: "no heart problems", "never been pregnant", "denies
# seizures", "my mother has bipolar", "allergic to codeine" name something the patient does not
# have or take. A clause ends at punctuation or at a word that turns the sentence ("but", "besides":
# "no other medicines besides Xanax" still names Xanax).
_CLAUSE = re.compile(
    r"[.;,:!?()\n/]|\b(?:but|except|besides|however|although|though|apart from|aside from|other than"
    r"|pero|excepto|salvo|aunque|ademas de|aparte de|menos)\b",
    re.IGNORECASE,
)
# A denial anywhere before the name in its clause, or a short "no" within three words of it.
_DENIED = frozenset({"never", "denies", "deny", "denied", "negative", "without", "nunca", "niega", "niego", "sin"})
_NO = frozenset({"no", "not", "none", "nor", "ni", "ningun", "ninguna", "ninguno", "nothing", "nada"})
# Someone else's history, before the name in its clause ("family history of heart disease").
_SOMEONE_ELSE = frozenset(
    {"family", "mother", "mom", "mum", "father", "dad", "parent", "parents", "sister", "brother", "sibling",
     "siblings", "aunt", "uncle", "grandmother", "grandfather", "grandma", "grandpa", "cousin", "son",
     "daughter", "husband", "wife", "partner", "boyfriend", "girlfriend", "friend", "familia", "familiar",
     "madre", "mama", "padre", "papa", "hermana", "hermano", "tia", "tio", "abuela", "abuelo", "prima",
     "primo", "hijo", "hija", "esposo", "esposa", "pareja", "amigo", "amiga"}
)  # fmt: skip
# Where a medicine's name is not one they take: what they are allergic to.
_NOT_TAKEN_KEYS = ("allergies",)


# "Not sure if Klonopin counts" is a doubt, not a denial.
_DOUBT = frozenset({"sure", "certain", "se", "estoy", "recuerdo", "remember"})


# Words that leave a short "no" in reach: "no history of seizures or epilepsy".
_FILLER = frozenset({"or", "and", "any", "history", "hx", "of", "known", "o", "y", "de", "antecedentes"})


def _about_them(before: list[str]) -> bool:
    """False when the words before a name in its clause deny it or speak of someone else."""
    before = [word for word in before if word not in _FILLER]
    denials = [
        word
        for i, word in enumerate(before)
        if (word in _DENIED or (word in _NO and i >= len(before) - 3))
        and not (i + 1 < len(before) and before[i + 1] in _DOUBT)
    ]
    return not (denials or _SOMEONE_ELSE & set(before))


def _names_in(clause: str, group: str) -> bool:
    text = normalise(clause)
    pattern, long_names = _name_patterns(group)
    for match in pattern.finditer(text):
        if _about_them(text[: match.start()].split()):
            return True
    words = text.split()
    return any(
        word not in NOT_A_NAME
        and len(word) >= 6
        and any(one_letter_off(word, name) for name in long_names)
        and _about_them(words[:i])
        for i, word in enumerate(words)
    )


def named(group, *, keys=None):
    """True when a free-text answer (`keys`, or all of them but the allergies) names something of
    `group` as the patient's own, now or before: not denied ("no seizures") and not someone else's
    ("my mother had bipolar") in its clause."""
    keys = keys or tuple(key for key in TEXT_KEYS if key not in _NOT_TAKEN_KEYS)

    def fires(a):
        return any(
            _names_in(clause, group)
            for key in keys
            for clause in _CLAUSE.split(str(a.get(key) or ""))
            if clause and clause.strip()
        )

    return fires


def named_unless(group, key, *values):
    """Named in their own words, and the structured answer to `key` did not already say so."""
    return lambda a: a.get(key) not in values and named(group)(a)


def reading_in_words_at_least(limits):
    systolic, diastolic = limits

    def fires(a):
        for high, low in BP_IN_WORDS.findall(_texts(a)):
            high, low = int(high), int(low)
            if 70 <= high <= 260 and 30 <= low <= 160 and high > low and (high >= systolic or low >= diastolic):
                return True
        return False

    return fires


# --- the rules ------------------------------------------------------------------------------

# fmt: off
RULES = (
    # Hard stops (not eligible)
    Rule("ALG-2", "ketamine_allergy", NOT_ELIGIBLE, yes("ketamine_allergy"),
         "Allergy or hypersensitivity to ketamine (self-reported)", TOPIC_ALLERGIES,
         _("You told us you may be allergic to ketamine, and an allergic reaction to it can be dangerous.")),
    Rule("CARD-3", "heart_event_recent", NOT_ELIGIBLE, yes("heart_event_recent"),
         "Heart attack or stroke within the last 6 months", TOPIC_HEART,
         _("Ketamine makes the heart and blood vessels work harder; after a recent heart attack or "
           "stroke they need time to heal first.")),
    Rule("VASC-1", "aneurysm", NOT_ELIGIBLE, answer_is("aneurysm", "untreated"),
         "Known untreated aneurysm or vascular malformation", TOPIC_BRAIN,
         _("Ketamine raises blood pressure for a while, which could strain a blood vessel that has not "
           "been repaired.")),
    Rule("NEURO-3", "head_pressure", NOT_ELIGIBLE, yes("head_pressure"),
         "Raised intracranial pressure now, or head injury in the last month", TOPIC_BRAIN,
         _("Ketamine can raise the pressure inside the skull, so it is not safe after a recent head injury "
           "or while that pressure is high.")),
    Rule("BIP-2", "mania_now", NOT_ELIGIBLE, yes("mania_now"),
         "Current mania or hypomania (self-reported)", TOPIC_MENTAL_HEALTH,
         _("Ketamine can make a high mood higher, so we wait until a period like this has passed.")),
    Rule("SUB-5", "ketamine_misuse", NOT_ELIGIBLE, yes("ketamine_misuse"),
         "Ketamine used other than as prescribed, ever", TOPIC_SUBSTANCES,
         _("Ketamine treatment could make it harder to stay away from ketamine, so home infusions are "
           "not the right treatment for you.")),
    Rule("PREG-1", "pregnancy", NOT_ELIGIBLE, answer_is("pregnancy", "pregnant"),
         "Pregnant, could be pregnant, or trying to conceive", TOPIC_PREGNANCY,
         _("Ketamine may not be safe for an unborn baby, so we do not give it during pregnancy.")),
    Rule("PSY-1", "psychosis", NOT_ELIGIBLE, answer_is("psychosis", "recent"),
         "Psychosis within the last 12 months or now (active psychosis)", TOPIC_MENTAL_HEALTH,
         _("Ketamine can make psychosis worse, so it is not safe while it is recent or active.")),
    Rule("BP-1", "hypertension", NOT_ELIGIBLE, answer_is("hypertension", "uncontrolled"),
         "Uncontrolled or untreated hypertension (self-reported)", TOPIC_BLOOD_PRESSURE,
         _("Ketamine raises blood pressure for a while, so it needs to be under control first.")),
    Rule("BP-2", "bp_systolic", NOT_ELIGIBLE, reading_at_least(BP_HARD_STOP),
         f"Last blood pressure at or above {BP_HARD_STOP[0]}/{BP_HARD_STOP[1]}", TOPIC_BLOOD_PRESSURE,
         _("Ketamine raises blood pressure for a while, so a high reading needs treating first.")),
    # Clinician review needed
    Rule("VASC-2", "aneurysm", CLINICIAN_REVIEW, answer_is("aneurysm", "treated"),
         "Aneurysm or vascular malformation, repaired or treated", TOPIC_BRAIN,
         _("Ketamine raises blood pressure for a while, so a clinician checks your blood vessels first.")),
    Rule("EYE-1", "glaucoma", CLINICIAN_REVIEW, yes("glaucoma"),
         "Glaucoma or raised eye pressure", TOPIC_EYES_THYROID,
         _("Ketamine can raise the pressure in the eyes for a while, so a clinician checks first.")),
    Rule("THY-1", "thyroid", CLINICIAN_REVIEW, answer_is("thyroid", "overactive", "unsure"),
         "Hyperthyroidism (or a thyroid condition, type unknown)", TOPIC_EYES_THYROID,
         _("An overactive thyroid makes the heart work harder, as ketamine does, so a clinician checks first.")),
    Rule("PSY-3", "schizophrenia", CLINICIAN_REVIEW, yes("schizophrenia"),
         "History of schizophrenia or schizoaffective disorder", TOPIC_MENTAL_HEALTH,
         _("Ketamine can bring back unusual experiences, so a clinician talks this through first.")),
    Rule("SUB-6", "substance_past_year", CLINICIAN_REVIEW,
         lambda a: a.get("substance_use") == "past" and a.get("substance_past_year") is True,
         "Other substance use in the last 12 months", TOPIC_SUBSTANCES,
         _("Other substances can mix badly with ketamine, so a clinician talks this through first.")),
    Rule("BP-3", "bp_systolic", CLINICIAN_REVIEW, reading_between(BP_REVIEW, BP_HARD_STOP),
         f"Last blood pressure {BP_REVIEW[0]}/{BP_REVIEW[1]} or above", TOPIC_BLOOD_PRESSURE,
         _("Ketamine raises blood pressure for a while, so a clinician checks yours first.")),
    Rule("CARD-1", "heart_disease", CLINICIAN_REVIEW, yes("heart_disease"),
         "Heart disease, heart attack, heart failure, angina or valve disease", TOPIC_HEART,
         _("Ketamine makes the heart work harder for a while, so a clinician checks your heart first.")),
    Rule("CARD-2", "heart_rhythm", CLINICIAN_REVIEW, yes("heart_rhythm"),
         "Heart rhythm problem", TOPIC_HEART,
         _("Ketamine can change the heart's rhythm, so a clinician checks yours first.")),
    Rule("NEURO-1", "stroke", CLINICIAN_REVIEW, yes("stroke"),
         "Stroke, TIA, aneurysm or intracranial bleed", TOPIC_BRAIN,
         _("Ketamine raises blood pressure for a while, which matters after a stroke or bleed.")),
    Rule("NEURO-2", "seizures", CLINICIAN_REVIEW, yes("seizures"),
         "Seizures or epilepsy", TOPIC_BRAIN,
         _("Ketamine can rarely affect seizures, so a clinician checks your history first.")),
    Rule("PSY-2", "psychosis", CLINICIAN_REVIEW, answer_is("psychosis", "past"),
         "History of psychosis more than 12 months ago", TOPIC_MENTAL_HEALTH,
         _("Ketamine can bring back unusual experiences, so a clinician talks this through first.")),
    Rule("BIP-1", "bipolar", CLINICIAN_REVIEW, answer_is("bipolar", "yes", "unsure"),
         "Bipolar disorder or mania/hypomania (or unsure)", TOPIC_MENTAL_HEALTH,
         _("Ketamine can lift mood quickly, so a clinician checks for mania first.")),
    Rule("SUB-1", "substance_use", CLINICIAN_REVIEW, answer_is("substance_use", "current"),
         "Current substance use", TOPIC_SUBSTANCES,
         _("Other substances can mix badly with ketamine, so a clinician talks this through first.")),
    Rule("SUB-2", "recovery_since", CLINICIAN_REVIEW, recovery_shorter_than(RECOVERY_REVIEW_MONTHS),
         f"In recovery for less than {RECOVERY_REVIEW_MONTHS} months", TOPIC_SUBSTANCES,
         _("We want ketamine to support your recovery, so a clinician talks this through first.")),
    Rule("ALC-1", "alcohol_frequency", CLINICIAN_REVIEW, heavy_drinking,
         "Heavy drinking (4+ times a week, or 5+ drinks on a typical day)", TOPIC_SUBSTANCES,
         _("Alcohol and ketamine together are risky, so a clinician talks this through first.")),
    Rule("PREG-2", "pregnancy", CLINICIAN_REVIEW, answer_is("pregnancy", "breastfeeding"),
         "Breastfeeding", TOPIC_PREGNANCY,
         _("Ketamine can pass into breast milk, so a clinician talks this through first.")),
    Rule("LIV-1", "liver_disease", CLINICIAN_REVIEW, yes("liver_disease"),
         "Liver disease (any, severe included)", TOPIC_LIVER,
         _("The liver clears ketamine from the body, so a clinician checks yours first.")),
    Rule("REACT-1", "ketamine_reaction", CLINICIAN_REVIEW, answer_is("ketamine_reaction", "yes"),
         "Previous bad reaction to ketamine", TOPIC_REACTIONS,
         _("A past reaction to ketamine matters, so a clinician talks it through first.")),
    Rule("REACT-2", "anaesthesia_reaction", CLINICIAN_REVIEW, yes("anaesthesia_reaction"),
         "Previous bad reaction to anaesthesia or sedation", TOPIC_REACTIONS,
         _("A past reaction to sedation matters, so a clinician talks it through first.")),
    Rule("MED-1", "benzodiazepines", CLINICIAN_REVIEW, yes("benzodiazepines"),
         "Takes a benzodiazepine (may blunt response; sedation)", TOPIC_MEDICINES,
         _("Some medicines change how ketamine works, so a clinician checks yours first.")),
    Rule("MED-2", "opioids", CLINICIAN_REVIEW, yes("opioids"),
         "Takes an opioid (respiratory depression, sedation)", TOPIC_MEDICINES,
         _("Some medicines add to ketamine's sleepiness, so a clinician checks yours first.")),
    Rule("MED-3", "maois", CLINICIAN_REVIEW, yes("maois"),
         "Takes an MAOI (blood pressure)", TOPIC_MEDICINES,
         _("Some medicines raise blood pressure with ketamine, so a clinician checks yours first.")),
    Rule("MED-4", "lamotrigine", CLINICIAN_REVIEW, yes("lamotrigine"),
         "Takes lamotrigine (may blunt response)", TOPIC_MEDICINES,
         _("Some medicines change how ketamine works, so a clinician checks yours first.")),
    Rule("MED-5", "stimulants", CLINICIAN_REVIEW, yes("stimulants"),
         "Takes a stimulant (blood pressure, heart rate)", TOPIC_MEDICINES,
         _("Some medicines raise blood pressure with ketamine, so a clinician checks yours first.")),
    # Clinician review: named in their own words (the structured answer said nothing of it)
    Rule("MED-6", "medications", CLINICIAN_REVIEW, named_unless("benzodiazepine", "benzodiazepines", True),
         "A benzodiazepine named in their own words (answered No to the question)", TOPIC_MEDICINES,
         _("You mentioned a medicine that can change how ketamine works, so a clinician checks it first.")),
    Rule("MED-7", "medications", CLINICIAN_REVIEW, named_unless("opioid", "opioids", True),
         "An opioid named in their own words (answered No to the question)", TOPIC_MEDICINES,
         _("You mentioned a medicine that can add to ketamine's sleepiness, so a clinician checks it first.")),
    Rule("MED-8", "medications", CLINICIAN_REVIEW, named_unless("lamotrigine", "lamotrigine", True),
         "Lamotrigine named in their own words (answered No to the question)", TOPIC_MEDICINES,
         _("You mentioned a medicine that can change how ketamine works, so a clinician checks it first.")),
    Rule("MED-9", "medications", CLINICIAN_REVIEW, named_unless("maoi", "maois", True),
         "An MAOI named in their own words (answered No to the question)", TOPIC_MEDICINES,
         _("You mentioned a medicine that can raise blood pressure with ketamine, so a clinician checks it "
           "first.")),
    Rule("MED-10", "medications", CLINICIAN_REVIEW, named_unless("stimulant", "stimulants", True),
         "A stimulant named in their own words (answered No to the question)", TOPIC_MEDICINES,
         _("You mentioned a medicine that can raise blood pressure with ketamine, so a clinician checks it "
           "first.")),
    Rule("MED-11", "medications", CLINICIAN_REVIEW, named("anticonvulsant"),
         "A seizure medicine named (ask about seizures and bipolar disorder)", TOPIC_MEDICINES,
         _("You mentioned a medicine used for seizures or mood, so a clinician talks it through first.")),
    Rule("MED-12", "medications", CLINICIAN_REVIEW, named("mood stabiliser or antipsychotic"),
         "Lithium or an antipsychotic named (ask about bipolar disorder and psychosis)", TOPIC_MEDICINES,
         _("You mentioned a medicine used for mood or for unusual experiences, so a clinician talks it "
           "through first.")),
    Rule("BP-5", "heart_brain_details", CLINICIAN_REVIEW,
         lambda a: reading_in_words_at_least(BP_REVIEW)(a)
         or named_unless("high blood pressure", "hypertension", "controlled", "uncontrolled")(a),
         f"High blood pressure in their own words, or a reading of {BP_REVIEW[0]}/{BP_REVIEW[1]} or above written "
         "out", TOPIC_BLOOD_PRESSURE,
         _("Ketamine raises blood pressure for a while, so a clinician checks yours first.")),
    Rule("CARD-4", "heart_brain_details", CLINICIAN_REVIEW,
         lambda a: not (a.get("heart_disease") or a.get("heart_rhythm")) and named("heart")(a),
         "A heart condition named in their own words (answered No to the heart questions)", TOPIC_HEART,
         _("Ketamine makes the heart work harder for a while, so a clinician checks your heart first.")),
    Rule("NEURO-4", "heart_brain_details", CLINICIAN_REVIEW, named_unless("seizures", "seizures", True),
         "Seizures or epilepsy named in their own words (answered No to the question)", TOPIC_BRAIN,
         _("Ketamine can rarely affect seizures, so a clinician checks your history first.")),
    Rule("PSY-4", "treatment_details", CLINICIAN_REVIEW,
         lambda a: a.get("psychosis") in (None, "no") and a.get("bipolar") in (None, "no")
         and not a.get("schizophrenia") and named("psychosis or mania")(a),
         "Psychosis, bipolar disorder or mania named in their own words (answered No to the questions)",
         TOPIC_MENTAL_HEALTH,
         _("Ketamine can bring back unusual experiences or lift mood quickly, so a clinician talks this "
           "through first.")),
    Rule("PREG-3", "pregnancy", CLINICIAN_REVIEW,
         lambda a: a.get("pregnancy") not in ("pregnant", "breastfeeding") and named("pregnancy")(a),
         "Pregnancy named in their own words (answered No to the question)", TOPIC_PREGNANCY,
         _("Ketamine may not be safe in pregnancy, so a clinician talks this through first.")),
    Rule("REACT-3", "reaction_details", CLINICIAN_REVIEW,
         lambda a: a.get("ketamine_reaction") != "yes" and not a.get("ketamine_allergy")
         and named("ketamine", keys=("reaction_details", "allergies"))(a),
         "Ketamine named in the bad reactions or allergies they describe", TOPIC_REACTIONS,
         _("A past reaction to ketamine matters, so a clinician talks it through first.")),
    Rule("SUB-7", "substances", CLINICIAN_REVIEW,
         lambda a: a.get("substance_use") in (None, "no") and named("drug")(a),
         "A recreational drug named in their own words (answered No to substance use)", TOPIC_SUBSTANCES,
         _("Other substances can mix badly with ketamine, so a clinician talks this through first.")),
    # Notes for the clinician
    Rule("BP-4", "hypertension", NOTE, answer_is("hypertension", "controlled", "unsure"),
         "Treated hypertension, or unsure: check blood pressure before each infusion", TOPIC_BLOOD_PRESSURE,
         _("Your blood pressure is checked before every infusion.")),
    Rule("SUB-3", "substance_use", NOTE, recovery_at_least(RECOVERY_REVIEW_MONTHS),
         f"In recovery for {RECOVERY_REVIEW_MONTHS} months or more", TOPIC_SUBSTANCES,
         _("Your clinician will talk with you about your recovery.")),
    Rule("SUB-4", "substance_use", NOTE, answer_is("substance_use", "past"),
         "Past substance use", TOPIC_SUBSTANCES,
         _("Your clinician will talk with you about your past use.")),
    Rule("ALG-1", "has_allergies", NOTE, yes("has_allergies"),
         "Has allergies: see the intake", TOPIC_ALLERGIES,
         _("Your clinician will go through your allergies with you.")),
    Rule("TRT-1", "medication_trials", NOTE, fewer_trials_than(TREATMENT_RESISTANCE_TRIALS),
         f"Fewer than {TREATMENT_RESISTANCE_TRIALS} medicine trials: treatment resistance not established",
         TOPIC_TREATMENT,
         _("Your clinician will talk with you about treatments you have tried.")),
)
# fmt: on
