"""Rejection-sampling fine-tuning (RFT, expert iteration) over whole dialogues.

The paper's "reinforcement finetuning" implies a step GRPO on single questions lacks: credit for a
*dialogue*. Each round samples a group of complete dialogues per training task from the current
policy against the simulated user (:func:`proactive.dialogues.run_dialogues`, the loop evaluation
uses), keeps the best of each group by what the whole dialogue drew out, and fine-tunes the LoRA
adapter on the kept dialogue's questions (TRL's ``SFTTrainer``, loss on the questions only). A second
question that builds on the first answer is kept because the dialogue as a whole did well. STaR
(Zelikman et al. 2022) and STaR-GATE (Andukuri et al. 2024) are the precedents.

Only questions that drew out a new hidden fact are trained on; earlier turns that did not stay in the
prompt as history, so the policy learns what to ask next after a miss, not to miss.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .config import Profile
from .dialogues import elicited_share, run_dialogues
from .files import iter_jsonl, read_json
from .intents import KIND_QUESTIONS
from .masking import PartialTask
from .policy import SYSTEM_PROMPT, prefix_seed, question_prompt
from .simulator import (
    ALREADY_KNOWN,
    NO_MATCH,
    REVEALED,
    Dialogue,
    SimulatedUser,
    Turn,
    mentions,
    turn_from_dict,
)
from .tasks import Fact

log = logging.getLogger(__name__)

#: The kinds of detail a plain question reaches (``proactive.intents``); "specifics" and "context" need
#: a question about their content.
CUE_KINDS = ("audience", "goal", "budget", "timeline", "constraint", "preference")
#: Kinds of answer the simulated user gives a question that breaks a rule (several at once, off topic,
#: an extraction attempt, not a question): a kept dialogue should have as few as possible.
BAD_KINDS = ("several", "off_topic", "refused", "invalid", "already_known")
#: How much each rule-breaking turn lowers a dialogue's score: small, so it only breaks ties between
#: dialogues that drew out as much.
BAD_TURN_COST = 0.05


def asked_well_share(dialogue: Dialogue) -> float:
    """The importance-weighted share of hidden facts a dialogue drew out with questions that broke no
    rule: a fact the user gave to two questions asked at once does not teach the policy to ask."""
    return dialogue.partial.share_of([fid for t in dialogue.turns if t.kind not in BAD_KINDS for fid in t.revealed])


def dialogue_score(dialogue: Dialogue) -> float:
    """What a whole dialogue is worth when choosing the one to keep: the importance-weighted share of
    hidden facts it drew out with well-formed questions, less a little for every turn that broke a
    rule or asked again."""
    bad = sum(t.kind in BAD_KINDS for t in dialogue.turns)
    asked = [t.question.strip().lower() for t in dialogue.turns]
    repeats = len(asked) - len(set(asked))
    return asked_well_share(dialogue) - BAD_TURN_COST * (bad + repeats)


@dataclass
class DialogueGroup:
    """One training task's sampled dialogues, their scores and which one was kept (None: none drew out
    anything, so the task teaches nothing this round)."""

    partial: PartialTask
    dialogues: list[Dialogue]
    scores: list[float]
    kept: int | None

    @property
    def best(self) -> Dialogue | None:
        return None if self.kept is None else self.dialogues[self.kept]


def choose(dialogues: Sequence[Dialogue]) -> tuple[list[float], int | None]:
    """Scores of a group and the index of the dialogue to keep: the best-scoring one that drew out at
    least one fact (the first of equals, so the choice is reproducible)."""
    scores = [round(dialogue_score(d), 6) for d in dialogues]
    useful = [i for i, d in enumerate(dialogues) if asked_well_share(d) > 0]
    return scores, max(useful, key=lambda i: (scores[i], -i)) if useful else None


def sample_groups(policy: Any, partials: Sequence[PartialTask], matcher: Any, samples: int, turns: int = 3,
                  temperature: float = 1.0, seed: int = 0, progress: bool = False) -> list[DialogueGroup]:
    """``samples`` sampled dialogues of ``turns`` questions for every task, all generated in one batch
    per turn, grouped by task, with the one to keep chosen (:func:`choose`)."""
    repeated = [p for p in partials for _ in range(samples)]
    dialogues = run_dialogues(policy, repeated, matcher, turns=turns, temperature=temperature, seed=seed,
                              progress=progress)
    groups = []
    for i, partial in enumerate(partials):
        group = dialogues[i * samples:(i + 1) * samples]
        scores, kept = choose(group)
        groups.append(DialogueGroup(partial, group, scores, kept))
    return groups


def hint_prompt(fact: Fact) -> str:
    """The policy's rules plus the detail to ask about: STaR's "rationalization", where the answer is
    given as a hint and the output is then trained on WITHOUT it. Training tasks' hidden facts are
    training data; the policy never sees a hint outside this round."""
    return f"{SYSTEM_PROMPT} The detail to ask about: {fact.statement} Ask for it without saying it."


#: How a hinted question opens when the hidden detail is of a kind the simulated user recognises
#: (``proactive.intents``): the kind comes from the training fact's label, the rest of the question
#: from the policy. Measured on the first 30 training tasks (untrained 135M policy, 3 samples at T=0.7;
#: benchmarks/hint_openings.py): opened with their kind, questions drew out 32 of the 40 facts of such
#: kinds, against 10 of 40 with the hint alone; facts of other kinds, hinted, 3 of 50.
KIND_OPENINGS: dict[str, str] = {
    "budget": "What is your budget",
    "timeline": "What is the deadline",
    "audience": "What audience",
    "goal": "What is the goal",
    "constraint": "What constraints",
    "preference": "What style",
}


#: The plainest question of each kind, in the policy's own opening ("What ..."): with
#: ``train.rft_plain_questions`` the hinted round tries it first for a target of that kind, so a kept
#: dialogue asks the kind that is missing in few words, not the kind padded with half-remembered
#: words of the request ("What is the deadline for a party for a child to take a math lesson?").
PLAIN_QUESTIONS: dict[str, str] = {
    "budget": "What is your budget?",
    "timeline": "What is the deadline?",
    "audience": "What audience is this for?",
    "goal": "What is the main goal?",
    # Not "What requirements ...": the simulated user hears "requirements" as no kind it knows and
    # refused 26 of 35 training constraints as off topic; "constraints" drew out 29.
    "constraint": "What constraints should I know about?",
    "preference": "What style do you prefer?",
}


def hint_for(fact: Fact, question_prefix: str, kind_openings: bool = True) -> tuple[str, str]:
    """The rules and the assistant-turn opening a hinted question about ``fact`` is sampled with: its
    kind's opening where there is one and the policy's prefix allows it (the prefix's seed word starts
    the opening), else the fact as a hint (:func:`hint_prompt`) and the policy's own prefix."""
    opening = KIND_OPENINGS.get(fact.category) if kind_openings else None
    seed = prefix_seed(question_prefix)
    if opening and opening.lower().startswith(seed.lower()):
        label = question_prefix[: len(question_prefix) - len(seed)] if seed else question_prefix
        if label and not label[-1].isspace():  # "Question:" alone: "Question: What is your budget"
            label += " "
        return SYSTEM_PROMPT, label + opening
    return hint_prompt(fact), question_prefix


