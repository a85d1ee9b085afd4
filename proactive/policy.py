"""The policy's side of the conversation: how an assistant is asked to ask.

The paper's policy sees only the under-specified request (and any questions already asked and
answered) and must produce ONE targeted clarifying question. This module builds those chat
messages, so generation, training and evaluation all prompt the model the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from .backends import ChatBackend
from .masking import PartialTask

SYSTEM_PROMPT = (
    "You are an expert assistant. The user's request is missing details that only the user knows. "
    "Before writing anything, ask ONE short, specific question about the most important missing "
    "detail. Do not repeat what the user already said. Reply with the question only."
)


def question_messages(
    partial: PartialTask, history: Sequence[tuple[str, str]] = (), system_prompt: str = SYSTEM_PROMPT
) -> list[dict[str, str]]:
    """Chat messages for asking the next question: system rules, the request, then past Q/A turns."""
    messages = [{"role": "system", "content": system_prompt}, {"role": "user", "content": partial.request}]
    for question, answer in history:
        messages.append({"role": "assistant", "content": question})
        messages.append({"role": "user", "content": answer})
    return messages




def first_question(text: str) -> str:
    """The text up to and including its first '?', on one line (the whole first line if it has none)."""
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    mark = line.find("?")
    return line[: mark + 1] if mark >= 0 else line


def ask(
    backend: ChatBackend,
    partial: PartialTask,
    history: Sequence[tuple[str, str]] = (),
    max_new_tokens: int = 48,
    temperature: float = 0.0,
) -> str:
    """Ask ``backend`` for the next clarifying question on ``partial`` and return it, trimmed."""
    reply = backend.chat(question_messages(partial, history), max_new_tokens=max_new_tokens, temperature=temperature)
    return first_question(reply)
