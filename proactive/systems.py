"""The systems an evaluation compares: question-asking policies and the paper's baselines.

Every system does two things on a PartialTask: ``ask_many`` (the next clarifying question for each
task given its dialogue so far; an empty string means "I know enough, stop asking") and
``write_outlines`` (the final deliverable after the dialogue). Baselines:
- :class:`NoClarification`: writes the outline straight away;
- :class:`TemplateQuestions`: the same generic questions on every task ("Who is this for?" ...);
- :class:`LocalPolicy`: a local model, untrained or with a trained LoRA adapter;
- :class:`OracleWriter`: is given every hidden fact (the upper bound on what questions could buy);
- :class:`EndpointPolicy`: any OpenAI-compatible chat model (e.g. a larger served model).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from .backends import ChatBackend
from .intents import KIND_QUESTIONS
from .masking import PartialTask
from .outlines import clean_outline, oracle_request, outline_messages
from .policy import (
    SYSTEM_PROMPT,
    first_question,
    question_from_completion,
    question_messages,
    question_prompt,
    stop_ids,
)

History = Sequence[tuple[str, str]]

#: Generic questions a template baseline asks, in this order, whatever the task.
TEMPLATE_QUESTIONS = tuple(KIND_QUESTIONS[k] for k in ("audience", "budget", "timeline", "constraint", "preference"))

#: The endpoint policy's system prompt: the policy's rules plus a way to stop asking.
STOP_WORD = "READY"
ENDPOINT_SYSTEM_PROMPT = SYSTEM_PROMPT + f" If you already know enough to do what they ask well, reply {STOP_WORD} instead."


class System(Protocol):
    name: str
    #: True for the oracle: it is handed every fact, so it asks nothing and elicits all by construction.
    sees_all_facts: bool

    def ask_many(self, partials: Sequence[PartialTask], histories: Sequence[History] | None = None,
                 temperature: float = 0.0, seed: int = 0) -> list[str]: ...

    def write_outlines(self, partials: Sequence[PartialTask], histories: Sequence[History]) -> list[str]: ...


class LocalPolicy:
    """A local causal LM (base model or base + LoRA adapter): asks questions and writes outlines in batches."""

    sees_all_facts = False

    def __init__(self, model: Any, tokenizer: Any, question_prefix: str = "", max_new_tokens: int = 24,
                 name: str = "policy", outline_tokens: int = 128, batch_size: int = 16):
        self.model = model
        self.tokenizer = tokenizer
        self.question_prefix = question_prefix
        self.max_new_tokens = max_new_tokens
        self.outline_tokens = outline_tokens
        self.batch_size = batch_size
        self.name = name

    def _generate(self, prompts: Sequence[str], max_new_tokens: int, temperature: float, seed: int,
                  stop: Sequence[int] | None = None) -> list[str]:
        import torch

        side, self.tokenizer.padding_side = self.tokenizer.padding_side, "left"
        texts: list[str] = []
        try:
            torch.manual_seed(seed)
            for start in range(0, len(prompts), self.batch_size):
                batch = self.tokenizer(list(prompts[start : start + self.batch_size]), return_tensors="pt",
                                       padding=True, add_special_tokens=False).to(self.model.device)
                kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id}
                if stop:
                    kwargs["eos_token_id"] = list(stop)
                if temperature > 0:
                    kwargs.update(do_sample=True, temperature=temperature, top_p=1.0, top_k=0)
                else:
                    kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
                with torch.no_grad():
                    out = self.model.generate(**batch, **kwargs)
                texts += self.tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
        finally:
            self.tokenizer.padding_side = side
        return texts

    def ask_many(self, partials: Sequence[PartialTask], histories: Sequence[History] | None = None,
                 temperature: float = 0.0, seed: int = 0, batch_size: int | None = None,
                 system_prompts: Sequence[str] | None = None, prefixes: Sequence[str] | None = None) -> list[str]:
        """One question per task (greedy at temperature 0), generated in left-padded batches.
        ``system_prompts`` and ``prefixes`` (one per task) replace the policy's rules and its
        assistant-turn opening, e.g. with RFT's hints."""
        if batch_size:
            self.batch_size = batch_size
        histories = histories or [()] * len(partials)
        rules = system_prompts or [SYSTEM_PROMPT] * len(partials)
        openings = prefixes or [self.question_prefix] * len(partials)
        prompts = [question_prompt(self.tokenizer, p, h, o, r)
                   for p, h, r, o in zip(partials, histories, rules, openings)]
        # Stopping at the question's '?' (as training does) changes no question, only saves the tokens after it.
        texts = self._generate(prompts, self.max_new_tokens, temperature, seed, stop=stop_ids(self.tokenizer))
        return [question_from_completion(t, o) for t, o in zip(texts, openings)]

    def write_outlines(self, partials: Sequence[PartialTask], histories: Sequence[History]) -> list[str]:
        """The final outline for each task after its dialogue (greedy)."""
        prompts = [self.tokenizer.apply_chat_template(outline_messages(p, h), tokenize=False, add_generation_prompt=True)
                   for p, h in zip(partials, histories)]
        # No repetition penalty: transformers applies it to the prompt's tokens too, so the writer would
        # avoid copying the very facts it was told (measured: oracle coverage 0.33 -> 0.00). Loops that
        # greedy decoding falls into are cut by clean_outline instead.
        return [clean_outline(t) for t in self._generate(prompts, self.outline_tokens, 0.0, 0)]


