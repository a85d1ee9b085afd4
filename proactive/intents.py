"""Which kind of detail a question asks for: the budget, the timeline, the audience, the goal, the
constraints or the preferences.

A person asked "What is your budget?" names their budget, although the question shares no words
with "The grant ceiling is £400,000." The embedding matcher, calibrated on Qulac's web-search
facets, reveals a fact only when the question names its content; on its own it made the simulated
user answer almost every plain "What is the timeline?" with "no particular preference" (3 of 72
category questions about held-out hidden facts got their fact), which is not how the paper's
simulated user behaves and left GRPO nothing to learn from. So the user also reveals a still-hidden
fact of the kind a question clearly asks for. Broad kinds ("specifics", "context") are never
reached this way: a question must name those facts' content.
"""

from __future__ import annotations

import re

#: The cue words that make a question ask for each kind of fact. Kept to words a person would read
#: as asking for exactly that kind; "specifics" and "context" have no cues on purpose.
CATEGORY_CUES: dict[str, re.Pattern] = {
    "budget": re.compile(
        r"\b(?:budget\w*|costs?|costing|spend\w*|afford\w*|price\w*|pricing|fund\w*|money|financ\w*|"
        r"salar\w*|pay|paid|wages?|fees?|how much (?:money|can|will|do|does|are|is))\b", re.IGNORECASE),
    "timeline": re.compile(
        r"\b(?:when|timelines?|time ?frames?|time ?lines?|deadlines?|dates?|how long|how soon|how quickly|by when|"
        r"schedul\w*|timing|duration|due|how much time|urgen\w*)\b", re.IGNORECASE),
    "audience": re.compile(
        r"\b(?:who|whom|audiences?|readers?|attendees?|participants?|learners?|students?|users?|"
        r"customers?|clients?|guests?|patients?|recipients?|target(?:ed)?|demographics?|for whom)\b",
        re.IGNORECASE),
    "goal": re.compile(
        r"\b(?:goals?|purposes?|objectives?|aims?|achieve\w*|outcomes?|success|accomplish\w*|why)\b",
        re.IGNORECASE),
    "constraint": re.compile(
        r"\b(?:constraints?|restrict\w*|requirements?|required|limit\w*|rules?|regulat\w*|complian\w*|"
        r"must|mandatory|can(?:no|')t|not allowed|avoid\w*|obligations?)\b", re.IGNORECASE),
    "preference": re.compile(
        r"\b(?:prefer\w*|style|tone|feel|favou?rite|taste|look and feel|like best|rather)\b", re.IGNORECASE),
}

#: How sure the simulated user is that a plain kind-of-detail question asked for the fact it gets
#: (the reward weights a revealed fact by this). Below a question that names the fact's content,
#: which the matcher usually scores higher: a targeted question still earns more.
CATEGORY_CONFIDENCE = 0.5

#: A question that cues more kinds than this is fishing ("Who is the audience for the budget timeline
#: goal?"), not asking: it gets no fact by kind.
MAX_KINDS_PER_QUESTION = 2


def asked_categories(question: str) -> set[str]:
    """The kinds of fact a question asks for ("When is the launch?" -> {"timeline"})."""
    if not isinstance(question, str):
        return set()
    return {category for category, cue in CATEGORY_CUES.items() if cue.search(question)}