def leaks(question: str, facts: Sequence[Fact]) -> bool:
    """Whether a question states a hidden fact itself (its numbers, or most of its words): a hinted
    question that guesses the answer teaches guessing, not asking."""
    return any(mentions(question, f) for f in facts)


def hinted_groups(policy: Any, partials: Sequence[PartialTask], matcher: Any, samples: int, turns: int = 3,
                  temperature: float = 1.0, seed: int = 0, kind_openings: bool = True,
                  plain_questions: bool = False, inquiries: bool = False) -> list[DialogueGroup]:
    """One dialogue per task built from hinted questions: the most important fact still hidden is the
    target (:func:`hint_for`: its kind opens the question, or it is given as a hint), ``samples``
    questions are sampled for it (with ``plain_questions``, its kind's :data:`PLAIN_QUESTIONS` tried
    first; with ``inquiries``, then the task file's example inquiry for it, :func:`task_inquiries`),
    and the first that draws out a new fact without stating one
    (:func:`leaks`) is asked; a task whose candidates all fail moves on to its next fact without
    losing a turn, until it has ``turns`` questions or no fact is left to try. All tasks' candidates
    are generated in one batch per pass. Returns one-dialogue groups, so :func:`keep_best` treats them
    like sampled ones."""
    users = [SimulatedUser(p, matcher) for p in partials]
    dialogues = [Dialogue(p) for p in partials]
    queues = [sorted(p.hidden_facts, key=lambda f: -f.importance) for p in partials]
    examples = [task_inquiries(p) if inquiries else {} for p in partials]
    for attempt in range(max((len(p.hidden_facts) for p in partials), default=0)):
        targets = []
        for i, dialogue in enumerate(dialogues):
            revealed = set(dialogue.revealed_ids)
            queues[i] = [f for f in queues[i] if f.id not in revealed]
            if queues[i] and len(dialogue.turns) < turns:
                targets.append((i, queues[i].pop(0)))
        if not targets:
            break
        asked = [(i, fact) for i, fact in targets for _ in range(samples)]
        hints = [hint_for(fact, policy.question_prefix, kind_openings) for _, fact in asked]
        questions = policy.ask_many([partials[i] for i, _ in asked], [dialogues[i].history() for i, _ in asked],
                                    temperature=temperature, seed=seed + attempt,
                                    system_prompts=[rules for rules, _ in hints],
                                    prefixes=[opening for _, opening in hints])
        for k, (i, fact) in enumerate(targets):
            candidates = questions[k * samples:(k + 1) * samples]
            if inquiries and fact.id in examples[i]:
                candidates = [examples[i][fact.id], *candidates]
            if plain_questions and fact.category in PLAIN_QUESTIONS:
                candidates = [PLAIN_QUESTIONS[fact.category], *candidates]
            for question in candidates:
                if leaks(question, partials[i].hidden_facts):
                    continue
                answer = users[i].answer(question, dialogues[i].turns)
                if answer.kind == REVEALED and answer.revealed:
                    dialogues[i].turns.append(answer)
                    break
    groups = []
    for dialogue in dialogues:
        scores, kept = choose([dialogue])
        groups.append(DialogueGroup(dialogue.partial, [dialogue], scores, kept))
    return groups