class _Asks:
    """A baseline whose outlines come from another system (its ``writer``)."""

    sees_all_facts = False

    def __init__(self, writer: System, name: str):
        self.writer = writer
        self.name = name

    def write_outlines(self, partials: Sequence[PartialTask], histories: Sequence[History]) -> list[str]:
        return self.writer.write_outlines(partials, histories)


class NoClarification(_Asks):
    """Asks nothing: the outline is written from the partial request alone."""

    def __init__(self, writer: System, name: str = "no clarification"):
        super().__init__(writer, name)

    def ask_many(self, partials, histories=None, temperature=0.0, seed=0) -> list[str]:
        return [""] * len(partials)


class TemplateQuestions(_Asks):
    """Asks ``TEMPLATE_QUESTIONS`` in order on every task: generic questions, no reading of the request."""

    def __init__(self, writer: System, name: str = "template questions", questions: Sequence[str] = TEMPLATE_QUESTIONS):
        super().__init__(writer, name)
        self.questions = tuple(questions)

    def ask_many(self, partials, histories=None, temperature=0.0, seed=0) -> list[str]:
        histories = histories or [()] * len(partials)
        return [self.questions[len(h)] if len(h) < len(self.questions) else "" for h in histories]


class OracleWriter(_Asks):
    """Is given every hidden fact and writes from the full request: the upper bound."""

    sees_all_facts = True

    def __init__(self, writer: System, name: str = "oracle (sees all facts)"):
        super().__init__(writer, name)

    def ask_many(self, partials, histories=None, temperature=0.0, seed=0) -> list[str]:
        return [""] * len(partials)

    def write_outlines(self, partials: Sequence[PartialTask], histories: Sequence[History]) -> list[str]:
        return self.writer.write_outlines([oracle_request(p) for p in partials], [()] * len(partials))


class EndpointPolicy:
    """Any chat backend (an OpenAI-compatible endpoint) as interviewer and writer; may stop asking early."""

    sees_all_facts = False

    def __init__(self, backend: ChatBackend, name: str | None = None, outline_tokens: int = 600):
        self.backend = backend
        self.name = name or getattr(backend, "name", "endpoint")
        self.outline_tokens = outline_tokens

    def ask_many(self, partials, histories=None, temperature=0.0, seed=0) -> list[str]:
        histories = histories or [()] * len(partials)
        questions = []
        for partial, history in zip(partials, histories):
            reply = self.backend.chat(question_messages(partial, history, ENDPOINT_SYSTEM_PROMPT),
                                      max_new_tokens=96, temperature=temperature)
            stop = STOP_WORD.lower() in reply.lower() and "?" not in reply
            questions.append("" if stop else first_question(reply))
        return questions

    def write_outlines(self, partials: Sequence[PartialTask], histories: Sequence[History]) -> list[str]:
        return [clean_outline(self.backend.chat(outline_messages(p, h), max_new_tokens=self.outline_tokens))
                for p, h in zip(partials, histories)]
