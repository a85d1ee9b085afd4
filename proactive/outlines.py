"""The final deliverable: after the questions, the assistant writes the outline the request asks for.

The paper judges a clarifying dialogue by what it buys: an outline that reflects the user's real
situation. The writer sees the request and the whole dialogue (its questions and the user's
answers); the oracle writer sees every fact instead (the upper bound no interviewer can beat).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from .masking import PartialTask

OUTLINE_SYSTEM_PROMPT = (
    "You are an expert assistant. Write the outline the user asked for, as short bullet points. "
    "Use every detail the user gave you, in the request and in their answers. Reply with the outline only."
)

#: What the user says once the questions are over.
WRITE_NOW = "Thanks. Please write the outline now."


def outline_messages(partial: PartialTask, history: Sequence[tuple[str, str]] = ()) -> list[dict[str, str]]:
    """Chat messages that ask for the final outline: rules, the request, every Q/A turn, then 'write it'
    with the details the answers gave listed once more. A 135M writer loses answers spread over the
    turns: on make demo's 24 held-out tasks (the trained policy's dialogues) the outline used 0.08 of
    what its dialogue drew out with the turns alone, 0.23 with the answers listed (benchmarks/README)."""
    messages = [{"role": "system", "content": OUTLINE_SYSTEM_PROMPT}, {"role": "user", "content": partial.request}]
    for question, answer in history:
        messages.append({"role": "assistant", "content": question})
        messages.append({"role": "user", "content": answer})
    if history:
        messages.append({"role": "assistant", "content": "Thank you, that helps."})
    told = told_details(history)
    messages.append({"role": "user", "content": WRITE_NOW + ("\n\nThe details I gave you:\n" + "\n".join(
        f"- {detail}" for detail in told) if told else "")})
    return _merge_consecutive(messages)


def told_details(history: Sequence[tuple[str, str]]) -> list[str]:
    """The answers that gave a detail: not a decline ("I don't have a particular preference ..."), a
    request for one question at a time, or a pointer back to the request ("I already mentioned that")."""
    from .simulator import ALREADY_MENTIONED, NO_PREFERENCE, OFF_TOPIC_ANSWER, ONE_AT_A_TIME

    declines = {NO_PREFERENCE, OFF_TOPIC_ANSWER, ONE_AT_A_TIME}
    told: list[str] = []
    for _, answer in history:
        answer = answer.strip()
        if answer and answer not in declines and not answer.startswith(ALREADY_MENTIONED) and answer not in told:
            told.append(answer)
    return told


def oracle_request(partial: PartialTask) -> PartialTask:
    """The same task with every hidden fact written into the request: what an oracle writer reads."""
    from dataclasses import replace

    told = " ".join(f.statement for f in partial.hidden_facts)
    return replace(partial, request=f"{partial.request}\n\nMore details: {told}")


def _merge_consecutive(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    # Some chat templates reject two user turns in a row (request, then "write it now").
    merged: list[dict[str, str]] = []
    for message in messages:
        if merged and merged[-1]["role"] == message["role"]:
            merged[-1] = {"role": message["role"], "content": f"{merged[-1]['content']}\n\n{message['content']}"}
        else:
            merged.append(dict(message))
    return merged


#: The last line of an outline the writer did not finish (it ran out of tokens): shown to a reader
#: as written, and left out of outline coverage, which would otherwise count its missing end as
#: facts the dialogue failed to gather (``evaluation.system_metrics`` reports how many were cut).
CUT_MARK = "[cut: the writer ran out of tokens]"


def is_cut(outline: str) -> bool:
    """Whether ``outline`` carries :data:`CUT_MARK`: the writer did not finish it."""
    return outline.rstrip().endswith(CUT_MARK)


def without_mark(outline: str) -> str:
    """The outline's text without :data:`CUT_MARK`: what a judge reads."""
    return outline.rstrip()[: -len(CUT_MARK)].rstrip() if is_cut(outline) else outline


def _line_key(line: str) -> str:
    """What a line says, without its bullet or number: "- 7. Headache history" repeats "- 6. Headache history"
    (a small model loops through numbered lines too)."""
    return _LIST_MARK.sub("", line).strip().lower()


#: A line's bullet and list number ("- ", "* 7. ", "3) "), not a number it states ("- 20 guests").
_LIST_MARK = re.compile(r"^\s*(?:[-*•#]+\s*)*(?:\d+[.)]\s+)?")


#: The most points an outline has: the shape asked for is short, and a 135M writer that goes on past
#: this many lines is listing (times of day, "Guests: 100" x 7) until it runs out of tokens.
OUTLINE_MAX_LINES = 8