def task_inquiries(partial: PartialTask) -> dict[str, str]:
    """The example inquiry a task's file gives for each hidden fact (IN3's ``inquiry``), by fact id."""
    inquiries = partial.meta.get("inquiries") if isinstance(partial.meta, dict) else None
    if not isinstance(inquiries, dict):
        return {}
    return {f.id: inquiries[f.id].strip() for f in partial.hidden_facts
            if isinstance(inquiries.get(f.id), str) and inquiries[f.id].strip()}


def inquiry_groups(partials: Sequence[PartialTask], matcher: Any, turns: int = 3) -> list[DialogueGroup]:
    """One dialogue per task from its file's example inquiries (:func:`task_inquiries`), most important
    fact first: each is put to the simulated user in turn and kept only if its answer draws out a new
    fact, up to ``turns`` questions. Questions written by people for exactly these details are the
    first round's targets, as STaR-GATE seeds its first round with an oracle's; nothing is generated."""
    groups = []
    for partial in partials:
        user = SimulatedUser(partial, matcher)
        dialogue = Dialogue(partial)
        inquiries = task_inquiries(partial)
        for fact in sorted(partial.hidden_facts, key=lambda f: -f.importance):
            if len(dialogue.turns) >= turns:
                break
            if fact.id not in inquiries or fact.id in dialogue.revealed_ids:
                continue
            answer = user.answer(inquiries[fact.id], dialogue.turns)
            if answer.kind == REVEALED and answer.revealed:
                dialogue.turns.append(answer)
        scores, kept = choose([dialogue])
        groups.append(DialogueGroup(partial, [dialogue], scores, kept))
    return groups


def keep_best(buffer: dict[str, Dialogue], groups: Sequence[DialogueGroup]) -> int:
    """Update the best dialogue seen so far per task with this round's kept ones; returns how many
    tasks got a better dialogue. Earlier rounds' finds are not forgotten when a later policy misses."""
    improved = 0
    for group in groups:
        best = group.best
        if best is None:
            continue
        held = buffer.get(group.partial.task_id)
        if held is None or dialogue_score(best) > dialogue_score(held):
            buffer[group.partial.task_id] = best
            improved += 1
    return improved


