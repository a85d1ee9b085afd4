"""The policy's side of the conversation: how an assistant is asked to ask.

The paper's policy sees only the under-specified request (and any questions already asked and
answered) and must produce ONE targeted clarifying question. This module builds those chat
messages, so generation, training and evaluation all prompt the model the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from .masking import PartialTask

SYSTEM_PROMPT = (
    "You are an expert assistant. The user's request leaves out details that only the user knows. "
    "Before writing anything, ask ONE short, specific question to find out a detail the user has not given "
    "yet, such as who it is for, how many people, the budget, the dates, or the constraints. "
    "Do not repeat what the user already said. Reply with the question only."
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




LABEL = "Question:"


def first_question(text: str) -> str:
    """The text up to and including its first '?', on one line (the whole first line if it has
    none), without a leading "Question:" label."""
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    if line.lower().startswith(LABEL.lower()):
        line = line[len(LABEL):].strip()
    mark = line.find("?")
    return line[: mark + 1] if mark >= 0 else line


def prefix_seed(question_prefix: str) -> str:
    """The part of the assistant-turn prefix that belongs to the question ("What" of "Question: What")."""
    if question_prefix.lower().startswith(LABEL.lower()):
        return question_prefix[len(LABEL):].strip()
    return question_prefix.strip()


def question_prompt(
    tokenizer, partial: PartialTask, history: Sequence[tuple[str, str]] = (), question_prefix: str = ""
) -> str:
    """The exact text a local policy continues: its chat template with the assistant turn opened
    and started with ``question_prefix``. Training and evaluation prompt through this one function."""
    messages = question_messages(partial, history)
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return text + question_prefix


def question_from_completion(completion: str, question_prefix: str = "") -> str:
    """The whole question: the prefix's seed word(s) plus what the policy wrote, trimmed to one question."""
    seed = prefix_seed(question_prefix)
    glued = not seed or completion[:1].isspace() or completion[:1] in "'’?,.!"
    joined = f"{seed}{completion}" if glued else f"{seed} {completion}"
    return first_question(joined)
