"""The policy's side of the conversation: how an assistant is asked to ask.

The paper's policy sees only the under-specified request (and any questions already asked and
answered) and must produce ONE targeted clarifying question. This module builds those chat
messages, so generation, training and evaluation all prompt the model the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from .masking import PartialTask

#: The policy's rules, kept short because prompt tokens are most of a GRPO step's cost on CPU. The
#: earlier prompt (91 tokens against 28, with generic example questions such as "What is your
#: budget?") learned no more on 4 training seeds (benchmarks/results/learning_prompts.txt).
SYSTEM_PROMPT = (
    "Ask the user ONE short question about a detail of their request that only they know "
    "and have not given. Reply with the question only."
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


def question_end_ids(tokenizer) -> list[int]:
    """Token ids that end a question: every vocabulary entry containing '?' (``?``, ``?"``, ``)?`` ...).

    Generation stops at the first of them, as an API's ``stop=["?"]`` would: the policy's reply is
    one question, so what a small model writes after it (often the deliverable itself) is never
    read, and in GRPO it would share the question's advantage, which only adds noise to the update."""
    cached = getattr(tokenizer, "_proactive_question_end_ids", None)
    if cached is None:
        cached = sorted(i for token, i in tokenizer.get_vocab().items() if "?" in token)
        try:
            tokenizer._proactive_question_end_ids = cached
        except AttributeError:  # a tokenizer that refuses new attributes: recompute next time
            pass
    return cached


def stop_ids(tokenizer) -> list[int]:
    """End-of-turn plus question-end token ids: where generating one question stops."""
    ids = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    return ids + [i for i in question_end_ids(tokenizer) if i not in ids]


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
    tokenizer, partial: PartialTask, history: Sequence[tuple[str, str]] = (), question_prefix: str = "",
    system_prompt: str = SYSTEM_PROMPT,
) -> str:
    """The exact text a local policy continues: its chat template with the assistant turn opened
    and started with ``question_prefix``. Training and evaluation prompt through this one function."""
    messages = question_messages(partial, history, system_prompt)
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return text + question_prefix


def question_from_completion(completion: str, question_prefix: str = "") -> str:
    """The whole question: the prefix's seed word(s) plus what the policy wrote, trimmed to one question."""
    seed = prefix_seed(question_prefix)
    glued = not seed or completion[:1].isspace() or completion[:1] in "'’?,.!"
    joined = f"{seed}{completion}" if glued else f"{seed} {completion}"
    return first_question(joined)