def misses(partial: PartialTask, matcher: Any, limit: int = 1) -> list[Turn]:
    """Plain questions about kinds of detail this task's user does not hold hidden (``intents.
    KIND_QUESTIONS``), as the simulated user answers them: "I already mentioned that: ..." or "I don't
    have a particular preference". They go only into training prompts' histories, never into what is
    trained on, so the policy sees what follows a miss: a question about something else."""
    user = SimulatedUser(partial, matcher)
    found = []
    for kind in CUE_KINDS:
        answer = user.answer(KIND_QUESTIONS[kind], ())
        if answer.kind in (ALREADY_KNOWN, NO_MATCH):
            found.append(answer)
    # Already-known first: reading the request is the lesson a small model misses most.
    found.sort(key=lambda t: t.kind != ALREADY_KNOWN)
    return found[:limit]


def variants(dialogue: Dialogue, matcher: Any, turns: int = 3, missed: Sequence[Turn] = (),
             limit: int | None = None) -> list[Dialogue]:
    """The kept dialogue's fact-drawing questions asked in every other order, up to ``turns`` of them,
    and the same after each of ``missed`` (a question that got nothing), each kept only where the
    simulated user, asked in that order, draws out a new fact with every kept question (re-asked, not
    assumed). A kept dialogue shows one path; its variants show what else was worth asking at each
    point, so the policy learns to read its history: after the goal was asked and answered, or after
    "I already mentioned that", something else comes next. ``limit``: at most this many variants,
    the original order first, then a spread of the rest (seeded by the task id)."""
    from itertools import permutations

    good = [t.question for t in dialogue.turns if t.kind == REVEALED and t.revealed]
    found: list[Dialogue] = []
    for opening in (None, *missed):
        for length in range(1, min(len(good), turns - (opening is not None)) + 1):
            for order in permutations(good, length):
                user = SimulatedUser(dialogue.partial, matcher)
                asked = Dialogue(dialogue.partial, [opening] if opening is not None else [])
                for question in order:
                    answer = user.answer(question, asked.turns)
                    if answer.kind != REVEALED or not answer.revealed:
                        break
                    asked.turns.append(answer)
                else:
                    found.append(asked)
    # A variant that is a prefix of a longer one adds no training row: keep the longest only.
    keys = [tuple(t.question for t in d.turns) for d in found]
    found = [d for d, k in zip(found, keys) if not any(len(o) > len(k) and o[: len(k)] == k for o in keys)]
    if limit is not None and len(found) > limit:
        import random

        first, rest = found[:1], found[1:]
        found = first + random.Random(dialogue.partial.task_id).sample(rest, limit - 1)
    return found


def training_dialogues(kept: Iterable[Dialogue], matcher: Any, profile: Profile) -> list[Dialogue]:
    """What a round fine-tunes on: the kept dialogues, or (``train.rft_variants``) each with its
    variants (:func:`variants`), some opened by a miss (``train.rft_misses``, :func:`misses`)."""
    s = profile.train
    if not s.rft_variants:
        return list(kept)
    out = []
    for dialogue in kept:
        missed = misses(dialogue.partial, matcher, s.rft_misses) if s.rft_misses else ()
        out += [dialogue, *variants(dialogue, matcher, s.rft_turns, missed, s.rft_variants)]
    return out


def sft_examples(dialogues: Sequence[Dialogue], tokenizer: Any, question_prefix: str) -> list[dict[str, str]]:
    """Prompt-completion rows for SFT: for each kept dialogue's turn that drew out a new fact, the prompt
    the policy saw at that point (its own earlier turns as history) and the question it asked, less the
    prefix's seed word, which the prompt already ends with."""
    seed = prefix_seed(question_prefix)
    rows, seen = [], set()
    for dialogue in dialogues:
        for depth, turn in enumerate(dialogue.turns):
            if turn.kind != REVEALED or not turn.revealed:
                continue
            question = turn.question
            if seed and not question.startswith(seed):
                # The policy's prompt ends with the seed ("Question: What"), so a question that does not
                # begin with it ("How long ...?", an example inquiry) cannot be its completion.
                continue
            history = [(t.question, t.answer) for t in dialogue.turns[:depth]]
            completion = question[len(seed):] if seed else " " + question
            prompt = question_prompt(tokenizer, dialogue.partial, history, question_prefix)
            if (prompt, completion) in seen:  # reorderings share their first turns
                continue
            seen.add((prompt, completion))
            rows.append({"prompt": prompt, "completion": completion, "task_id": dialogue.partial.task_id,
                         "depth": depth})
    return rows


