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
from functools import lru_cache

from .intents import asked_categories

#: Letters of other scripts that look like Latin ones (from Unicode's confusables, the ones a keyboard
#: trick would use): "оr" with a Cyrillic "о", "ⲟr" with a Coptic one, "апd" with a Cyrillic "п" must
#: read as "or" and "and" to every check, or a second question hides behind them. NFKC does not map
#: these; mathematical and full-width letters it already does.
_LOOK_ALIKES = str.maketrans(
    # Cyrillic
    "аеорсухіјѕԁһԛԝӏъьпгкАВЕКМНОРСТХУІЈЅԌҮѴԚԜ"
    # Greek
    "αοιικνρτυχεγϲϳΑΒΕΖΗΙΚΜΝΟΡΤΥΧϹ"
    # Coptic
    "ⲁⲓⲕⲟⲣⲭⲀⲂⲈⲒⲔⲘⲚⲞⲢⲦⲬ"
    # Armenian
    "օսոհցզաՕՍ"
    # Cherokee
    "ᎪᏴᏟᎬᎻᎫᏦᏞᎷᏢᏚᎢᏔᏃᎥᏙᏀ"
    # Lisu
    "ꓮꓐꓚꓓꓰꓝꓖꓧꓲꓙꓗꓡꓟꓠꓳꓑꓣꓢꓔꓴꓦꓪꓫꓬꓜ"
    # Latin extensions (dotless i and j, script g, small capitals)
    "ıȷɡɑɩʏᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡᴢ",
    "aeopcyxijsdhqwlbbnrkABEKMHOPCTXYIJSGYVQW"
    "aoiikvptuxeycjABEZHIKMNOPTYXC"
    "aikopxABEIKMNOPTX"
    "ounhgqwOU"
    "ABCEHJKLMPSTWZiVG"
    "ABCDEFGHIJKLMNOPRSTUVWXYZ"
    "ijgaiyabcdefghijklmnoprstuvwz",
)


@lru_cache(maxsize=4096)
def _punctuation(char: str) -> str:
    """What a non-ASCII punctuation mark reads as, by its Unicode name, so every script's question
    mark, comma, full stop and semicolon counts ("؟" Arabic, "՞" Armenian, "፧" Ethiopic, "❓",
    "،" Arabic comma, "‚" low-9 quotation mark that looks like a comma); anything else as itself."""
    if char.isascii() or unicodedata.category(char)[0] not in "PS":
        return char
    name = unicodedata.name(char, "")
    if "INVERTED" in name and ("QUESTION" in name or "EXCLAMATION" in name):
        return " "  # the Spanish opening marks: a question starts there (and ends with its own "?")
    if "QUESTION MARK" in name:
        return "?"
    if "LOW-9" in name:
        return ","
    if "QUOTATION" in name or "SIGN" in name:
        return char
    for word, mark in (("COMMA", ", "), ("FULL STOP", ". "), ("SEMICOLON", "; "), ("EXCLAMATION", "! ")):
        if word in name:
            return mark
    if char in "·•‧・" or "BULLET" in name or "MIDDLE DOT" in name:
        return ", "
    return char


def _strip_latin_marks(text: str) -> str:
    """Combining marks on Latin letters dropped ("o\u0301r" is "or"); other scripts' marks (Devanagari's
    vowel signs, say) are part of their letters and stay."""
    out: list[str] = []
    for char in text:
        if unicodedata.combining(char) and out and out[-1].isascii():
            continue
        out.append(char)
    return "".join(out)


