"""What shape a question has, from its text alone: is it a question, is it several, is it empty,
does it repeat an earlier one or restate the request, and which words in it are about something
other than the task.

These heuristics need no model. The simulated user, the reward and evaluation all read them from
here, so "several questions" means the same thing to the judge that answers and to the reward that pays.
Every check first normalises the text (:func:`normalize`): full-width and ideographic punctuation,
zero-width characters and odd spaces must not hide a second question from a check written for ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from .intents import asked_categories

# Ideographic punctuation that NFKC leaves alone; zero-width and bidi marks an adversary can hide a
# separator behind.
_PUNCT_MAP = str.maketrans({"、": ", ", "。": ". ", "〜": "~", "・": ",", "‧": ",", "·": ",", "•": ",", "⁇": "??",
                            "‽": "?", "¿": "", "¡": "", "⸮": "?", "；": ";", "︖": "?", "﹖": "?"})
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
#: Letters of other scripts that look like Latin ones (Unicode's confusables, the ones a keyboard
#: trick would use): "оr" with a Cyrillic "о" must read as "or" to every check, or a second question
#: hides behind it. NFKC does not map these; mathematical and full-width letters it already does.
_LOOK_ALIKES = str.maketrans(
    # Cyrillic
    "аеорсухіјѕԁһԛԝӏъьАВЕКМНОРСТХУІЈЅԌ"
    # Greek
    "αοιικνρτυχεΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"
    # Armenian, Cherokee and Latin extensions (dotless i, script g, small capitals)
    "օսոհցᎪᏴᏟᎬᎻᎫᏦᏞᎷᏢᏚᎢᏔıɡɑɩʏᴀʙᴄᴅᴇɢʜɪᴊᴋʟᴍɴᴏᴘʀᴛᴜᴠᴡʏᴢ",
    "aeopcyxijsdhqwlbbABEKMHOPCTXYIJSG"
    "aoiikvptuxeABEZHIKMNOPTYX"
    "ounhgABCEHJKLMPSTWigaiyabcdeghijklmnoprtuvwyz",
)


def _strip_latin_marks(text: str) -> str:
    """Combining marks on Latin letters dropped ("o\u0301r" is "or"); other scripts' marks (Devanagari's
    vowel signs, say) are part of their letters and stay."""
    out: list[str] = []
    for char in text:
        if unicodedata.combining(char) and out and out[-1].isascii():
            continue
        out.append(char)
    return "".join(out)


def normalize(text: str) -> str:
    """The question as the checks read it: NFKC (full-width "？，" become "?,"), look-alike letters of
    other scripts as the Latin ones they imitate, accents and other combining marks dropped ("ór" is
    "or"), ideographic commas and bullets as commas, invisible characters removed, whitespace
    collapsed, runs of "?" as one."""
    text = unicodedata.normalize("NFKC", text).translate(_PUNCT_MAP)
    text = _INVISIBLE.sub("", text)
    # Decomposed first, so an accented look-alike ("ό", Greek omicron with tonos) maps like the plain one.
    text = unicodedata.normalize("NFKD", text).translate(_LOOK_ALIKES)
    text = unicodedata.normalize("NFC", _strip_latin_marks(text))
    text = re.sub(r"\?(?:\s*\?)+", "?", text)
    return " ".join(text.split())


_QUESTION_START = re.compile(
    r"^\s*(?:(?:so|ok|okay|and|but|also|then|first|quick question|one question|just to check)\b[\s,:-]*)?"
    r"(?:what|what's|when|where|who|who's|whom|whose|which|why|how|is|are|was|were|do|does|did|can|could|would|"
    r"will|should|shall|have|has|had|may|might|must|any|anything|tell me|please (?:tell|share|let)|"
    r"(?:you|u) (?:want|need|mean|prefer|looking|interested|have|like)|(?:looking|interested|searching) (?:for|in))\b",
    re.IGNORECASE,
)
_JOINED_QUESTION = re.compile(
    r"(?:\b(?:and|also|plus|as well as)\s+|[,;]\s*)(?:what|when|where|who|which|why|how|do|does|is|are|will|would|can|"
    r"could|should|did|have|has)\b"
    r"|\bor\s+(?:what|when|where|who|which|why|how)\b",
    re.IGNORECASE,
)
#: Where a list of alternatives or examples begins: "... such as A, B or C?" asks one thing.
_OPTIONS = re.compile(r"\b(?:such as|e\.g\.?|for example|for instance|including|whether|either)\b",
                      re.IGNORECASE)
_SEPARATOR = re.compile(r"\s*(?:[,;/|&+\n]|\band\b|\bor\b|\bnor\b|\bvs\.?|\bversus\b|\s-\s)\s*", re.IGNORECASE)

#: More items than this in one question is an enumeration, not a choice, whatever introduces it.
MAX_OPTIONS = 4


#: A question clause inside a sentence typed without "?" ("regarding food stamps are you looking
#: for eligibility", "there are some facts about it shall i show them to you").
_QUESTION_CLAUSE = re.compile(
    r"\b(?:are|do|would|will|did|have|can|could) you\b|\b(?:shall|should|can|may) i\b"
    r"|\b(?:is|are) (?:it|this|that|there)\b|\bor maybe\b", re.IGNORECASE)


def is_question(text: str) -> bool:
    """Contains a question mark, opens like a question in any case ("are you looking for maps",
    "what is the budget", "tell me the date", "you want the cheap ones"), or holds a question clause
    ("regarding food stamps are you looking for eligibility")."""
    text = normalize(text)
    return "?" in text or bool(_QUESTION_START.match(text)) or bool(_QUESTION_CLAUSE.search(text))


_FILLER = frozenset(
    [
        "a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "with", "by", "from",
        "as", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "can",
        "could", "would", "will", "should", "shall", "may", "might", "must", "have", "has", "had",
        "i", "me", "my", "we", "our", "you", "your", "it", "its", "this", "that", "these", "those",
        "there", "here", "any", "some", "more", "please", "tell", "know", "like", "want", "need",
        "looking", "interested", "just", "also", "about", "into", "information", "info", "details",
        "detail", "kind", "sort"
    ]
)


def _stem(word: str) -> str:
    # A crude stem (one trailing "s", not "ss") so "guests" matches "guest" and "dress" stays "dress".
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def content_words(text: str) -> set[str]:
    """The words that carry meaning, crudely stemmed ("guests" -> "guest"); filler dropped."""
    words = (_stem(w) for w in re.findall(r"[a-z0-9$£€]+", normalize(text).lower()) if w not in _FILLER)
    return {w for w in words if len(w) > 1 or w.isdigit()}  # drops the "s" of "what's"


# Words that ask without saying about what: a question made only of these has no content.
_QUESTION_WORDS = frozenset([
    "what", "whats", "when", "where", "who", "whom", "whose", "which", "why", "how", "much", "many", "long",
    "often", "else", "question", "questions", "thing", "things", "something", "anything", "detail",
    "specific", "specifics", "important", "point", "answer", "help",
])
_QUESTION_STEMS = frozenset(_stem(w) for w in _QUESTION_WORDS)

#: Words a clarifying question about *any* task may use without naming anything outside it ("What is
#: the rough budget range?", "Is there a hard deadline?", "Who exactly is involved?"). A question's
#: other words must come from the task or be related to it (see :func:`foreign_words`).
_GENERIC = frozenset(_stem(w) for w in [
    "about", "above", "across", "actual", "actually", "after", "again", "against", "ago", "all", "almost",
    "already", "alright", "always", "am", "amount", "attend", "attending", "coming", "join", "joining",
    "anyone", "anybody", "approximate", "approximately", "around", "ask", "asked", "asking", "available",
    "average", "away", "back", "bad", "basic", "because", "before", "being", "best", "better", "between",
    "big", "biggest", "both", "bring", "broad", "budget", "can", "cannot", "case", "certain", "change",
    "choose", "chosen", "clear", "clearly", "come", "comes", "common", "complete", "concern", "concerns",
    "consider", "considered", "could", "currently", "day", "days", "deal", "decide", "decided", "deliver",
    "delivered", "describe", "detail", "different", "does", "doing", "done", "each", "early", "easy",
    "else", "end", "enough", "entire", "especially", "estimate", "estimated", "even", "event", "ever",
    "every", "everyone", "exact", "exactly", "expect", "expected", "expecting", "experience", "explain",
    "extra", "fact", "facts", "far", "few", "final", "finally", "find", "first", "fit", "fixed", "focus",
    "follow", "following", "formal", "full", "fully", "general", "get", "give", "given", "go", "goes",
    "going", "good", "got", "great", "group", "handle", "happen", "happening", "happens", "hard", "have",
    "having", "hear", "help", "high", "hope", "how", "ideal", "ideally", "idea", "if", "important",
    "include", "included", "includes", "including", "intended", "involve", "involved", "involves", "issue",
    "issues", "item", "items", "keep", "key", "kind", "known", "last", "later", "least", "less", "let",
    "level", "levels", "like", "likely", "limit", "little", "long", "longer", "look", "looks", "lot", "low",
    "main", "mainly", "major", "make", "makes", "making", "many", "matter", "maximum", "may", "mean",
    "meant", "mention", "mentioned", "might", "mind", "minimum", "more", "most", "much", "must", "name",
    "need", "needed", "needs", "new", "next", "nice", "none", "normal", "note", "number", "numbers", "off",
    "often", "ok", "okay", "old", "one", "only", "open", "option", "options", "order", "other", "others",
    "otherwise", "out", "over", "overall", "own", "part", "particular", "particularly", "people", "person",
    "picture", "piece", "place", "plan", "planned", "planning", "plans", "please", "plus", "point",
    "possible", "precise", "precisely", "prefer", "preferred", "preference", "present", "pretty",
    "previous", "primary", "priority", "probably", "problem", "project", "put", "quick", "quite", "range",
    "rather", "reach", "ready", "real", "really", "reason", "reasons", "regarding", "related", "relevant",
    "remember", "require", "required", "requirement", "right", "rough", "roughly", "same", "say", "scale",
    "scope", "second", "see", "seem", "set", "short", "should", "show", "similar", "simple", "since",
    "size", "small", "so", "someone", "something", "sometimes", "soon", "sort", "specific", "specifically",
    "start", "started", "state", "still", "strict", "such", "suppose", "sure", "take", "target", "tell",
    "term", "terms", "than", "thank", "thanks", "then", "thing", "things", "think", "though", "time",
    "times", "today", "together", "total", "type", "types", "typical", "under", "understand", "until", "up",
    "upon", "us", "use", "used", "usual", "usually", "very", "want", "wanted", "way", "ways", "well",
    "what", "whatever", "when", "where", "whether", "which", "while", "who", "whole", "why", "will", "wish",
    "within", "without", "work", "working", "worry", "would", "yes", "yet",
    # units of time and quantity any question may use
    "year", "years", "month", "months", "week", "weeks", "weekend", "hour", "hours", "minute", "minutes",
    "morning", "evening", "night", "percent", "dollars", "euros", "pounds"])


def is_vacuous(question: str) -> bool:
    """A question with no content: "What?", "What's your question?", "Anything else?"."""
    return not (content_words(question) - _QUESTION_STEMS)


def repeats_earlier(question: str, earlier: Sequence[object]) -> bool:
    """Asks again what an earlier question asked: its content words are a subset of that question's
    ("What is the budget?" after "What's your budget?"). A reworded repeat of a question that got a
    fact is caught by the simulated user instead ("I already mentioned that")."""
    words = content_words(question)
    return bool(words) and any(isinstance(q, str) and words <= content_words(q) for q in earlier)


def restates_request(question: str, request: str) -> bool:
    """The question asks nothing the request does not already contain: every content word of it is
    in the request ("Do you need help planning a wedding reception?"). Question words such as
    "when" or "how many" count as content, so "When is the wedding?" is not a restatement."""
    words = content_words(question)
    return bool(words) and words <= content_words(request)


def foreign_words(question: str, task_texts: Sequence[str]) -> list[str]:
    """The question's words that neither the task's texts (request, facts) nor a generic clarifying
    question use, in order: what the question brings in from elsewhere ("painted mona lisa")."""
    known = set().union(*(content_words(t) for t in task_texts)) if task_texts else set()
    known |= _QUESTION_STEMS | _GENERIC
    words = [w for w in re.findall(r"[a-z0-9$£€]+", normalize(question).lower()) if w not in _FILLER]
    # Compared by stem, returned as written: an embedding reads "mars", not the stem "mar".
    return list(dict.fromkeys(w for w in words if (len(w) > 1 or w.isdigit()) and _stem(w) not in known
                              and not asked_categories(w)))


def topic_words(question: str, request: str) -> set[str]:
    """The request's own subject words that the question names ("capacity of ritz carlton lake las
    vegas" names "ritz carlton lake las vegas"): content words of both, generic words left out."""
    subject = lambda text: {w for w in content_words(text) if w not in _GENERIC and w not in _QUESTION_STEMS}
    return subject(question) & subject(request)


