"""The final deliverable: after the questions, the assistant writes the outline the request asks for.

The paper judges a clarifying dialogue by what it buys: an outline that reflects the user's real
situation. The writer sees the request and the whole dialogue (its questions and the user's
answers); the oracle writer sees every fact instead (the upper bound no interviewer can beat).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .masking import PartialTask

OUTLINE_SYSTEM_PROMPT = (
    "You are an expert assistant. Write the outline the user asked for, as short bullet points. "
    "Use every detail the user gave you, in the request and in their answers. Reply with the outline only."
)

#: What the user says once the questions are over.
WRITE_NOW = "Thanks. Please write the outline now."


def outline_messages(partial: PartialTask, history: Sequence[tuple[str, str]] = ()) -> list[dict[str, str]]:
    """Chat messages that ask for the final outline: rules, the request, every Q/A turn, then 'write it'."""
    messages = [{"role": "system", "content": OUTLINE_SYSTEM_PROMPT}, {"role": "user", "content": partial.request}]
    for question, answer in history:
        messages.append({"role": "assistant", "content": question})
        messages.append({"role": "user", "content": answer})
    if history:
        messages.append({"role": "assistant", "content": "Thank you, that helps."})
    messages.append({"role": "user", "content": WRITE_NOW})
    return _merge_consecutive(messages)


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


def whole_lines(text: str, ended: bool) -> str:
    """``text`` as written if the model ended it; cut at the last line break if it ran out of tokens
    (the unfinished line goes; a text of one unfinished line is kept, ending in "...")."""
    if ended:
        return text
    head, newline, _ = text.rstrip().rpartition("\n")
    return head.rstrip() if newline and head.strip() else text.rstrip() + " ..."


def clean_outline(text: str, max_chars: int = 2000) -> str:
    """The outline as written, without lines it already wrote (small models loop: "References" x 30),
    trimmed and cut at ``max_chars``."""
    seen: set[str] = set()
    kept = []
    for line in text.strip().splitlines():
        key = line.strip().lower()
        if key and key in seen:
            continue
        seen.add(key)
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()[:max_chars]