@lru_cache(maxsize=65536)  # every check of a question reads it normalised, many times over
def normalize(text: str) -> str:
    """The question as the checks read it: NFKC (full-width "？，" become "?,"), every script's question
    marks, commas, full stops and semicolons as the ASCII ones, look-alike letters of other scripts as
    the Latin ones they imitate, accents and other combining marks dropped ("ór" is "or"), invisible
    (format) characters removed, whitespace collapsed, runs of "?" as one."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_punctuation(c) for c in text if unicodedata.category(c) != "Cf" and c != "\u00ad")
    # Decomposed first, so an accented look-alike ("ό", Greek omicron with tonos) maps like the plain one.
    text = unicodedata.normalize("NFKD", text).translate(_LOOK_ALIKES)
    text = unicodedata.normalize("NFC", _strip_latin_marks(text))
    text = re.sub(r"\?(?:\s*\?)+", "?", text)
    text = re.sub(r"\s+([?,.;!])", r"\1", text)  # "budget ? date" as "budget? date"
    return " ".join(text.split())


_QUESTION_START = re.compile(
    r"^\s*(?:(?:so|ok|okay|and|but|also|then|first|quick question|one question|just to check)\b[\s,:-]*)?"
    r"(?:what|what's|when|where|who|who's|whom|whose|which|why|how|is|are|was|were|do|does|did|can|could|would|"
    r"will|should|shall|have|has|had|may|might|must|any|anything|tell me|please (?:tell|share|let)|"
    r"(?:you|u) (?:want|need|mean|prefer|looking|interested|have|like)|(?:looking|interested|searching) (?:for|in))\b",
    re.IGNORECASE,
)
_WH = r"(?:what|when|where|who|whom|whose|which|why|how)"
_AUX = r"(?:do|does|did|is|are|was|were|will|would|can|could|should|shall|have|has|may|might)"
_SUBJECT = r"(?:you|u|it|there|they|we|i|he|she|this|that|these|those|the|your|any)"
#: A second question joined on inside one sentence: "... and when is it?", "..., what venue?", "..., do you
#: need ...". A yes/no clause after a comma counts only outside a list of alternatives ("Are you a
#: beginner, are you experienced, or are you an expert?" is one choice).
_JOINED_QUESTION = re.compile(
    rf"\b(?:and|also|plus|as well as)\s+(?:{_WH}|{_AUX})\b|[,;]\s*{_WH}\b|\bor\s+{_WH}\b", re.IGNORECASE)
_JOINED_CLAUSE = re.compile(rf"[,;]\s*{_AUX}\s+{_SUBJECT}\b", re.IGNORECASE)
#: A direct question starting again inside a sentence, with nothing between ("What is your budget
#: when is the wedding", two questions typed as one): a question word, up to three words, then its verb
#: before its subject ("what grade are the students"); an embedded one keeps the subject first ("tell
#: me what the budget is").
_DIRECT_QUESTION = re.compile(rf"\b{_WH}(?:\s+[\w'-]+){{0,3}}?\s+{_AUX}\s+{_SUBJECT}\b", re.IGNORECASE)
#: Where a list of alternatives or examples begins: "... such as A, B or C?" asks one thing.
_OPTIONS = re.compile(r"\b(?:such as|e\.g\.?|i\.e\.?|for example|for instance|including|whether|either"
                      r"|(?<!you )(?<!you'd )(?<!would )(?<!i )(?<!we )(?<!they )(?<!'d )(?<!do )like(?!\s+to\b)"
                      r"|say|perhaps|maybe|etc\.?)(?=\W|$)", re.IGNORECASE)
# A comma inside a number ("$15,000") separates nothing.
_SEPARATOR = re.compile(r"\s*(?:,(?!\d{3}\b)|[;/|&+\n]|\band\b|\bor\b|\bnor\b|\bvs\.?|\bversus\b|\s-\s"
                        r"|\bplus\b|\bas well as\b|\btogether with\b|\bin addition to\b)\s*", re.IGNORECASE)
#: Where examples of what a question asks begin: the items after it illustrate, they are not asked.
_EXAMPLES = re.compile(r"\(|\b(?:such as|e\.g\.?|i\.e\.?|for example|for instance|including|say|etc\.?)(?=\W|$)"
                       r"|(?<!you )(?<!you'd )(?<!would )(?<!i )(?<!we )(?<!they )(?<!'d )(?<!do )\blike\b(?!\s+to\b)",
                       re.IGNORECASE)
#: Options in parentheses: "What type of backup (full, incremental, differential)?" asks one thing.
_PARENTHESES = re.compile(r"\([^()]*\)")
#: Abbreviations whose full stop does not end a sentence.
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|approx|incl|mr|mrs|ms|dr|st|no|ca)|\d)\.$", re.IGNORECASE)

#: More items than this in one question is an enumeration, not a choice, unless they are offered as
#: options of one kind of thing ("Python, Java, C++, JavaScript or Go?").
MAX_OPTIONS = 4
#: More items than this is a list of everything, however it is introduced.
MAX_ITEMS = 8


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
        "detail", "kind", "sort", "he", "she", "him", "her", "his", "hers", "they", "them", "their", "theirs",
        "yours", "ours", "myself", "yourself",
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
    "specific", "specifics", "important", "point", "answer", "help", "example", "instance", "etc", "perhaps",
    "maybe",
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


def is_kind_word(word: str) -> bool:
    """A (stemmed) content word that names a kind of detail or asks generically ("date", "money",
    "budget", "when"), not anything particular to a task."""
    return word in _GENERIC or word in _QUESTION_STEMS or bool(asked_categories(word))


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


#: The scaffolding of real clarifying questions: words people use to ask about a detail of any task
#: ("Is there anything we should be aware of?", "How would you rate your skill level?", "you're").
#: Chosen from the words IN3's annotators' inquiries (its tune part) use in 10 or more of its 188
#: categories that are not in the task they ask about, leaving out the ones that name a subject
#: ("software", "video", "dietary", "language"): those still bring a subject in from elsewhere.
#: Only :func:`foreign_words` reads these; the matcher's features do not.
_SCAFFOLD = frozenset(_stem(w) for w in [
    "re", "ll", "ve", "specify", "current", "currently", "aware", "skill", "skills", "using", "beginner",
    "provide", "method", "methods", "advanced", "location", "located", "criteria", "aspect", "aspects",
    "detailed", "willing", "intermediate", "region", "area", "areas", "aim", "aiming", "determine",
    "condition", "conditions", "expertise", "frame", "depth", "based", "share", "dedicate", "personal",
    "another", "receive", "tailor", "during", "special", "process", "presented", "access", "live",
    "period", "field", "interest", "interests", "referring", "additional", "considering", "existing",
    "rate", "rating", "list", "context", "experienced", "comfortable", "besides", "beside", "overview",
    "bit", "not", "tried", "trying", "through", "seeking", "hoping", "creating", "cover", "consider",
    "focusing", "prior", "priorities", "approach", "format", "feature", "features", "source", "sources",
    "tool", "tools", "topic", "task", "resources", "content", "knowledge", "free", "online", "platform",
    "large", "complex", "daily", "weekly", "monthly", "selecting", "address", "learning", "learn", "talking",
    "talk",
])


def foreign_words(question: str, task_texts: Sequence[str]) -> list[str]:
    """The question's words that neither the task's texts (request, facts) nor a generic clarifying
    question use, in order: what the question brings in from elsewhere ("painted mona lisa")."""
    known = set().union(*(content_words(t) for t in task_texts)) if task_texts else set()
    known |= _QUESTION_STEMS | _GENERIC | _SCAFFOLD
    words = [w for w in re.findall(r"[a-z0-9$£€]+", normalize(question).lower()) if w not in _FILLER]
    # Compared by stem, returned as written: an embedding reads "mars", not the stem "mar".
    return list(dict.fromkeys(w for w in words if (len(w) > 1 or w.isdigit()) and _stem(w) not in known
                              and not asked_categories(w)))


def topic_words(question: str, request: str) -> set[str]:
    """The request's own subject words that the question names ("capacity of ritz carlton lake las
    vegas" names "ritz carlton lake las vegas"): content words of both, generic words left out."""
    subject = lambda text: {w for w in content_words(text) if w not in _GENERIC and w not in _QUESTION_STEMS}
    return subject(question) & subject(request)