def question_items(question: str) -> list[str]:
    """The things one question names, split at commas, "and", "or", slashes, semicolons ...
    ("budget, dates or venue?" -> three items). A bare string of keywords ("budget timeline venue?")
    is one item a word. Items without a content word are dropped."""
    text = normalize(question).rstrip("?.! ")
    parts = [p for p in _SEPARATOR.split(text) if p and content_words(p)]
    if len(parts) == 1 and _is_keyword_string(parts[0]):
        parts = [w for w in parts[0].split() if content_words(w)]
    return parts


def _is_keyword_string(text: str) -> bool:
    """Three or more words with no question word, verb-like filler or article: "budget date venue"."""
    words = re.findall(r"[A-Za-z0-9$£€']+", text.lower())
    return len(words) >= 3 and not any(w in _FILLER or w in _QUESTION_WORDS or w.endswith("'s") for w in words)


def item_kinds(items: Sequence[str]) -> list[set[str]]:
    """Each item's kinds of detail (budget, timeline ...), from its cue words."""
    return [asked_categories(item) for item in items]


def is_multi_question(text: str) -> bool:
    """Several questions in one, from the text alone: two question marks, a second question joined
    on ("... and when is it?"), items that ask for different kinds of detail ("the budget, the
    dates?"), an enumeration longer than a choice (more than :data:`MAX_OPTIONS` items), or three or
    more items listed without an options marker ("budget, dates, venue?").

    One question that offers options ("... such as medication, lifestyle changes, or technology?",
    "Is it for children, teens or adults?") is one question. Whether the items of a list point at
    different facts of the task is for the simulated user to say (it knows the facts).
    """
    text = normalize(text)
    if text.count("?") > 1 and re.search(r"\?\s*\S", text):
        return True
    if _JOINED_QUESTION.search(text):
        return True
    items = question_items(text)
    if len(items) < 2:
        return False
    kinds = [k for k in item_kinds(items) if k]
    if len(kinds) > 1 and len(set().union(*kinds)) > 1:  # "the budget, and the deadline?"
        return True
    if len(items) > MAX_OPTIONS:
        return True
    return len(items) >= 3 and not _OPTIONS.search(text) and not re.search(r"\bor\b", text, re.IGNORECASE)


def keywords(text: str) -> str:
    """``text`` as a keyword query: its words that are neither filler nor generic ("I'm looking for
    information about dinosaurs." -> "dinosaurs"), in order; the text itself if none are left."""
    words = [w for w in re.findall(r"[A-Za-z0-9$£€%'-]*[A-Za-z0-9]", normalize(text))
             if w.lower() not in _FILLER and _stem(w.lower()) not in _GENERIC and _stem(w.lower()) not in _QUESTION_STEMS
             and not re.fullmatch(r"i'm|i'd|i've|we're|it's|let's", w.lower())]
    return " ".join(words) or text
