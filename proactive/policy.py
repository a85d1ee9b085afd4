"""The policy's side of the conversation: how an assistant is asked to ask.

The paper's policy sees only the under-specified request (and any questions already asked and
answered) and must produce ONE targeted clarifying question. This module builds those chat
messages, so generation, training and evaluation all prompt the model the same way, and holds
:class:`LocalPolicy`, the local model that asks (and writes outlines) through them: the one policy
training samples from and evaluation compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from .errors import ProactiveError
from .masking import PartialTask
from .outline_notes import (
    NOTE_SAMPLE_TEMPERATURE,
    NOTE_SAMPLES,
    NOTE_TOKENS,
    best_note,
    note_from,
    note_prompt,
    with_notes,
)
from .outlines import clean_outline, first_block, outline_messages, told_details, whole_lines
from .questions import repeats_earlier, restates_request

History = Sequence[tuple[str, str]]

#: How the writer's turn opens: the first bullet of the outline.
OUTLINE_OPENING = "- "


#: A redrawn question is sampled (at least this warm): greedy decoding would draw the same one again.
REDRAW_TEMPERATURE = 0.7

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


class System(Protocol):
    name: str
    #: True for the oracle: it is handed every fact, so it asks nothing and elicits all by construction.
    sees_all_facts: bool

    def ask_many(self, partials: Sequence[PartialTask], histories: Sequence[History] | None = None,
                 temperature: float = 0.0, seed: int = 0) -> list[str]: ...

    def write_outlines(self, partials: Sequence[PartialTask], histories: Sequence[History],
                       temperature: float = 0.0, seed: int = 0) -> list[str]: ...


def outline_prompt(tokenizer: Any, partial: PartialTask, history: History) -> str:
    """The writer's prompt: the outline request in the chat template, its turn opened with :data:`OUTLINE_OPENING`."""
    return tokenizer.apply_chat_template(outline_messages(partial, history), tokenize=False,
                                         add_generation_prompt=True) + OUTLINE_OPENING


