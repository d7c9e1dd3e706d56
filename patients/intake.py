"""The medical intake questionnaire: every question, its kind of answer and its choices.

Answers are stored as JSON on `IntakeResponse.answers`, keyed by the question keys below, with
structured values so that every triage rule (patients/triage_rules.py) has something exact to
read:

    yesno    True / False
    choice   one of the choice keys
    multi    a list of choice keys
    integer  an int
    month    "YYYY-MM"
    text     free text (never read by a rule)

Changing a question's meaning means a new key and a new INTAKE_VERSION: sent versions keep the
questionnaire version they were answered under.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# 2026.2 (issue 15): recent heart attack or stroke, aneurysm, raised intracranial pressure or head
# injury, mania now, schizophrenia, ketamine misuse and allergy, other use in the last year,
# glaucoma and thyroid. Answers sent under 2026.1 keep their questions' keys and stay readable;
# a patient whose draft or last intake is 2026.1 answers the new questions before booking again.
INTAKE_VERSION = "2026.2"

YESNO, CHOICE, MULTI, INTEGER, MONTH, TEXT = "yesno", "choice", "multi", "integer", "month", "text"
MONTH_RE = re.compile(r"^(19|20)\d\d-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Question:
    key: str
    label: "str | StrPromise"
    kind: str
    choices: tuple = ()
    help_text: "str | StrPromise" = ""
    required: bool = True
    # Required only when another answer is one of these values, e.g. ("substance_use", ("recovery",)).
    required_when: tuple | None = None
    min_value: int | None = None
    max_value: int | None = None

    def is_required(self, answers: Mapping[str, Any]) -> bool:
        if self.required_when is None:
            return self.required
        other, values = self.required_when
        value = answers.get(other)
        if isinstance(values, tuple):
            return value in values
        return values(value)

    def display(self, value: Any) -> str:
        """The answer in words, as the patient saw it."""
        if value is None or value in ("", []):
            return ""
        if self.kind == YESNO:
            return str(_("Yes")) if value else str(_("No"))
        if self.kind == CHOICE:
            return str(dict(self.choices).get(value, value))
        if self.kind == MULTI:
            labels = dict(self.choices)
            return "; ".join(str(labels.get(v, v)) for v in value)
        return str(value)


@dataclass(frozen=True)
class Section:
    slug: str
    title: "str | StrPromise"
    intro: "str | StrPromise"
    questions: tuple = field(default_factory=tuple)


def _drinking(value: Any) -> bool:
    return value not in (None, "", "never")


SECTIONS = (
    Section(
        "heart",
        _("Heart, blood pressure and brain"),
        _("Ketamine raises blood pressure and heart rate for a short time, so we ask about these first."),
        (
            Question(
                "hypertension",
                _("Has a doctor ever told you that you have high blood pressure?"),
                CHOICE,
                (
                    ("no", _("No")),
                    ("controlled", _("Yes, and it is controlled with treatment")),
                    ("uncontrolled", _("Yes, and it is not well controlled, or I am not treating it")),
                    ("unsure", _("I am not sure")),
                ),
            ),
            Question(
                "bp_systolic",
                _("Your last blood pressure reading, if you know it: the top number (systolic)"),
                INTEGER,
                help_text=_("For example 128 in 128/82. Leave empty if you do not know."),
                required=False,
                min_value=60,
                max_value=260,
            ),
            Question(
                "bp_diastolic",
                _("The bottom number (diastolic)"),
                INTEGER,
                help_text=_("For example 82 in 128/82."),
                required_when=("bp_systolic", lambda v: v not in (None, "")),
                min_value=30,
                max_value=160,
            ),
            Question(
                "heart_disease",
                _(
                    "Have you ever had heart disease, a heart attack, heart failure, chest pain from your heart "
                    "(angina) or a heart valve problem?"
                ),
                YESNO,
            ),
            Question(
                "heart_rhythm",
                _(
                    "Have you ever had an irregular heartbeat or another heart rhythm problem "
                    "(such as atrial fibrillation)?"
                ),
                YESNO,
            ),
            Question(
                "stroke",
                _("Have you ever had a stroke, a mini-stroke (TIA), a brain aneurysm or bleeding in the brain?"),
                YESNO,
            ),
            Question(
                "heart_event_recent",
                _("Have you had a heart attack or a stroke (including a mini-stroke) in the last 6 months?"),
                YESNO,
            ),
            Question(
                "aneurysm",
                _(
                    "Have you been told you have an aneurysm (a bulge in a blood vessel) or a malformed blood "
                    "vessel (such as an AVM), in the brain, chest or belly?"
                ),
                CHOICE,
                (
                    ("no", _("No")),
                    ("treated", _("Yes, and it has been repaired or treated")),
                    ("untreated", _("Yes, and it has not been repaired or treated")),
                ),
            ),
            Question(
                "head_pressure",
                _(
                    "Do you have raised pressure inside your skull now, or have you hurt your head (a head injury "
                    "or concussion) in the last month?"
                ),
                YESNO,
            ),
            Question("seizures", _("Have you ever had a seizure, or been told you have epilepsy?"), YESNO),
            Question(
                "heart_brain_details",
                _("Anything you would like to tell us about these? (optional)"),
                TEXT,
                required=False,
            ),
        ),
    ),
    Section(
        "mental-health",
        _("Mental health and past treatment"),
        _("These answers help the clinician decide whether ketamine is right for you. There are no wrong answers."),
        (
            Question(
                "psychosis",
                _(
                    "Have you ever had psychosis (for example hearing or seeing things other people did not, or "
                    "beliefs others found very unusual), or been told you have schizophrenia?"
                ),
                CHOICE,
                (
                    ("no", _("No")),
                    ("past", _("Yes, more than 12 months ago")),
                    ("recent", _("Yes, within the last 12 months or now")),
                ),
            ),
            Question(
                "bipolar",
                _("Have you ever been told you have bipolar disorder, or had an episode of mania or hypomania?"),
                CHOICE,
                (("no", _("No")), ("yes", _("Yes")), ("unsure", _("I am not sure"))),
            ),
            Question(
                "schizophrenia",
                _("Have you ever been told you have schizophrenia or schizoaffective disorder?"),
                YESNO,
            ),
            Question(
                "mania_now",
                _(
                    "Right now, are you in a period of unusually high mood or energy, needing much less sleep "
                    "than usual, or racing thoughts (mania or hypomania)?"
                ),
                YESNO,
            ),
            Question(
                "medication_trials",
                _("How many different medicines have you tried for depression, anxiety or PTSD?"),
                INTEGER,
                help_text=_("Count each medicine you took for at least 4 weeks. Enter 0 if none."),
                min_value=0,
                max_value=40,
            ),
            Question(
                "other_treatments",
                _("Which of these have you had? (choose any that apply)"),
                MULTI,
                (
                    ("psychotherapy", _("Talking therapy (psychotherapy)")),
                    ("tms", _("TMS (magnetic stimulation)")),
                    ("ect", _("ECT (electroconvulsive therapy)")),
                    ("esketamine", _("Esketamine nasal spray (Spravato)")),
                    ("ketamine", _("Ketamine treatment")),
                ),
                required=False,
            ),
            Question(
                "treatment_details",
                _("Anything else about past treatment? (optional)"),
                TEXT,
                required=False,
            ),
        ),
    ),
    Section(
        "substances",
        _("Alcohol and other substances"),
        _("Your answers are private and only seen by your care team. They help us keep you safe."),
        (
            Question(
                "substance_use",
                _("Do you use recreational drugs, or take prescription medicines in a way not prescribed?"),
                CHOICE,
                (
                    ("no", _("No, never")),
                    ("past", _("Not now: I used in the past")),
                    ("recovery", _("Not now: I am in recovery")),
                    ("current", _("Yes, I use now")),
                ),
            ),
            Question(
                "recovery_since",
                _("If you are in recovery: since when? (month and year)"),
                MONTH,
                help_text=_("For example 2021-06."),
                required_when=("substance_use", ("recovery",)),
            ),
            Question(
                "substance_past_year",
                _("Have you used in the last 12 months?"),
                YESNO,
                required_when=("substance_use", ("past",)),
            ),
            Question("substances", _("Which substances? (optional)"), TEXT, required=False),
            Question(
                "ketamine_misuse",
                _("Have you ever used ketamine other than as a clinician gave it to you (for example recreationally)?"),
                YESNO,
            ),
            Question(
                "alcohol_frequency",
                _("How often do you have a drink containing alcohol?"),
                CHOICE,
                (
                    ("never", _("Never")),
                    ("monthly_or_less", _("Monthly or less")),
                    ("2_4_month", _("2 to 4 times a month")),
                    ("2_3_week", _("2 to 3 times a week")),
                    ("4_plus_week", _("4 or more times a week")),
                ),
            ),
            Question(
                "alcohol_quantity",
                _("How many drinks containing alcohol do you have on a typical day when you are drinking?"),
                CHOICE,
                (
                    ("1_2", _("1 or 2")),
                    ("3_4", _("3 or 4")),
                    ("5_6", _("5 or 6")),
                    ("7_9", _("7 to 9")),
                    ("10_plus", _("10 or more")),
                ),
                help_text=_("Skip this if you never drink."),
                required_when=("alcohol_frequency", _drinking),
            ),
        ),
    ),
    Section(
        "other-health",
        _("Pregnancy, liver and past reactions"),
        _("A few more questions about your health."),
        (
            Question(
                "pregnancy",
                _("Are you pregnant, could you be pregnant, or are you breastfeeding?"),
                CHOICE,
                (
                    ("no", _("No")),
                    ("pregnant", _("I am pregnant, could be pregnant, or am trying to become pregnant")),
                    ("breastfeeding", _("I am breastfeeding")),
                    ("not_applicable", _("This does not apply to me")),
                ),
            ),
            Question(
                "liver_disease",
                _("Have you ever had liver disease (for example hepatitis or cirrhosis)?"),
                YESNO,
            ),
            Question(
                "ketamine_reaction",
                _("Have you had ketamine before, for example for an operation or as a treatment?"),
                CHOICE,
                (
                    ("never_had", _("I have never had ketamine")),
                    ("no", _("Yes, with no bad reaction")),
                    ("yes", _("Yes, and I had a bad reaction")),
                ),
            ),
            Question(
                "ketamine_allergy",
                _("Have you ever had an allergic reaction to ketamine, or been told you are allergic to it?"),
                YESNO,
            ),
            Question(
                "glaucoma",
                _("Have you been told you have glaucoma or high pressure in your eyes?"),
                YESNO,
            ),
            Question(
                "thyroid",
                _("Do you have a thyroid condition?"),
                CHOICE,
                (
                    ("no", _("No")),
                    ("overactive", _("Yes, an overactive thyroid (hyperthyroidism)")),
                    ("underactive", _("Yes, an underactive thyroid (hypothyroidism)")),
                    ("unsure", _("Yes, I am not sure which")),
                ),
            ),
            Question(
                "anaesthesia_reaction",
                _("Have you ever had a bad reaction to anaesthesia or sedation?"),
                YESNO,
            ),
            Question(
                "reaction_details",
                _("If you had a bad reaction, what happened? (optional)"),
                TEXT,
                required=False,
            ),
        ),
    ),
    Section(
        "medicines",
        _("Medicines and allergies"),
        _("Some medicines change how ketamine works or how safe it is. Please answer for what you take now."),
        (
            Question(
                "benzodiazepines",
                _(
                    "Do you take a benzodiazepine, such as alprazolam (Xanax), lorazepam (Ativan), "
                    "clonazepam (Klonopin) or diazepam (Valium)?"
                ),
                YESNO,
            ),
            Question(
                "opioids",
                _(
                    "Do you take an opioid, such as oxycodone, hydrocodone, morphine, tramadol, methadone "
                    "or buprenorphine?"
                ),
                YESNO,
            ),
            Question(
                "maois",
                _(
                    "Do you take an MAOI antidepressant: phenelzine (Nardil), tranylcypromine (Parnate), "
                    "isocarboxazid (Marplan) or the selegiline patch (Emsam)?"
                ),
                YESNO,
            ),
            Question("lamotrigine", _("Do you take lamotrigine (Lamictal)?"), YESNO),
            Question(
                "stimulants",
                _(
                    "Do you take a stimulant, such as amphetamine (Adderall, Vyvanse), methylphenidate "
                    "(Ritalin, Concerta) or modafinil?"
                ),
                YESNO,
            ),
            Question(
                "medications",
                _("List every medicine and supplement you take now, with the dose"),
                TEXT,
                help_text=_('Write "none" if you take none.'),
            ),
            Question("has_allergies", _("Do you have any allergies (medicines, foods, latex or other)?"), YESNO),
            Question(
                "allergies",
                _("What are you allergic to, and what happens?"),
                TEXT,
                required_when=("has_allergies", (True,)),
            ),
        ),
    ),
)

# Asked from 2026.2 on (an intake sent under 2026.1 never saw them).
ADDED_IN_2026_2 = frozenset(
    {
        "heart_event_recent",
        "aneurysm",
        "head_pressure",
        "schizophrenia",
        "mania_now",
        "substance_past_year",
        "ketamine_misuse",
        "ketamine_allergy",
        "glaucoma",
        "thyroid",
    }
)
SECTIONS_BY_SLUG = {s.slug: s for s in SECTIONS}
QUESTIONS = {q.key: q for s in SECTIONS for q in s.questions}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def value_problem(question: Question, value: Any) -> str | None:
    """Why a stored value is not a valid answer to this question, or None."""
    if question.kind == YESNO and not isinstance(value, bool):
        return "yesno"
    if question.kind == CHOICE and value not in dict(question.choices):
        return "choice"
    if question.kind == MULTI and (not isinstance(value, list) or not set(value) <= set(dict(question.choices))):
        return "multi"
    if question.kind == INTEGER:
        if not isinstance(value, int) or isinstance(value, bool):
            return "integer"
        if question.min_value is not None and value < question.min_value:
            return "range"
        if question.max_value is not None and value > question.max_value:
            return "range"
    if question.kind == MONTH:
        if not isinstance(value, str) or not MONTH_RE.match(value):
            return "month"
        if value > timezone.localdate().strftime("%Y-%m"):
            return "future"
    if question.kind == TEXT and not isinstance(value, str):
        return "text"
    return None


def section_missing(section: Section, answers: Mapping[str, Any]) -> list[str]:
    """Keys of this section's questions that need an answer and have none (or an invalid one)."""
    missing = []
    for question in section.questions:
        value = answers.get(question.key)
        if _empty(value):
            if question.is_required(answers):
                missing.append(question.key)
        elif value_problem(question, value):
            missing.append(question.key)
    return missing


