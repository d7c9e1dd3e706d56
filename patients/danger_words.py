"""Words in what a patient writes that suggest danger: the one matcher and its lists.

Used by every place a patient writes to us in their own words: portal messages
(portal/messaging.py), the free text of a follow-up check-in (portal/checkins.py), texts sent
to our number (patients/inbound.py, through notifications' `inbound_text_received` seam) and the
reason a patient gives for cancelling a visit (booking/services/visits.py). A match
shows (or texts) the patient 988 and 911 at once and raises a safety alert that pages the
on-call clinician (patients.services.safety_alert_raise).

The lists err on the side of safety: a false alarm costs a clinician a phone call; a missed one
can cost a life. A clinician medical director owns them. To change them, edit DANGER_IDEAS or
IDIOMS below and add the phrase, with what it must give, to the table the tests read
(patients/tests/data/danger_phrases.tsv).

How text is compared (`normalise`): case, accents ("daño" is "dano"), curly quotes and
apostrophes ("can't" is "cant"), punctuation and spacing are dropped; letters typed apart
("k i l l") are joined; a letter repeated ("killlll", "diiie") counts once, in the text and in
the phrases alike; a symbol typed for a letter ("su!cide", "s*icide") and short forms ("wanna",
"gonna") are read as the letters and words they stand for. A phrase matches whole words, with or
without the spaces between them ("killmyself", "kill my self"), so "skill" never matches "kill".
The strong words (suicide, overdose...) are also caught one letter off ("suicidle", "sucide",
"overdoze").

A phrase both lists know ("convulsion") answers in the language the rest of the text reads in.

Idioms ("killing it", "dying to see you", "me muero de risa") are masked before matching, so a
real danger phrase elsewhere in the same text still fires. A negation still fires on purpose
("no chest pain"): a clinician decides, not the matcher.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

ENGLISH, SPANISH = "en", "es"


@dataclass(frozen=True)
class DangerIdea:
    """One idea (what the clinician reads: "matched: overdose"), its phrases in each language,
    and its strong single words (also caught one letter off)."""

    key: str
    english: tuple[str, ...]
    spanish: tuple[str, ...] = ()
    strong_english: tuple[str, ...] = ()
    strong_spanish: tuple[str, ...] = ()


# Phrases are words separated by spaces; "(a|b)" is a choice, "(a)?" an optional word (written as
# a word of its own: "my (own)? life") and "s?" an optional letter.
# Write them as people type them, without accents or apostrophes ("cant", "dano").
DANGER_IDEAS = (
    DangerIdea(
        "suicide",
        english=(
            "suicide",
            "suicides",
            "suicidal",
            "suicidality",
            "(unalive|unaliving|unalived) (myself|me)?",
            "sewer slide",
        ),
        spanish=("suicidio", "suicida", "suicidarme", "suicidarse", "suicidar", "me (quiero|voy a) suicidar"),
        strong_english=("suicide", "suicidal"),
        strong_spanish=("suicidio", "suicidarme"),
    ),
    DangerIdea(
        "kill myself",
        english=(
            "(kill|killing|killed) (my self|myself)",
            "kms",
            "kys",  # "kill yourself", often typed about oneself
            "(off|offing) myself",
            "(hang|hanging|shoot|shooting|drown|drowning) myself",
            "slit my wrists?",
            "(jump|jumping) (off|from) (a|the|my) (bridge|roof|building|balcony|cliff|window)",
            "(jump|jumping|step|stepping|walk|walking) in front of (a|the) (train|bus|car|truck)",
            "(bought|got|have|made|tied) a (rope|noose)",
            "noose",
        ),
        spanish=(
            "matarme",
            "me (quiero|voy a) matar",
            "quitarme la vida",
            "me quito la vida",
            "acabar con mi vida",
            "terminar con (mi vida|todo)",
            "ahorcarme",
            "me voy a ahorcar",
            "(cortarme|cortar) las venas",
            "(aventarme|me voy a aventar|me voy a tirar) (de|del|por|a) (un|el|la)?"
            " (puente|edificio|ventana|balcon|tren)",
            "tirarme (de|del|por) (un|el|la)? (puente|edificio|ventana|balcon)",
        ),
    ),
    DangerIdea(
        "end my life",
        english=(
            "(end|ending) (my|it) (life|all)",
            "(want|going|gonna|ready|plan|planning) to end it",
            "(take|taking) my (own)? life",
            "(cant|cannot|can not|could not|couldnt) go on (like this|anymore|any more|living)",
            "(cant|cannot|can not) (take|do|handle) (it|this) (anymore|any more)",
            "dont want to (be here|wake up) (anymore|any more)?",
            "(go to)? sleep and never wake up",
            "(go to)? sleep forever",
            "never wake up again",
            "hope i (dont|never|do not) wake up",
            "(want to|going to|ready to|plan to|planning to|thinking of|thinking about|about to) (end|ending) things",
            "(plan|planning|plans) to end (it|things|everything)",
            "(goodbye|farewell|suicide) (letter|letters|note|notes)",
            "(say|saying|said) goodbye to (everyone|everybody|you all|my family|the world)",
            "this is (my)? goodbye",
        ),
        spanish=(
            "no quiero despertar",
            "dormir y no despertar",
            "no puedo mas",
            "no puedo seguir (asi|viviendo)",
            "ya no aguanto (mas)?",
            "(ojala|espero) no despertar",
            "carta de despedida",
            "(me estoy|me voy a|quiero) despedir de (todos|todo el mundo)",
        ),
    ),
    DangerIdea(
        "want to die",
        english=(
            "(want|wanted|wanting|going|ready) (to|2) die",
            "wanna die",
            "feel like dying",
            "(wish|hope) i (would|could|will)? die",
            "(wish|wished) (i|id) (was|were) dead",
            "wish i (had never been|was never|wasnt) born",
            "wish i (wasnt|was not|werent|were not) alive",
            "(want to|wish i could) disappear",
            "better off dead",
            "(better|be) off without me",
            "(no|any) reason to (live|go on|keep going)",
            "nothing (left)? to live for",
            "no point (in)? (living|life|going on)",
            "whats the point (of|in) (living|life|going on)",
            "(life is|lifes|life isnt) not worth (living)?",
            "life isnt worth (living)?",
            "not worth living",
            "(dont|do not) want to (live|be alive|exist)",
            "(i am|im) dying",
            "(hate|hating) being alive",
            "want (it all|everything) to (end|stop)",
            "want it all to end",
            "(im|i am) (done|finished) (with life|living)",
            "(tired|sick) of (living|being alive|life)",
            "(im|i am) (a|such a) burden",
        ),
        spanish=(
            "(quiero|quisiera) morir(me)?",
            "(quisiera|quiero) estar (muerto|muerta)",
            "ojala (estuviera|estuviese) (muerto|muerta)",
            "ojala me muera",
            "me quiero morir",
            "ganas de morir(me)?",
            "me voy a morir",
            "no quiero (vivir|seguir viviendo|estar vivo|estar viva|existir)",
            "(mejor|estaria mejor) (muerto|muerta)",
            "(no tengo|sin) (razon|razones|motivo|motivos) para vivir",
            "no vale la pena vivir",
            "me estoy muriendo",
            "desaparecer para siempre",
            "quiero desaparecer",
            "la vida no tiene sentido",
            "no (le)? (encuentro|veo) sentido a (la|mi) vida",
            "soy una carga",
            "(estarian|estaran) mejor sin mi",
        ),
    ),
    DangerIdea(
        "self-harm",
        english=(
            "self harm(ing|ed)?",
            "selfharm",
            "(hurt|hurting|cut|cutting|harm|harming|burn|burning|burned|burnt) (my self|myself)",
            "(cutting|cut) again",
            "(started|start) cutting",
        ),
        spanish=(
            "autolesion(es|arme)?",
            "hacerme (dano|danio)",
            "(cortarme|cortandome|me corto|me corte)",
            "me (voy a|quiero) cortar",
            "(lastimarme|me lastimo|me lastime)",
            "me hago dano",
        ),
    ),
    DangerIdea(
        "overdose",
        english=(
            "over dos(e|es|ed|ing)",
            "overdos(e|es|ed|ing)",
            "(i|he|she|they) (od|oded|oding)",
            "(going to|want to|might|will|gonna) od",
            "od on (my|the|his|her|their)? (pills|tablets|meds|medication|medicine|xanax|prescription)",
            "too many (pills|tablets|meds)",
            "(took|taken|swallowed|(going to|want to|will|about to|plan to|planning to|ready to) (take|swallow))"
            " (all|a bunch of|a handful of|a bottle of|a whole bottle of) (of)? (my|the)?"
            " (pills|tablets|meds|medication|medications|medicine|xanax|sleeping pills|painkillers)",
            "(took|taken|swallowed|(going to|want to|will|about to) (take|swallow)) (my|the) (whole|entire)"
            " (prescription|bottle|supply)",
        ),
        spanish=(
            "sobre dosis",
            "(demasiadas|muchas|todas las) (pastillas|pildoras)",
            "me tome (todas)? las pastillas",
            "(un|el|todo el) frasco de (pastillas|pildoras)",
        ),
        strong_english=("overdose", "overdosed", "overdosing"),
        strong_spanish=("sobredosis",),
    ),
    DangerIdea(
        "chest pain",
        english=(
            "chest (pain|pains|hurts?|hurting|tightness|pressure|tight)",
            "pain in my chest",
            "heart attack",
            "crushing (pain|feeling) in my chest",
            "(pressure|tightness|pain|weight) (in|on) my chest",
            "chest (feels|is|feel) (tight|heavy|crushed)",
        ),
        spanish=(
            "dolor (en el|de|del) pecho",
            "(me duele|presion en) el pecho",
            "ataque (al|de) corazon",
            "infarto",
        ),
    ),
    DangerIdea(
        "trouble breathing",
        english=(
            "(can not|cant|cannot|couldnt|could not) breathe?",
            "(trouble|difficulty|problems?|struggling) breathing",
            "hard to breathe",
            "short(ness)? of breath",
            "not breathing",
            "unable to breathe",
            "(cant|cannot|can not) catch my breath",
            "gasping for (air|breath)",
        ),
        spanish=(
            "no puedo respirar",
            "(me falta|falta de) (el)? aire",
            "dificultad para respirar",
            "no respira",
            "me cuesta (mucho)? respirar",
        ),
    ),
    DangerIdea(
        "fainting",
        english=(
            "faint(ed|ing)",
            "passed out",
            "pass(ing)? out",
            "unconscious",
            "(cant|cannot|can not) wake (him|her|them|up)",
            "(wont|will not|doesnt|does not|isnt|is not) (wake|waking) up",
            "(not|isnt|is not|wont|doesnt) (responding|respond|responsive)",
            "unresponsive",
            "(blacked|blacking|black) out",
        ),
        spanish=(
            "desmaye",
            "desmayo",
            "desmayada",
            "desmayado",
            "perdi el conocimiento",
            "inconsciente",
            "no (despierta|responde|reacciona)",
        ),
    ),
    DangerIdea(
        "seizure",
        english=("seizures?", "seizing", "convuls(ion|ions|ed|ing)"),
        spanish=("convulsion(es)?", "convulsionando", "ataque epileptico", "crisis epileptica"),
    ),
    DangerIdea(
        "harm to others",
        english=(
            "(kill|hurt|harm) (someone|somebody|people|others)",
            "(kill|killing) (them all|everyone)",
            "(kill|killing|hurt|hurting|harm|harming|stab|stabbing|strangle|strangling) (him|her|them)",
            "(kill|killing|hurt|hurting|harm|harming|stab|stabbing|strangle|strangling) my"
            " (husband|wife|partner|kids?|children|son|daughter|boyfriend|girlfriend|mom|mother|dad|father|boss"
            "|family|baby|neighbou?r|roommate|brother|sister)",
            "shoot up (the|a|my) (place|school|office|work)",
        ),
        spanish=(
            "matar a (alguien|todos)",
            "(hacer dano|hacerle dano|lastimar) a (alguien|otros|otras personas|mi|mis)",
            "matar a (mi|mis|mi propio|mi propia)",
            "matar(lo|la|los|las)",
            "(lo|la|los|las) voy a matar",
        ),
    ),
    DangerIdea(
        "hallucinations",
        english=(
            "hallucinat(e|es|ed|ing|ion|ions)",
            "hearing voices",
            "(seeing|see|hearing|hear) things that (arent|are not|werent|were not|isnt|is not) there",
            "(im|i am|i keep|keep) (seeing|hearing) things",
        ),
        spanish=("alucina(ndo|ciones|cion|r|o)", "(escucho|oigo|escuchando|oyendo) voces", "(veo|viendo) cosas"),
    ),
    DangerIdea(
        "racing heart",
        english=(
            "heart (is)? (racing|pounding|fluttering|skipping)",
            "heart (is)? (beating|going) (so|really|very|super)? (fast|hard)",
            "(racing|pounding) heart",
            "palpitations?",
            "heart rate (is)? (so|really|very|super)? (high|fast)",
            "(bp|blood pressure) (is|was|reading)? (so|really|very|super|dangerously)? high",
        ),
        spanish=(
            "(el)? corazon (me)? late (muy|super|demasiado)? (rapido|fuerte)",
            "me late (muy|super|demasiado)? (rapido|fuerte) el corazon",
            "taquicardia",
            "palpitaciones",
            "(presion|tension) (muy|super)? alta",
        ),
    ),
    DangerIdea(
        "severe headache",
        english=(
            "(severe|terrible|worst|horrible|excruciating|splitting|unbearable|awful|pounding|really bad|very bad)"
            " headaches?",
            "worst headache",
            "head (is)? killing me",
        ),
        spanish=(
            "dolor de cabeza (muy)? (fuerte|intenso|terrible|horrible|insoportable)",
            "(el)? peor dolor de cabeza",
        ),
    ),
    DangerIdea(
        "bleeding",
        english=("bleed(s|ing)?", "bled", "blood everywhere"),
        spanish=("sangr(ando|ado|a|ar)", "hemorragia"),
    ),
    DangerIdea(
        "allergic reaction",
        english=(
            "allergic reaction",
            "anaphyla(xis|ctic)",
            "(throat|tongue|lips?|face) (is|are)? (swelling|swollen|closing)",
            "(have|got|getting|broke out in|broken out in|covered in) hives",
            "hives (all over|everywhere)",
        ),
        spanish=(
            "reaccion alergica",
            "se me (hincha|cierra|esta cerrando|esta hinchando) (la|el|los)? (garganta|lengua|labios|cara)",
            "urticaria",
            "ronchas",
        ),
    ),
    DangerIdea(
        "stroke signs",
        english=(
            "(cant|cannot|can not) (feel|move) my (arm|arms|leg|legs|face|hand|side)",
            "(face|mouth) (is)? (drooping|droopy)",
            "slurr(ed|ing) (speech|my words)",
            "numb on one side",
            "(having|had|having a|had a) stroke",
        ),
        spanish=(
            "no (puedo|siento) mover (el|la|los|las|mi|mis) (brazo|brazos|pierna|piernas|cara|mano)",
            "no siento (el|la|mi) (brazo|pierna|cara|mano)",
            "(derrame|embolia)",
        ),
    ),
    DangerIdea(
        "vomiting",
        english=(
            "(cant|cannot|can not) stop (vomiting|throwing up|puking)",
            "(vomiting|throwing up|puking) and (i)? (cant|cannot|can not) stop",
            "(vomiting|throwing up) blood",
        ),
        spanish=("no (paro|puedo parar|dejo) de vomitar", "vomitando sangre"),
    ),
)

# Phrases that must NOT fire: idioms that contain a danger phrase. Reviewed by the medical
# director with the list above; each is in the phrase table with the outcome "-" (no alert).
IDIOMS = {
    ENGLISH: (
        "(killed|killing|kill) myself laughing",
        "(dying|died) (of|from) (laughter|laughing|embarrassment|boredom)",
        "(i am|im) dying (to|for|of) (see|meet|know|try|hear|laughter|laughing|boredom|embarrassment|hunger)",
        "(i am|im) dying here",
        "(i am|im|was|been) dying to (get|go|start|tell|find|read|watch|eat|have|ask|come|book|begin|talk|sign)",
        "gave me a heart attack",
        "(nearly|almost) (had|gave me) a heart attack",
        "(over dosed|overdosed|overdosing|overdose) on (sugar|chocolate|candy|coffee|caffeine|cake|sweets|pizza)",
        "(over dosed|overdosed|overdosing|overdose) on (netflix|tv|television)",
        "(passed|pass|passing) out (the|some)? (flyers|candy|papers|leaflets|forms|snacks|food|cookies)",
        "shoot myself in the foot",
        "suicide squad",
        "cut myself shaving",
        "\\d+ kms",
        "(burned|burnt) myself (cooking|on the (stove|oven|pan|iron|grill))",
        "(hurt|hurting) (his|her|their|your) feelings",
        "(hurt|hurting) her (feelings|back|knee|ankle|arm|leg)",
        "kill (them|him|her) with kindness",
        "stroke of (luck|genius|midnight)",
        "(seeing|see) things (differently|clearly|more clearly|in a new way|in a different light)",
        "(bleeding|bled) (heart|edge)",
    ),
    SPANISH: (
        "me muero de (risa|hambre|sueno|calor|frio|ganas|aburrimiento|verguenza|nervios)",
        "me voy a morir de (risa|hambre|sueno|calor|frio|aburrimiento|verguenza)",
        "(muerto|muerta) de (risa|hambre|sueno|cansancio|calor|frio)",
        "me muero por",
        "me (corte|corto) (el pelo|el cabello|las unas|el fleco)",
        "(me voy a|voy a|quiero) cortar(me)? (el pelo|el cabello|las unas|el fleco)",
        "cortarme (el pelo|el cabello|las unas|el fleco)",
    ),
}

# Real words one letter away from a strong word: never a misspelling of it.
NOT_MISSPELLINGS = frozenset({"overdone", "overdoes", "overdue", "suicida"})

# --- normalising --------------------------------------------------------------------------------

# Curly quotes, dashes and the like, as phones type them.
_PLAIN = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'", "\u2010": "-", "\u2011": "-", "\u2013": "-", "\u2014": "-"}
)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_SQUEEZE = re.compile(r"([a-z])\1+")
# A symbol typed for a letter inside a word: "su!cide", "k|ll" (i), "s*icide" (any letter, dropped:
# the strong words' one-letter-off check still catches the word).
_SYMBOL_I = re.compile(r"(?<=[a-z])[!|](?=[a-z])")
_SYMBOL_ANY = re.compile(r"(?<=[a-z])[*#]+(?=[a-z])")
# Words typed short, as the phrases are written long ("wanna die" is "want to die").
_SLANG = {"wanna": "want to", "gonna": "going to", "tryna": "trying to", "gotta": "got to"}
# Common typos of a word many phrases need.
_TYPOS = {"myslef": "myself", "mysef": "myself", "myelf": "myself", "mysel": "myself", "mysefl": "myself"}


def _squeeze(word: str) -> str:
    """A letter typed more than once in a row counts once ("killlll" and "kill" are both "kil")."""
    return _SQUEEZE.sub(r"\1", word)


def _token(word: str) -> str:
    # "su1c1de", "$uicide": digits and symbols inside a word stand for letters; a number alone stays.
    if re.search(r"[a-z]", word) and re.search(r"[0-9@$]", word):
        word = word.translate(_LEET)
    return _squeeze(word)


def normalise(text: str | None) -> str:
    """The text as the matcher compares it: plain lower-case words, one space apart."""
    text = unicodedata.normalize("NFKC", text or "").translate(_PLAIN).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = text.replace("'", "")
    text = _SYMBOL_ANY.sub("", _SYMBOL_I.sub("i", text))
    words = [w for word in re.findall(r"[a-z0-9@$]+", text) for w in _SLANG.get(word, word).split()]
    words = [_TYPOS.get(word, word) for word in words]
    joined: list[str] = []
    letters: list[str] = []
    # Letters typed apart ("k i l l") are one word; fewer than three single letters stay apart.
    for word in [*words, ""]:
        if len(word) == 1 and word.isalpha():
            letters.append(word)
            continue
        if len(letters) >= 3:
            joined.append("".join(letters))
        else:
            joined.extend(letters)
        letters = []
        if word:
            joined.append(word)
    return " ".join(_token(word) for word in joined)


# --- phrases --------------------------------------------------------------------------------------


def _phrase_regex(phrase: str) -> str:
    """A phrase in the small syntax above, as a regular expression over normalised text."""
    pattern = normalise_phrase(phrase)
    pattern = pattern.replace("(", "(?:").replace(" ", r"\s?")
    return rf"(?<![a-z0-9]){pattern}(?![a-z0-9])"


def normalise_phrase(phrase: str) -> str:
    """Letters squeezed as in the text; the syntax characters kept."""
    phrase = phrase.casefold().replace("'", "")
    phrase = re.sub(r"\s+", " ", phrase.strip())
    return _SQUEEZE.sub(r"\1", phrase)


@dataclass(frozen=True)
class DangerMatch:
    key: str
    language: str  # ENGLISH or SPANISH: the list the phrase came from


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[re.Pattern[str], ...], tuple[tuple[DangerIdea, str, re.Pattern[str]], ...]]:
    idioms = tuple(re.compile(_phrase_regex(p)) for language in (ENGLISH, SPANISH) for p in IDIOMS[language])
    phrases = tuple(
        (idea, language, re.compile("|".join(_phrase_regex(p) for p in patterns)))
        for idea in DANGER_IDEAS
        for language, patterns in ((ENGLISH, idea.english), (SPANISH, idea.spanish))
        if patterns
    )
    return idioms, phrases


def one_letter_off(word: str, target: str) -> bool:
    """True when `word` is `target` with one letter added, dropped, changed or two swapped."""
    if word == target or abs(len(word) - len(target)) > 1:
        return word == target
    if len(word) == len(target):
        diffs = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        i = diffs[0]
        return len(diffs) == 2 and diffs[1] == i + 1 and word[i] == target[i + 1] and word[i + 1] == target[i]
    short, long = (word, target) if len(word) < len(target) else (target, word)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _misspelt_strong_word(idea: DangerIdea, words: list[str]) -> str | None:
    """The language of a strong word of this idea that one of `words` misspells, or None."""
    for language, strong in ((ENGLISH, idea.strong_english), (SPANISH, idea.strong_spanish)):
        targets = [_squeeze(w) for w in strong]
        for word in words:
            if len(word) >= 6 and word not in NOT_MISSPELLINGS and any(one_letter_off(word, t) for t in targets):
                return language
    return None


_SPANISH_WORDS = frozenset(
    {"el", "la", "los", "las", "un", "una", "de", "del", "que", "y", "en", "mi", "me", "se", "no", "es", "tengo"}
    | {"estoy", "por", "con", "para", "muy"}
)
_ENGLISH_WORDS = frozenset(
    {"the", "a", "an", "of", "and", "in", "my", "i", "im", "is", "it", "to", "have", "had", "am", "was", "with"}
    | {"for", "very"}
)


def _reads_spanish(words: list[str]) -> bool:
    """More common Spanish little words than English ones (to answer in the language written)."""
    return sum(w in _SPANISH_WORDS for w in words) > sum(w in _ENGLISH_WORDS for w in words)


def danger_matches(text: str | None) -> list[DangerMatch]:
    """The danger ideas `text` mentions, in DANGER_IDEAS order, each once (empty: nothing found)."""
    idioms, phrases = _compiled()
    plain = normalise(text)
    for idiom in idioms:
        plain = idiom.sub(" ~ ", plain)
    words = plain.split()
    found: dict[str, DangerMatch] = {}
    for idea, language, pattern in phrases:
        if pattern.search(plain) and (idea.key not in found or (language == SPANISH and _reads_spanish(words))):
            # A phrase both lists know ("convulsion", "infarto"): the language the rest of the text reads in.
            found[idea.key] = DangerMatch(idea.key, language)
    for idea in DANGER_IDEAS:
        misspelt = None if idea.key in found else _misspelt_strong_word(idea, words)
        if misspelt is not None:
            found[idea.key] = DangerMatch(idea.key, misspelt)
    order = [idea.key for idea in DANGER_IDEAS]
    return sorted(found.values(), key=lambda match: order.index(match.key))


def danger_words_in(text: str | None) -> list[str]:
    """The keys of the danger ideas `text` mentions, in list order (empty: nothing found)."""
    return [match.key for match in danger_matches(text)]


def danger_language(text: str | None) -> str | None:
    """The language of the first danger phrase found (to answer a text in it), or None."""
    matches = danger_matches(text)
    return matches[0].language if matches else None
