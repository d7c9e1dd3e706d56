"""The three symptom questionnaires, worded, answered and scored exactly as published.

- PHQ-9 (Kroenke, Spitzer & Williams 2001; Pfizer, free to use): 9 items scored 0-3, total 0-27,
  severity bands from 5, 10, 15 and 20. Item 9 asks about thoughts of death or self-harm: any
  answer above 0 starts the safety path (services.screening_submit).
- GAD-7 (Spitzer et al. 2006; Pfizer, free to use): 7 items scored 0-3, total 0-21, bands from
  5, 10 and 15.
- PCL-5 (Weathers et al. 2013, US National Center for PTSD, public domain): 20 items scored
  0-4, total 0-80. A total at or above the cut-off (settings.PCL5_PROVISIONAL_PTSD_CUTOFF, 33
  by default) suggests provisional PTSD; the DSM-5 symptom pattern (items rated 2 or more counted
  as present: 1 of B, 1 of C, 2 of D, 2 of E) is stored beside it.

The PHQ-9 and GAD-7 close with a "how difficult" question that is recorded but not scored.
These are screening measures, not diagnoses: the clinician diagnoses.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

FREQUENCY_OPTIONS = (
    (0, _("Not at all")),
    (1, _("Several days")),
    (2, _("More than half the days")),
    (3, _("Nearly every day")),
)

PCL5_OPTIONS = (
    (0, _("Not at all")),
    (1, _("A little bit")),
    (2, _("Moderately")),
    (3, _("Quite a bit")),
    (4, _("Extremely")),
)

DIFFICULTY_OPTIONS = (
    (0, _("Not difficult at all")),
    (1, _("Somewhat difficult")),
    (2, _("Very difficult")),
    (3, _("Extremely difficult")),
)


@dataclass(frozen=True)
class Band:
    key: str
    label: "str | StrPromise"
    lowest: int  # the lowest total in this band


@dataclass(frozen=True)
class InstrumentDefinition:
    code: str
    name: str
    title: "str | StrPromise"
    recall: "str | StrPromise"  # the period the questions ask about, for headings and the dashboard
    stem: "str | StrPromise"  # the instruction printed above the items
    items: tuple
    options: tuple
    bands: tuple = ()
    difficulty_question: "str | StrPromise" = ""
    source: str = ""
    # A line on the score chart where clinicians usually look twice (PHQ-9/GAD-7 "moderate").
    chart_threshold: int | None = None
    # The languages of the validated versions we may use: a patient reading another language is
    # asked in English, and told why (a home-made translation would not be the instrument).
    languages: tuple[str, ...] = ("en", "es")

    def shown_in(self, language: str | None) -> str:
        """The language this instrument is asked in for a patient reading `language`."""
        language = (language or "en").split("-")[0]
        return language if language in self.languages else "en"

    @property
    def max_item(self):
        return max(value for value, _label in self.options)

    @property
    def max_total(self):
        return self.max_item * len(self.items)

    def option_label(self, value):
        return dict(self.options).get(value, "")


PHQ9 = InstrumentDefinition(
    code="phq9",
    name="PHQ-9",
    title=_("Patient Health Questionnaire (PHQ-9)"),
    recall=_("the last 2 weeks"),
    stem=_("Over the last 2 weeks, how often have you been bothered by any of the following problems?"),
    items=(
        _("Little interest or pleasure in doing things"),
        _("Feeling down, depressed, or hopeless"),
        _("Trouble falling or staying asleep, or sleeping too much"),
        _("Feeling tired or having little energy"),
        _("Poor appetite or overeating"),
        _("Feeling bad about yourself — or that you are a failure or have let yourself or your family down"),
        _("Trouble concentrating on things, such as reading the newspaper or watching television"),
        _(
            "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so "
            "fidgety or restless that you have been moving around a lot more than usual"
        ),
        _("Thoughts that you would be better off dead or of hurting yourself in some way"),
    ),
    options=FREQUENCY_OPTIONS,
    bands=(
        Band("minimal", _("None to minimal"), 0),
        Band("mild", _("Mild"), 5),
        Band("moderate", _("Moderate"), 10),
        Band("moderately_severe", _("Moderately severe"), 15),
        Band("severe", _("Severe"), 20),
    ),
    difficulty_question=_(
        "If you checked off any problems, how difficult have these problems made it for you to do your work, "
        "take care of things at home, or get along with other people?"
    ),
    source="PHQ-9 © Pfizer Inc. Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and "
    "colleagues. No permission required to reproduce, translate, display or distribute.",
    chart_threshold=10,
)

GAD7 = InstrumentDefinition(
    code="gad7",
    name="GAD-7",
    title=_("Generalized Anxiety Disorder scale (GAD-7)"),
    recall=_("the last 2 weeks"),
    stem=_("Over the last 2 weeks, how often have you been bothered by the following problems?"),
    items=(
        _("Feeling nervous, anxious, or on edge"),
        _("Not being able to stop or control worrying"),
        _("Worrying too much about different things"),
        _("Trouble relaxing"),
        _("Being so restless that it is hard to sit still"),
        _("Becoming easily annoyed or irritable"),
        _("Feeling afraid, as if something awful might happen"),
    ),
    options=FREQUENCY_OPTIONS,
    bands=(
        Band("minimal", _("Minimal"), 0),
        Band("mild", _("Mild"), 5),
        Band("moderate", _("Moderate"), 10),
        Band("severe", _("Severe"), 15),
    ),
    difficulty_question=_(
        "If you checked off any problems, how difficult have these made it for you to do your work, take care "
        "of things at home, or get along with other people?"
    ),
    source="GAD-7 © Pfizer Inc. Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and "
    "colleagues. No permission required to reproduce, translate, display or distribute.",
    chart_threshold=10,
)

PCL5 = InstrumentDefinition(
    code="pcl5",
    name="PCL-5",
    title=_("PTSD Checklist for DSM-5 (PCL-5)"),
    recall=_("the past month"),
    stem=_(
        "Below is a list of problems that people sometimes have in response to a very stressful experience. "
        "Please read each problem carefully and then select one of the answers to indicate how much you have "
        "been bothered by that problem in the past month."
    ),
    items=(
        _("Repeated, disturbing, and unwanted memories of the stressful experience?"),
        _("Repeated, disturbing dreams of the stressful experience?"),
        _(
            "Suddenly feeling or acting as if the stressful experience were actually happening again (as if you "
            "were actually back there reliving it)?"
        ),
        _("Feeling very upset when something reminded you of the stressful experience?"),
        _(
            "Having strong physical reactions when something reminded you of the stressful experience (for "
            "example, heart pounding, trouble breathing, sweating)?"
        ),
        _("Avoiding memories, thoughts, or feelings related to the stressful experience?"),
        _(
            "Avoiding external reminders of the stressful experience (for example, people, places, "
            "conversations, activities, objects, or situations)?"
        ),
        _("Trouble remembering important parts of the stressful experience?"),
        _(
            "Having strong negative beliefs about yourself, other people, or the world (for example, having "
            "thoughts such as: I am bad, there is something seriously wrong with me, no one can be trusted, the "
            "world is completely dangerous)?"
        ),
        _("Blaming yourself or someone else for the stressful experience or what happened after it?"),
        _("Having strong negative feelings such as fear, horror, anger, guilt, or shame?"),
        _("Loss of interest in activities that you used to enjoy?"),
        _("Feeling distant or cut off from other people?"),
        _(
            "Trouble experiencing positive feelings (for example, being unable to feel happiness or have loving "
            "feelings for people close to you)?"
        ),
        _("Irritable behavior, angry outbursts, or acting aggressively?"),
        _("Taking too many risks or doing things that could cause you harm?"),
        _('Being "superalert" or watchful or on guard?'),
        _("Feeling jumpy or easily startled?"),
        _("Having difficulty concentrating?"),
        _("Trouble falling or staying asleep?"),
    ),
    options=PCL5_OPTIONS,
    source="PCL-5 (Weathers, Litz, Keane, Palmieri, Marx & Schnurr, 2013). National Center for PTSD. Public domain.",
    # No validated Spanish version is available to us here: offered in English only.
    languages=("en",),
)

INSTRUMENTS = {d.code: d for d in (PHQ9, GAD7, PCL5)}
# The order a new patient is asked them in.
INSTRUMENT_ORDER = ("phq9", "gad7", "pcl5")

# PCL-5 items of each DSM-5 symptom cluster (1-based) and how many must be rated 2+ ("moderately").
PCL5_CLUSTERS = {
    "B": (range(1, 6), 1),  # intrusion
    "C": (range(6, 8), 1),  # avoidance
    "D": (range(8, 15), 2),  # negative alterations in cognition and mood
    "E": (range(15, 21), 2),  # alterations in arousal and reactivity
}
PCL5_PROVISIONAL_BANDS = {
    True: Band("provisional_ptsd", _("At or above the provisional PTSD cut-off"), 0),
    False: Band("below_cutoff", _("Below the provisional PTSD cut-off"), 0),
}


@dataclass(frozen=True)
class Score:
    total: int
    band: Band
    provisional_positive: bool | None = None
    subscores: dict | None = None


def band_for(definition, total):
    band = definition.bands[0]
    for candidate in definition.bands:
        if total >= candidate.lowest:
            band = candidate
    return band


def band_label(code, key):
    """The words for a stored band key (for tables and admin)."""
    if code == "pcl5":
        for band in PCL5_PROVISIONAL_BANDS.values():
            if band.key == key:
                return band.label
    for band in INSTRUMENTS[code].bands:
        if band.key == key:
            return band.label
    return key


def score(code, answers):
    """Score one completed questionnaire. `answers` is the list of item answers in order."""
    definition = INSTRUMENTS[code]
    if len(answers) != len(definition.items) or any(not 0 <= a <= definition.max_item for a in answers):
        raise ValueError(f"{definition.name} needs {len(definition.items)} answers from 0 to {definition.max_item}")
    total = sum(answers)
    if code != "pcl5":
        return Score(total=total, band=band_for(definition, total))

    cutoff = settings.PCL5_PROVISIONAL_PTSD_CUTOFF
    positive = total >= cutoff
    subscores = {}
    pattern = True
    for cluster, (items, needed) in PCL5_CLUSTERS.items():
        subscores[cluster] = sum(answers[i - 1] for i in items)
        pattern = pattern and sum(1 for i in items if answers[i - 1] >= 2) >= needed
    subscores["dsm5_pattern"] = pattern
    subscores["cutoff"] = cutoff
    return Score(total=total, band=PCL5_PROVISIONAL_BANDS[positive], provisional_positive=positive, subscores=subscores)