def first_incomplete_section(answers: Mapping[str, Any]) -> Section | None:
    for section in SECTIONS:
        if section_missing(section, answers):
            return section
    return None


def clean_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Only known questions, and no answer to a question that does not apply (e.g. no recovery
    date when not in recovery), so what is stored is exactly what the patient meant."""
    cleaned = {}
    for key, question in QUESTIONS.items():
        value = answers.get(key)
        if _empty(value):
            continue
        if question.required_when is not None and not question.is_required(answers):
            continue
        cleaned[key] = value
    return cleaned


def written_answers(answers: Mapping[str, Any]) -> dict[str, str]:
    """The answers the patient wrote in their own words (the free-text questions), by question."""
    return {
        key: value
        for key, value in answers.items()
        if key in QUESTIONS and QUESTIONS[key].kind == TEXT and isinstance(value, str) and value.strip()
    }


def answers_for_display(
    answers: Mapping[str, Any], questionnaire_version: str | None = None
) -> list[tuple[Section, list[tuple[Question, str]]]]:
    """[(section, [(question, answer in words)])] for review pages and admin.

    Answers sent under an earlier questionnaire version show only the questions it asked: a
    question added later is left out rather than shown as unanswered.
    """
    older = questionnaire_version is not None and questionnaire_version != INTAKE_VERSION
    return [
        (
            section,
            [
                (question, question.display(answers.get(question.key)))
                for question in section.questions
                if not (older and question.key in ADDED_IN_2026_2 and question.key not in answers)
            ],
        )
        for section in SECTIONS
    ]