def first_block(text: str, min_lines: int = 2, max_lines: int = OUTLINE_MAX_LINES) -> tuple[str, bool]:
    """The writer's stop rule: once an outline has ``min_lines`` lines it ends at its first blank line
    (a list of bullet points is over before the small model moves on to a letter or a question to
    itself) or at the first line it already wrote (the model has started to loop); it ends at
    ``max_lines`` lines, at a line that says after its heading what two lines before it said (:func:`_body`:
    "- 3:30: The organisers will provide ..." again and again under new headings), and at a second bullet
    with nothing after it ("-" alone, another loop a small model falls into; such bullets are dropped).
    Returns the outline and whether the rule ended it."""
    kept: list[str] = []
    seen: set[str] = set()
    bodies: Counter[str] = Counter()  # what lines say after their heading, and how often
    written = 0  # non-blank lines kept so far
    bare = 0  # bullets with nothing after them
    for line in text.strip().split("\n"):
        key = _line_key(line)
        if not key and line.strip():
            bare += 1
            if bare > 1:
                return "\n".join(kept).rstrip(), True
            continue
        if written >= min_lines and (not key or key in seen):
            return "\n".join(kept).rstrip(), True
        if written >= max_lines and key:
            return "\n".join(kept).rstrip(), True
        body = _body(key)
        if body and bodies[body] >= LOOP_BODIES:
            return "\n".join(kept).rstrip(), True
        if body:
            bodies[body] += 1
        seen.add(key)
        written += bool(key)
        looped = _inline_loop_start(line)
        if looped is not None:  # "20 a day, type 2 diabetes, 20 a day, type 2 ...": over where it repeats
            kept.append(line[:looped].rstrip(" ,;"))
            return "\n".join(kept).rstrip(), True
        kept.append(line)
    return "\n".join(kept) if bare else text, False


#: A line whose body two earlier lines already had ends the outline: the writer is looping under new headings.
LOOP_BODIES = 2
#: Bodies shorter than this many words ("TBD", "10") may recur in an outline that is not looping.
LOOP_BODY_WORDS = 4


def _body(key: str) -> str:
    """What a line (its :func:`_line_key`) says after its heading ("8:30-9:00: the hall costs 300" says "the
    hall costs 300"), punctuation and case aside; "" when that is under :data:`LOOP_BODY_WORDS` words."""
    words = re.findall(r"[a-z0-9$%]+", key.split(": ", 1)[-1])
    return " ".join(words) if len(words) >= LOOP_BODY_WORDS else ""


#: A run of at least 6 characters written three times in a row ("2022-01-01-2022-01-01-2022-01-01-"): a loop
#: with no comma in it, which a small model falls into inside a line too.
_REPEATED_RUN = re.compile(r"(.{6,}?)\1\1")


def _inline_loop_start(line: str) -> int | None:
    """Where a line starts to repeat its own comma-separated items, or a run of characters three times in
    a row (the small model loops inside a line too), or None."""
    seen: set[str] = set()
    position = 0
    starts = []
    for item in line.split(","):
        key = _line_key(item)
        if key and key in seen and position:
            starts.append(position)
            break
        seen.add(key)
        position += len(item) + 1
    repeated = _REPEATED_RUN.search(line)
    if repeated:
        starts.append(repeated.start() + len(repeated.group(1)))  # keep the run once
    return min(starts) if starts else None


def whole_lines(text: str, ended: bool) -> str:
    """``text`` as written if the model ended it; if it ran out of tokens, cut at the last line break
    (the unfinished line goes; a text of one unfinished line is kept, ending in "...") and marked
    with :data:`CUT_MARK` on a line of its own."""
    if ended:
        return text
    head, newline, _ = text.rstrip().rpartition("\n")
    kept = head.rstrip() if newline and head.strip() else text.rstrip() + " ..."
    return f"{kept}\n{CUT_MARK}"


def clean_outline(text: str, max_chars: int = 2000) -> str:
    """The outline as written, without lines it already wrote (small models loop: "References" x 30),
    trimmed and cut at ``max_chars`` (at a line break where there is one, then marked as cut)."""
    cut = is_cut(text)
    seen: set[str] = set()
    kept = []
    for line in without_mark(text).strip().splitlines():
        key = _line_key(line)
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(line.rstrip())
    outline = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    if len(outline) > max_chars:
        outline, cut = whole_lines(outline[:max_chars], ended=False).removesuffix(CUT_MARK).rstrip(), True
    return f"{outline}\n{CUT_MARK}" if cut else outline