def names_request_subject(question: str, request: str) -> bool:
    """Whether the question names something particular to the request: a subject word of it
    (:func:`topic_words`) that is not a kind of detail any task has ("budget", "constraints",
    "audience"). "What type of pizza?" on a pizza request does; "Who is this for?" never does."""
    return any(not is_kind_word(w) for w in topic_words(question, request))


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences after its "?" and "!" and after a full stop that ends a sentence
    (not "e.g." or "3.5"), each sentence also cut where a second direct question starts with nothing
    between ("What is your budget when is the wedding"). Parts that name nothing are dropped ("Could
    you tell me" before "what is the budget" is not a question of its own; "When is it?" names a kind)."""
    text = normalize(text)
    pieces, start = [], 0
    for match in re.finditer(r"[?!]+|\.(?=\s)", text):
        if match.group().startswith(".") and _ABBREVIATION.search(text[start:match.end()]):
            continue
        pieces.append(text[start:match.end()])
        start = match.end()
    pieces.append(text[start:])
    out: list[str] = []
    for piece in pieces:
        cuts = [m.start() for m in _DIRECT_QUESTION.finditer(piece)][1:]
        # A second question word right after "and"/"or" is a joined question, not a new sentence.
        cuts = [c for c in cuts if not re.search(r"\b(?:and|or|also|plus)\s*$|[,;]\s*$", piece[:c], re.IGNORECASE)]
        for left, right in zip([0, *cuts], [*cuts, len(piece)]):
            part = piece[left:right].strip()
            if part and (content_words(part) - _QUESTION_STEMS or asked_categories(part)):
                out.append(part)
    return out


def asks(text: str) -> list[str]:
    """The sentences of ``text`` that ask something, in order: a question followed by why it is asked
    ("... This will help me find recipes that match your abilities.") asks only the question. Where no
    sentence is a question, every sentence asks ("Tell me your budget. Tell me the date.")."""
    parts = sentences(text)
    questions = [p for p in parts if is_question(p)]
    return questions or parts


def ask_text(text: str) -> str:
    """What ``text`` asks, without the explanations around it: its :func:`asks` joined (the
    simulated user matches this against its facts, so a reason given does not dilute the question)."""
    return " ".join(asks(text)) or normalize(text)


def question_items(question: str) -> list[str]:
    """The things one question names, split at commas, "and", "or", slashes, semicolons ...
    ("budget, dates or venue?" -> three items). A bare string of keywords ("budget timeline venue?")
    is one item a word. Words that introduce options ("for example", "such as") are not items, nor
    are items without content ("or something else")."""
    text = _OPTIONS.sub(" ", normalize(question)).rstrip("?.! ")
    parts = [p for p in _SEPARATOR.split(text) if p and not is_vacuous(p)]
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


def _offers_options(ask: str) -> bool:
    return bool(_OPTIONS.search(ask) or re.search(r"\bor\b", ask, re.IGNORECASE) or len(question_items(ask)) >= 2)


def elaborates(ask: str, first: str) -> bool:
    """Does ``ask``, following ``first``, only spell out the options of the same question ("What type of
    festivals? For example, music, food or art?", "What is the purpose? Is it for an essay or for
    yourself?")? It offers options and its opening words ask for no kind of detail ``first`` does not
    ("Who is coming, family or friends?" after "What is your budget?" is a second question)."""
    head = " ".join(ask.split()[:3])
    return _offers_options(ask) and asked_categories(head) <= asked_categories(first)


def alternatives(part: str) -> list[str]:
    """The alternatives a question offers, in its own words: the items of each of its sentences before
    any examples begin ("Is it $5,000 or June?" -> two; "What is your budget? Is it June or July?" ->
    three; "... preferences for accommodation, such as an area or a budget?" -> one: the rest are
    examples of it)."""
    heads = [_EXAMPLES.split(sentence, maxsplit=1)[0] for sentence in sentences(part) or [part]]
    return [item for head in heads for item in question_items(head)]


def without_examples(text: str) -> str:
    """``text`` with the examples it gives cut from each sentence ("Does she have a favourite theme,
    like princesses or space?" -> "Does she have a favourite theme"): examples of possible answers are
    the asker's guesses, not what the question is about."""
    heads = [_EXAMPLES.split(sentence, maxsplit=1)[0].strip(" ,;") for sentence in sentences(text)]
    return " ".join(h for h in heads if h) or normalize(text)


def head_and_examples(part: str) -> tuple[str, list[str]]:
    """A question's first sentence up to where examples begin, and the example items of all its
    sentences ("Tell me about the class, such as the grade or the length?" -> "Tell me about the
    class", ["the grade", "the length"])."""
    parts = sentences(part) or [part]
    split = [_EXAMPLES.split(sentence, maxsplit=1) for sentence in parts]
    return split[0][0].strip(" ,;"), [item for pieces in split if len(pieces) > 1 for item in question_items(pieces[1])]


def _is_kind_only(item: str) -> bool:
    """An item that names one kind of detail and nothing else ("the date", "could you share the budget")."""
    words = content_words(item)
    return bool(words) and all(is_kind_word(w) or w in _SCAFFOLD for w in words) and len(asked_categories(item)) == 1


def _parts_of_one_ask(ask: str) -> list[str]:
    """One sentence's separately asked parts: its items when it lists things rather than offering a
    choice, else its clauses cut where a question is joined on, else the sentence itself."""
    alternatives = bool(re.search(r"\bor\b", ask, re.IGNORECASE))
    items = question_items(_PARENTHESES.sub(" ", ask))
    if len(items) >= 2:
        kinds = [k for k in item_kinds(items) if k]
        several_kinds = len(kinds) > 1 and len(set().union(*kinds)) > 1
        options = alternatives or bool(_OPTIONS.search(ask))
        # Alternatives that are each nothing but a kind of detail ask for two kinds ("the budget or the
        # date?"); "dietary restrictions or preferences?" offers two words for one detail.
        bare = [asked_categories(item) for item in items if _is_kind_only(item)]
        if (len(items) > MAX_ITEMS
                # "the budget, and the deadline?" asks two things (whether alternatives point at different
                # facts is for the simulated user, who knows the facts)
                or (several_kinds and not alternatives)
                or len(set().union(*bare)) > 1
                or (len(items) > MAX_OPTIONS and (several_kinds or not options))
                or (len(items) >= 3 and not options)):
            return items
    joins = [m.start() for m in _JOINED_QUESTION.finditer(ask)]
    if not alternatives:
        joins += [m.start() for m in _JOINED_CLAUSE.finditer(ask)]
    cuts = sorted(set(joins))
    clauses = [ask[left:right].strip(" ,;") for left, right in zip([0, *cuts], [*cuts, len(ask)])]
    return [c for c in clauses if c] or [ask]


def asked_parts(text: str) -> list[str]:
    """The separate things ``text`` asks for, from its shape alone, one string each: every question
    that is not just the options of the first (:func:`elaborates`; those stay with the first), each
    question joined on inside a sentence ("... and when is it?", "Is it formal, is it indoors?"), and
    each item of a list that is not a choice: items joined by "and" or commas that ask for different
    kinds of detail ("the budget, and the dates?"), three or more items without "or" or an options
    marker ("budget, dates, venue?"), or a long list that is not options of one kind of thing."""
    sentences_asked = asks(text)
    parts: list[str] = []
    for i, ask in enumerate(sentences_asked):
        if i and elaborates(ask, sentences_asked[0]):
            parts[0] = f"{parts[0]} {ask}" if len(parts) == 1 else parts[0]
            continue
        parts.extend(_parts_of_one_ask(ask))
    return parts


def lists_things(text: str) -> bool:
    """Does some sentence of ``text`` list things rather than offer a choice ("budget, dates, venue?")?"""
    for ask in asks(text):
        parts = _parts_of_one_ask(ask)
        if len(parts) > 1 and parts == question_items(_PARENTHESES.sub(" ", ask)):
            return True
    return False


def is_multi_question(text: str) -> bool:
    """Several questions in one, from the text alone (two or more :func:`asked_parts`): "What is the
    budget? When is it?", "What is your budget when is the wedding", "... and when is it?", "the
    budget, and the dates?", "budget, dates, venue?".

    One question is one question however it is dressed: with options ("... such as medication,
    lifestyle changes, or technology?", "Which medium? An article, video, or podcast?"), with why it is
    asked ("... This will help me find recipes."), or with two words for one thing ("dietary
    restrictions or preferences"). Whether its alternatives point at different facts of the task is
    for the simulated user to say (it knows the facts).
    """
    return len(asked_parts(text)) >= 2


def keywords(text: str) -> str:
    """``text`` as a keyword query: its words that are neither filler nor generic ("I'm looking for
    information about dinosaurs." -> "dinosaurs"), in order; the text itself if none are left."""
    words = [w for w in re.findall(r"[A-Za-z0-9$£€%'-]*[A-Za-z0-9]", normalize(text))
             if w.lower() not in _FILLER and _stem(w.lower()) not in _GENERIC and _stem(w.lower()) not in _QUESTION_STEMS
             and not re.fullmatch(r"i'm|i'd|i've|we're|it's|let's", w.lower())]
    return " ".join(words) or text
