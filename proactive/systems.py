"""The systems an evaluation compares: question-asking policies and the paper's baselines.

Every system does two things on a PartialTask: ``ask_many`` (the next clarifying question for each
task given its dialogue so far; an empty string means "I know enough, stop asking") and
``write_outlines`` (the final deliverable after the dialogue). Baselines:
- :class:`NoClarification`: writes the outline straight away;
- :class:`TemplateQuestions`: the same generic questions on every task ("Who is this for?" ...);
- ``proactive.policy.LocalPolicy``: a local model, untrained or with a trained LoRA adapter (the
  policy training samples from; it lives with the prompts, below both training and evaluation);
- :class:`OracleWriter`: is given every hidden fact (the upper bound on what questions could buy);
- :class:`EndpointPolicy`: any OpenAI-compatible chat model (e.g. a larger served model).
"""

from __future__ import annotations

from collections.abc import Sequence

from .backends import ChatBackend
from .canned_questions import TEMPLATE_QUESTIONS
from .masking import PartialTask
from .outlines import clean_outline, oracle_request, outline_messages
from .policy import SYSTEM_PROMPT, History, System, first_question, question_messages

#: The endpoint policy's system prompt: the policy's rules plus a way to stop asking.
STOP_WORD = "READY"
ENDPOINT_SYSTEM_PROMPT = SYSTEM_PROMPT + f" If you already know enough to do what they ask well, reply {STOP_WORD} instead."


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
        handed = [oracle_request(p) for p in partials]
        if getattr(self.writer, "writes_notes", False):  # a note for every fact, as for every answer elsewhere
            return self.writer.write_outlines(handed, [()] * len(partials),
                                              details=[[f.statement for f in p.hidden_facts] for p in partials])
        return self.writer.write_outlines(handed, [()] * len(partials))


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
