"""Notes: the writer puts each detail the user gave into a line of the outline, one detail at a time.

The paper's deliverable is the outline written after the questions; it should carry what they drew out.
A 135M writer asked for a whole outline after a dialogue drops most of the answers (on ``make demo``'s
held-out tasks it used 0.19 of what the trained policy's dialogues drew out). Asked about one answer at a
time ("rewrite this as a note for the outline") it often can: the best of 8 sampled notes covers 0.77 of
the details in its own words, the greedy one 0.23 (benchmarks/README). So the final outline is the
writer's plan for the request (from the request alone, the same for every system), then one note per detail
the user gave (:func:`with_notes`); writer RFT (:mod:`proactive.outline_rft`) fine-tunes the note writer on its
own best notes, and each note is chosen from the writer's greedy note and several sampled ones: the one
that writes the most of the sentence in without copying it or changing a number (:func:`best_note`).

A note is judged as any outline line is (:mod:`proactive.coverage`): one that pastes the user's sentence
covers nothing, so the writer cannot score by copying the answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .coverage import copied_share
from .outlines import CUT_MARK, _line_key, is_cut, without_mark
from .questions import content_words

#: The note writer's rules: the user's sentence alone is in its prompt (not the request, which a small
#: model copies from instead: with the request beside the detail the best of 8 covered 0.36-0.41).
NOTE_SYSTEM_PROMPT = (
    "Rewrite the user's sentence as a short note for an outline: a heading, a colon, then the key facts "
    "in a few words. Reply with the note only."
)
#: How the note writer's turn opens: the bullet, its space left to the first word's token (" Budget").
NOTE_OPENING = "-"
#: A note is one line: more tokens than this and the writer has moved on to something else.
NOTE_TOKENS = 32
#: Beside its greedy note, the writer samples this many notes of each sentence (at
#: :data:`NOTE_SAMPLE_TEMPERATURE`) and keeps the one that writes the most of the sentence in
#: (:func:`best_note`). On 200 sentences the note writer never trained on (the corpus's validation tasks and
#: IN3 training tasks past the demo's 48; make demo's trained note writer), the judge counted 0.745 covered
#: when a greedy note that failed :func:`keeps` gave way to the first of 4 samples that kept it (the rule
#: before), 0.81 with :func:`best_note` of greedy + 4 samples, 0.855 of greedy + 8 (benchmarks/note_choice.py).
#: The profile's ``note_samples`` sets it (cpu-smoke: 2).
NOTE_SAMPLES = 8
NOTE_SAMPLE_TEMPERATURE = 0.8


#: A kept note repeats at most this share of the user's sentence in one unbroken run: stricter than the
#: judge's paste rule (0.6), so the writer learns to write the detail in, not to copy it a word short of a
#: paste. Measured on make demo's held-out details (benchmarks/README): the greedy writer fine-tuned on
#: notes chosen by closeness alone copied the answers.
KEPT_COPY_SHARE = 0.5

_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
#: Numbers written as words count as the numbers they are ("five weeks" is "5 weeks").
_NUMBER_WORDS = {w: str(i) for i, w in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"))}


def same_numbers(note: str, detail: str) -> bool:
    """Whether ``note`` states exactly the numbers ``detail`` states ("18,000" and "18000", "five" and "5"
    alike): a note that changes or invents a number misinforms, however close it reads."""
    def numbers(text: str) -> set[str]:
        words = {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS}
        return {n.replace(",", "") for n in _NUMBER.findall(text)} | words

    return numbers(note) == numbers(detail)


#: A kept note repeats at least this share of the sentence's content words (``questions.content_words``), in
#: any order: one that keeps fewer has drifted to something else ("This is for a fifth-grade class of 24." ->
#: "The 24th graders are going to the science fair tomorrow."). Chosen on writer RFT's own training samples
#: (make demo's 163 training sentences, 6 notes each, 542 that keep the numbers and copy at most half): at
#: 0.25, 95% of the notes that cover their sentence under the judge pass and 24% of those that do not.
KEPT_WORD_SHARE = 0.25


def shared_words(note: str, detail: str) -> float:
    """The share of ``detail``'s content words that ``note`` has too (1 for a detail without any)."""
    said = content_words(detail)
    return len(said & content_words(note)) / len(said) if said else 1.0


def keeps(note: str, detail: str) -> bool:
    """Whether ``note`` writes the user's ``detail`` in rather than copying it or saying something else: its
    numbers are the detail's, it copies at most :data:`KEPT_COPY_SHARE` of the detail in one run, and it has
    at least :data:`KEPT_WORD_SHARE` of the detail's content words. Writer RFT keeps only such notes, and the
    writer chooses among such notes (:func:`best_note`). It reads the two texts alone."""
    return (same_numbers(note, detail) and copied_share(note.lstrip("- "), detail) <= KEPT_COPY_SHARE
            and shared_words(note, detail) >= KEPT_WORD_SHARE)


def best_note(notes: Sequence[str], detail: str) -> str:
    """Of one sentence's written ``notes`` (the greedy one first, then samples), the one that :func:`keeps`
    it with the most of its content words (:func:`shared_words`; the earlier on a tie); the first when none
    keeps it ("" when there is none). It reads the sentence and the notes alone, never the hidden facts, so
    a reader's note writer can do the same."""
    kept = [note for note in notes if note and keeps(note, detail)]
    if kept:
        return max(kept, key=lambda note: shared_words(note, detail))  # max keeps the first of equals
    return notes[0] if notes else ""


def note_prompt(tokenizer: Any, detail: str) -> str:
    """The note writer's prompt for one of the user's sentences, its turn opened with :data:`NOTE_OPENING`."""
    messages = [{"role": "system", "content": NOTE_SYSTEM_PROMPT}, {"role": "user", "content": detail}]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) + NOTE_OPENING


def note_from(text: str) -> str:
    """A generated note as an outline line: the bullet, then the first line written; "" when it wrote
    nothing there (an empty bullet adds nothing to an outline)."""
    line = text.split("\n", 1)[0].strip()
    return f"- {line.lstrip('-').strip()}" if line.lstrip("-").strip() else ""


def with_notes(outline: str, notes: Sequence[str]) -> str:
    """The outline, then each note it does not already have as a line (a cut outline stays marked cut:
    its plan never finished)."""
    body = without_mark(outline).rstrip()
    seen = {_line_key(line) for line in body.splitlines()}
    added = []
    for note in notes:
        key = _line_key(note)
        if key and key not in seen:
            seen.add(key)
            added.append(note)
    text = "\n".join(part for part in (body, *added) if part)
    return f"{text}\n{CUT_MARK}" if is_cut(outline) else text