@dataclass(frozen=True)
class RoundRecord:
    """What one RFT round did, as it goes into ``metrics.jsonl``."""

    round: int
    tasks: int
    samples: int
    kept: int  # tasks whose group had a dialogue that drew out anything
    improved: int  # tasks whose best-so-far dialogue got better
    buffer: int  # tasks with a kept dialogue so far
    examples: int  # questions fine-tuned on
    mean_share: float  # mean elicited share of every sampled dialogue (the policy as it was)
    kept_share: float  # mean elicited share of the kept dialogues (best of each group)
    sft_loss: float | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"method": "rft", **asdict(self)}


def group_to_dict(group: DialogueGroup) -> dict[str, Any]:
    """A group as ``groups.jsonl`` stores it: every dialogue's turns, its score, and which was kept."""
    return {"task_id": group.partial.task_id, "request": group.partial.request, "kept": group.kept,
            "scores": group.scores,
            "dialogues": [{"share": round(elicited_share(d), 4),
                           "turns": [{"question": t.question, "answer": t.answer, "revealed": list(t.revealed),
                                      "kind": t.kind} for t in d.turns]} for d in group.dialogues]}


def sft_round(model: Any, tokenizer: Any, rows: Sequence[dict[str, str]], profile: Profile, out: Path,
              seed: int) -> float | None:
    """Fine-tune the (LoRA) ``model`` in place on ``rows`` with TRL's SFTTrainer, loss on the completion
    (the question) only. Returns the mean training loss."""
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from .models import torch_dtype

    if not rows:
        return None
    s = profile.train
    dtype = torch_dtype(s.dtype)
    config = SFTConfig(
        output_dir=str(out), num_train_epochs=s.rft_epochs, learning_rate=s.rft_learning_rate,
        per_device_train_batch_size=s.rft_batch_size, gradient_accumulation_steps=1,
        # No logging: the round's line (tqdm.write below) reports the loss; TRL's per-10-steps dicts
        # would only clutter the terminal.
        lr_scheduler_type="constant", warmup_steps=0, logging_strategy="no", save_strategy="no",
        report_to="none", seed=seed, use_cpu=not torch.cuda.is_available(),
        bf16=dtype == torch.bfloat16, fp16=torch.cuda.is_available() and dtype == torch.float16,
        max_length=s.max_seq_length, completion_only_loss=True, disable_tqdm=True,
    )
    import datasets

    dataset = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in rows])
    was_training = model.training
    bars = datasets.utils.logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()  # SFTTrainer's four dataset passes over a few hundred rows
    try:
        trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer)
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)  # its one dict of run totals at the end
        result = trainer.train()
    finally:
        if bars:
            datasets.enable_progress_bars()
    model.train(was_training)
    return round(float(result.training_loss), 5)


def read_groups(path: str | Path) -> list[dict[str, Any]]:
    """The groups an RFT round stored (``groups.jsonl``), for chapter 4 to show."""
    path = Path(path)
    return [record for _, record in iter_jsonl(path)] if path.is_file() else []



def _round_dirs(root: Path) -> list[Path]:
    """Completed rounds (``round-N/`` with its adapter and buffer), oldest first."""
    done = [p for p in root.glob("round-*") if p.name.split("-")[-1].isdigit()
            and (p / "buffer.json").is_file() and (p / "adapter" / "adapter_config.json").is_file()]
    return sorted(done, key=lambda p: int(p.name.split("-")[-1]))


def rounds_done(root: str | Path) -> int:
    """How many RFT rounds under ``root`` were written to the end (0 for none)."""
    done = _round_dirs(Path(root))
    return int(done[-1].name.split("-")[-1]) if done else 0


