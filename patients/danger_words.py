"""Words in a patient's message or check-in that suggest danger: the one list.

A match shows the patient 988 and 911 at once and raises an urgent alert for the on-call
clinician (patients/messaging.py, patients/checkins.py). The list errs on the side of safety: a
false alarm costs a clinician a phone call; a missed one can cost a life. A clinician medical
director owns it; add a phrase here with a firing case in patients/tests/test_danger_words.py.

Each entry is a regular expression for one idea with its simple variants (plural, -ing, -ed,
"can't"/"cannot"/"can not"), matched case-insensitively on word boundaries, so "skill" never
matches "kill" and "overdosed" matches "overdose".
"""

import re
import unicodedata

# (key, pattern). The key is what the clinician sees ("matched: overdose"); never shown to others.
DANGER_PATTERNS = (
    ("suicide", r"suicid(?:e|es|al|ality)"),
    ("kill myself", r"kill(?:ing)?\s+my\s*self|killed\s+my\s*self|kms"),
    ("end my life", r"end(?:ing)?\s+(?:my|it)\s+(?:life|all)|tak(?:e|ing)\s+my\s+(?:own\s+)?life"),
    ("want to die", r"(?:want|wanted|wanting|going)\s+to\s+die|better\s+off\s+dead|wish\s+i\s+(?:was|were)\s+dead"),
    ("self-harm", r"self[\s-]*harm(?:ing|ed)?|(?:hurt|hurting|cut|cutting|harm|harming)\s+my\s*self"),
    ("overdose", r"over[\s-]?dos(?:e|es|ed|ing)|too\s+many\s+(?:pills|tablets)"),
    ("chest pain", r"chest\s+(?:pain|pains|hurts?|hurting|tightness|pressure)|pain\s+in\s+my\s+chest|heart\s+attack"),
    (
        "trouble breathing",
        r"(?:can\s*not|can't|cant|couldn't|could\s+not)\s+breathe?|"
        r"(?:trouble|difficulty|problems?|struggling)\s+breathing|hard\s+to\s+breathe|"
        r"short(?:ness)?\s+of\s+breath|not\s+breathing|unable\s+to\s+breathe",
    ),
    ("fainting", r"faint(?:ed|ing)|passed\s+out|pass(?:ing)?\s+out|unconscious"),
    ("seizure", r"seizures?|convuls(?:ion|ions|ed|ing)"),
)

_COMPILED = tuple((key, re.compile(rf"(?<![\w]){pattern}(?![\w])", re.IGNORECASE)) for key, pattern in DANGER_PATTERNS)

# Curly quotes and the like, as phones type them (a curly apostrophe), become their plain forms first.
_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u2010": "-", "\u2011": "-", "\u2013": "-"})


def _normalise(text):
    text = unicodedata.normalize("NFKC", text or "").translate(_PLAIN)
    return re.sub(r"\s+", " ", text)


def danger_words_in(text):
    """The keys of the danger ideas `text` mentions, in list order (empty: nothing found)."""
    plain = _normalise(text)
    return [key for key, pattern in _COMPILED if pattern.search(plain)]