def _ticks(bar) -> Any:
    """A stopping criterion that never stops: it moves ``bar`` one token per generation step."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class Ticks(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            bar.update(1)
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([Ticks()])


class LocalPolicy:
    """A local causal LM (base model or base + LoRA adapter): asks questions and writes outlines in batches."""

    sees_all_facts = False
    #: Its outlines end with a note per detail the user gave (:meth:`write_notes`); the oracle hands it its facts.
    writes_notes = True

    def __init__(self, model: Any, tokenizer: Any, question_prefix: str = "", max_new_tokens: int = 24,
                 name: str = "policy", outline_tokens: int = 128, batch_size: int = 16, redraws: int = 0,
                 writes_with_adapter: bool = False, note_samples: int = NOTE_SAMPLES):
        self.model = model
        #: Whether outlines are written with the LoRA adapter on. Off by default: an adapter trained to ask
        #: writes poor outlines (on make demo's 24 held-out tasks they stopped after one line), and with it
        #: off every system's outline comes from the same writer, so only the dialogues differ.
        self.writes_with_adapter = writes_with_adapter
        self.redraws = redraws
        #: Notes sampled beside each greedy one to choose from (:meth:`write_notes`); 0: the greedy note.
        self.note_samples = note_samples
        self.tokenizer = tokenizer
        self.question_prefix = question_prefix
        self.max_new_tokens = max_new_tokens
        self.outline_tokens = outline_tokens
        self.batch_size = batch_size
        self.name = name
        #: The model that writes this system's outlines, when not this one: a note writer trained by writer
        #: RFT (:mod:`proactive.outline_rft`), shared by every system so only the dialogues differ.
        self.writer: LocalPolicy | None = None
        #: Whether the notes (:mod:`proactive.outline_notes`) are written with the LoRA adapter on: a note
        #: writer trained by writer RFT writes them with its own; anything else with the base weights.
        self.notes_with_adapter = False
        #: Greedy plans written so far, by prompt (:meth:`plans`), and greedy notes, by sentence
        #: (:meth:`write_notes`); each also by whether the adapter was on for it.
        self._plans: dict[tuple[str, bool], str] = {}
        self._notes: dict[tuple[str, bool], str] = {}

    def _generate(self, prompts: Sequence[str], max_new_tokens: int, temperature: float, seed: int,
                  stop: Sequence[int] | None = None, ended: list[bool] | None = None,
                  what: str = "questions") -> list[str]:
        """Completions of ``prompts`` in left-padded batches; ``ended`` (a list) receives, per prompt,
        whether the model ended its text itself (an end token) rather than running out of tokens. ``what``
        they are ("questions", "outlines", "notes") names the progress bar."""
        import torch
        from tqdm.auto import tqdm

        side, self.tokenizer.padding_side = self.tokenizer.padding_side, "left"
        texts: list[str] = []
        starts = range(0, len(prompts), self.batch_size)
        # A bar, gone when done, for questions in more than one batch (sampled dialogues, RFT's rounds) and for outlines.
        # Outlines are long (about a minute for 24 on 2 cores, often one batch): their bar counts the tokens
        # written, batch after batch; questions are short, so theirs counts batches.
        tokens = what == "outlines"
        bar = tqdm(total=len(starts) * (max_new_tokens if tokens else 1), desc=f"{self.name}: {what} for {len(prompts)} prompts",
                   unit="token" if tokens else "batch", leave=False, disable=len(starts) < 2 and not tokens)
        try:
            torch.manual_seed(seed)
            for number, start in enumerate(starts, 1):
                batch = self.tokenizer(list(prompts[start : start + self.batch_size]), return_tensors="pt",
                                       padding=True, add_special_tokens=False).to(self.model.device)
                self._check_fits(batch["input_ids"].shape[1], max_new_tokens)
                kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "pad_token_id": self.tokenizer.pad_token_id}
                if stop:
                    kwargs["eos_token_id"] = list(stop)
                if tokens and not bar.disable:
                    kwargs["stopping_criteria"] = _ticks(bar)
                if temperature > 0:
                    kwargs.update(do_sample=True, temperature=temperature, top_p=1.0, top_k=0)
                else:
                    kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
                with torch.no_grad():
                    out = self.model.generate(**batch, **kwargs)
                new = out[:, batch["input_ids"].shape[1]:]
                texts += self.tokenizer.batch_decode(new, skip_special_tokens=True)
                if ended is not None:
                    ends = set(stop or ()) | {self.tokenizer.eos_token_id}
                    ended += [bool(ends & set(row.tolist())) or len(row) < max_new_tokens for row in new]
                bar.update(bar.total // len(starts) * number - bar.n)  # a batch that ended early: its whole share
        finally:
            bar.close()
            self.tokenizer.padding_side = side
        return texts

    def _check_fits(self, prompt_tokens: int, max_new_tokens: int) -> None:
        """A prompt and what is written after it must fit the model's context, or one line says so
        (past it a model writes nonsense, slowly)."""
        context = getattr(getattr(self.model, "config", None), "max_position_embeddings", None)
        if isinstance(context, int) and prompt_tokens + max_new_tokens > context:
            raise ProactiveError(f"{self.name}: a prompt of {prompt_tokens:,} tokens and {max_new_tokens} to write do "
                                 f"not fit the model's context of {context:,} tokens; shorten the task's request "
                                 "or its dialogue")

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
        questions = [question_from_completion(t, o) for t, o in zip(texts, openings)]
        for attempt in range(self.redraws):
            stale = [i for i, q in enumerate(questions) if self.stale(q, partials[i], histories[i])]
            if not stale:
                break
            texts = self._generate([prompts[i] for i in stale], self.max_new_tokens, max(temperature, REDRAW_TEMPERATURE),
                                   seed + 1 + attempt, stop=stop_ids(self.tokenizer))
            for i, text in zip(stale, texts):
                questions[i] = question_from_completion(text, openings[i])
        return questions

    @staticmethod
    def stale(question: str, partial: PartialTask, history: History) -> bool:
        """A question the policy can tell is wasted without asking it: it repeats one it asked earlier in
        this dialogue, or it only restates the request (``questions.repeats_earlier`` and
        ``restates_request``). The policy sees only the request and its own dialogue, never the facts."""
        return repeats_earlier(question, [q for q, _ in history]) or restates_request(question, partial.request)

    def _writer_weights(self, adapter_on: bool):
        """The weights an outline's plan or notes are written with: the base model's (a PEFT adapter switched
        off for the while) unless ``adapter_on`` (:attr:`writes_with_adapter`, :attr:`notes_with_adapter`);
        a model without an adapter writes as it is."""
        import contextlib

        disable = getattr(self.model, "disable_adapter", None)
        return contextlib.nullcontext() if adapter_on or disable is None else disable()

    def write_outlines(self, partials: Sequence[PartialTask], histories: Sequence[History],
                       temperature: float = 0.0, seed: int = 0,
                       details: Sequence[Sequence[str]] | None = None) -> list[str]:
        """The final outline for each task after its dialogue (greedy unless ``temperature``): the plan for
        the request (:meth:`plans`), then a note for each detail the user gave (``details``; by default the
        answers that gave one, ``outlines.told_details``), each written on its own (:meth:`write_notes`).
        With a :attr:`writer` (a note writer trained by writer RFT), that model writes."""
        if self.writer is not None:
            return self.writer.write_outlines(partials, histories, temperature, seed, details)
        plans = self.plans(partials, temperature, seed)
        details = [told_details(h) for h in histories] if details is None else details
        notes = self.write_notes([d for task in details for d in task], temperature, seed)
        start, written = 0, []
        for plan, task in zip(plans, details):
            written.append(with_notes(plan, notes[start : start + len(task)]))
            start += len(task)
        return written

    def plans(self, partials: Sequence[PartialTask], temperature: float = 0.0, seed: int = 0) -> list[str]:
        """The writer's plan of the deliverable for each request, from the request alone: what the user said
        in the dialogue goes in as notes, so every system's outline for a task starts from the same plan and
        only what its questions drew out differs (written with the dialogue in the prompt, the 135M writer's
        plan changed with it and dropped the request's own points: benchmarks/README). Greedy plans are kept
        and reused (:attr:`_plans`): every system writes the same one. The turn opens with
        :data:`OUTLINE_OPENING`, so the model writes the deliverable rather than "I'm ready, go ahead"; a plan
        ends where the model ends it or by the stop rule (``outlines.first_block``); one that runs out of
        ``outline_tokens`` before either is cut at its last complete line and marked (``outlines.CUT_MARK``:
        left out of coverage)."""
        prompts = [outline_prompt(self.tokenizer, p, ()) for p in partials]
        keys = [(prompt, self.writes_with_adapter) for prompt in prompts]
        keep = temperature == 0  # a sampled plan is a sample: written afresh
        todo = ([keys.index(k) for k in dict.fromkeys(keys) if k not in self._plans] if keep
                else list(range(len(prompts))))
        if todo:
            # No repetition penalty: transformers applies it to the prompt's tokens too, so the writer would
            # avoid copying the very facts it was told (measured: oracle coverage 0.33 -> 0.00). Loops that
            # greedy decoding falls into are ended by the stop rule instead.
            ended: list[bool] = []
            with self._writer_weights(self.writes_with_adapter):
                texts = self._generate([prompts[i] for i in todo], self.outline_tokens, temperature, seed, ended=ended,
                                       what="outlines")
            written = {}
            for i, text, done in zip(todo, texts, ended):
                plan, stopped = first_block(OUTLINE_OPENING + text.lstrip(" "))  # "- " + "History" or " History"
                written[i] = clean_outline(whole_lines(plan, done or stopped))
                if keep:
                    self._plans[keys[i]] = written[i]
        return [self._plans[key] if keep else written[i] for i, key in enumerate(keys)]

    def write_notes(self, details: Sequence[str], temperature: float = 0.0, seed: int = 0) -> list[str]:
        """One outline line per sentence the user gave (:func:`outline_notes.note_from`; "" where the
        writer wrote nothing), with the note writer's adapter on where it has one (:attr:`notes_with_adapter`).
        Greedy, each note is chosen from the greedy one and :attr:`note_samples` sampled ones: the one that
        writes the most of the sentence in without copying it or changing a number
        (``outline_notes.best_note``, which reads only the sentence and the notes, never the hidden facts).
        Chosen notes are kept and reused (:attr:`_notes`): the same sentence gets the same note in every
        system's outline (samples depend on their batch, so it would otherwise differ from system to system)."""
        if not details:
            return []
        if temperature == 0:
            adapter = self.notes_with_adapter
            new = list(dict.fromkeys(d for d in details if (d, adapter) not in self._notes))
            if new:
                self._notes.update(zip([(d, adapter) for d in new], self._write_notes(new, 0.0, seed)))
            return [self._notes[d, adapter] for d in details]
        return self._write_notes(details, temperature, seed)

    def _write_notes(self, details: Sequence[str], temperature: float, seed: int) -> list[str]:
        """:meth:`write_notes` without the kept notes: written now; greedy ones chosen among samples too."""
        prompts = [note_prompt(self.tokenizer, d) for d in details]
        with self._writer_weights(self.notes_with_adapter):
            notes = [note_from(text) for text in self._generate(prompts, NOTE_TOKENS, temperature, seed, what="notes")]
            samples = self.note_samples if temperature == 0 else 0
            if not samples:
                return notes
            # All samples in one call: fuller batches than one call per sample.
            texts = self._generate(prompts * samples, NOTE_TOKENS, NOTE_SAMPLE_TEMPERATURE, seed + 1, what="notes")
        sampled = [note_from(text) for text in texts]
        return [best_note([note, *sampled[i::len(details)]], detail)
                for i, (note, detail) in enumerate(zip(notes, details))]