def run_rft(model: Any, tokenizer: Any, partials: Sequence[PartialTask], matcher: Any, profile: Profile,
            out: str | Path, metrics_path: str | Path, progress: bool = True) -> Any:
    """``train.rft_rounds`` rounds of expert iteration on ``model`` (a PEFT model, trained in place):
    sample groups of dialogues, keep each task's best so far, fine-tune on the kept questions.

    Each round is written to ``out/round-N/`` (the adapter after it, the buffer of kept dialogues, every
    group in ``groups.jsonl``) and appended to ``metrics_path``; a rerun resumes after the last complete
    round, with its adapter and buffer, so it ends where an uninterrupted run would."""
    import shutil
    import time

    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file
    from tqdm.auto import tqdm

    from .files import append_jsonl, atomic_write_json, atomic_write_jsonl, is_main_process
    from .policy import LocalPolicy

    s = profile.train
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    by_id = {p.task_id: p for p in partials}
    buffer: dict[str, Dialogue] = {}
    start = rounds_done(root)
    if start:
        last = root / f"round-{start}"
        set_peft_model_state_dict(model, load_file(str(last / "adapter" / "adapter_model.safetensors")))
        stored = read_json(last / "buffer.json")
        buffer = {tid: Dialogue(by_id[tid], [turn_from_dict(t) for t in turns])
                  for tid, turns in stored.items() if tid in by_id}
        log.info("RFT: resuming after round %d (%s)", start, last)
    policy = LocalPolicy(model, tokenizer, profile.question_prefix, s.max_completion_length, name="policy",
                         batch_size=profile.eval_batch_size)
    bar = tqdm(range(start, s.rft_rounds), desc="RFT rounds", disable=not progress, initial=start,
               total=s.rft_rounds)
    for index in bar:
        started = time.time()
        model.eval()
        options = {"turns": s.rft_turns, "temperature": s.rft_temperature, "seed": profile.train_seed + 7919 * index}
        if index < s.rft_hinted_rounds:
            # Tasks whose file gives example inquiries use them (when the profile says so); the rest are
            # hinted. With plain questions every task is hinted, its inquiries tried after the plain question.
            alone = s.rft_inquiries and not s.rft_plain_questions
            asked = [p for p in partials if alone and task_inquiries(p)]
            rest = [p for p in partials if not (alone and task_inquiries(p))]
            groups = inquiry_groups(asked, matcher, s.rft_turns) if asked else []
            if rest:
                groups += hinted_groups(policy, rest, matcher, s.rft_samples, kind_openings=s.rft_kind_openings,
                                        plain_questions=s.rft_plain_questions,
                                        inquiries=s.rft_inquiries, **options)
        else:
            groups = sample_groups(policy, partials, matcher, s.rft_samples, **options)
        improved = keep_best(buffer, groups)
        rows = sft_examples(training_dialogues(buffer.values(), matcher, profile), tokenizer, profile.question_prefix)
        model.train()
        loss = sft_round(model, tokenizer, rows, profile, root / "sft", seed=profile.train_seed + index)
        model.eval()
        kept = [g.best for g in groups if g.best is not None]
        record = RoundRecord(
            round=index + 1, tasks=len(groups), samples=s.rft_samples, kept=len(kept), improved=improved,
            buffer=len(buffer), examples=len(rows),
            mean_share=round(sum(elicited_share(d) for g in groups for d in g.dialogues)
                             / max(1, sum(len(g.dialogues) for g in groups)), 4),
            kept_share=round(sum(elicited_share(d) for d in kept) / max(1, len(groups)), 4),
            sft_loss=loss, seconds=round(time.time() - started, 1))
        if is_main_process():
            final = root / f"round-{index + 1}"
            partial_dir = root / f".round-{index + 1}.tmp"
            shutil.rmtree(partial_dir, ignore_errors=True)
            model.save_pretrained(str(partial_dir / "adapter"))
            atomic_write_jsonl(partial_dir / "groups.jsonl", [group_to_dict(g) for g in groups])
            atomic_write_json(partial_dir / "buffer.json", {tid: [t.to_dict() for t in d.turns] for tid, d in buffer.items()})
            shutil.rmtree(final, ignore_errors=True)
            partial_dir.rename(final)  # a round is on disk whole or not at all
            append_jsonl(metrics_path, record.to_dict())
        tqdm.write(f"RFT round {record.round}/{s.rft_rounds}: kept {record.kept}/{record.tasks} groups "
                   f"(best share {record.kept_share:.3f}, all samples {record.mean_share:.3f}), "
                   f"{record.examples} questions fine-tuned on, loss {record.sft_loss}, {record.seconds:.0f} s")
    shutil.rmtree(root / "sft", ignore_errors=True)
    return model
