"""Evaluation: questions sampled from a policy and multi-turn dialogues with the simulated user.

The paper evaluates a policy by letting it talk to the simulated user on held-out tasks and
measuring how much of the hidden knowledge it draws out. This module generates questions from
a local model in batches (the same prompt as training) and plays those dialogues.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .masking import PartialTask
from .matching import FactMatcher
from .policy import question_from_completion, question_prompt
from .reward import ElicitationReward
from .simulator import Dialogue, SimulatedUser
from .stats import bootstrap_ci


class LocalPolicy:
    """A local causal LM (base model or base + LoRA adapter) that asks questions in batches."""

    def __init__(self, model: Any, tokenizer: Any, question_prefix: str = "", max_new_tokens: int = 24,
                 name: str = "policy"):
        self.model = model
        self.tokenizer = tokenizer
        self.question_prefix = question_prefix
        self.max_new_tokens = max_new_tokens
        self.name = name

    def ask_many(
        self,
        partials: Sequence[PartialTask],
        histories: Sequence[Sequence[tuple[str, str]]] | None = None,
        temperature: float = 0.0,
        seed: int = 0,
        batch_size: int = 16,
    ) -> list[str]:
        """One question per task (greedy at temperature 0), generated in left-padded batches."""
        import torch

        histories = histories or [()] * len(partials)
        prompts = [question_prompt(self.tokenizer, p, h, self.question_prefix) for p, h in zip(partials, histories)]
        side, self.tokenizer.padding_side = self.tokenizer.padding_side, "left"
        questions: list[str] = []
        try:
            torch.manual_seed(seed)
            for start in range(0, len(prompts), batch_size):
                batch = self.tokenizer(prompts[start : start + batch_size], return_tensors="pt", padding=True,
                                       add_special_tokens=False).to(self.model.device)
                kwargs: dict[str, Any] = {"max_new_tokens": self.max_new_tokens,
                                          "pad_token_id": self.tokenizer.pad_token_id}
                if temperature > 0:
                    kwargs.update(do_sample=True, temperature=temperature, top_p=1.0, top_k=0)
                else:
                    kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
                with torch.no_grad():
                    out = self.model.generate(**batch, **kwargs)
                texts = self.tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
                questions += [question_from_completion(t, self.question_prefix) for t in texts]
        finally:
            self.tokenizer.padding_side = side
        return questions


def elicited_share(dialogue: Dialogue) -> float:
    """Importance-weighted share of the hidden facts the dialogue drew out."""
    weights = {f.id: f.importance for f in dialogue.partial.hidden_facts}
    return sum(weights[i] for i in dialogue.revealed_ids if i in weights) / (sum(weights.values()) or 1.0)


def run_dialogues(
    policy: LocalPolicy, partials: Sequence[PartialTask], matcher: FactMatcher, turns: int = 3,
    progress: bool = True,
) -> list[Dialogue]:
    """Every task's dialogue advances one turn at a time, all tasks batched per turn."""
    users = [SimulatedUser(p, matcher) for p in partials]
    dialogues = [Dialogue(p) for p in partials]
    for _ in tqdm(range(turns), desc=f"{policy.name}: dialogue turns", disable=not progress):
        questions = policy.ask_many(partials, [d.history() for d in dialogues])
        for dialogue, user, question in zip(dialogues, users, questions):
            dialogue.turns.append(user.answer(question, dialogue.turns))
    return dialogues


@dataclass(frozen=True)
class QuestionScores:
    """Rewards of questions sampled on each task: ``rewards[task, sample]``."""

    task_ids: tuple[str, ...]
    questions: tuple[tuple[str, ...], ...]
    rewards: np.ndarray

    @property
    def per_task(self) -> np.ndarray:
        return self.rewards.mean(axis=1)


def score_questions(
    policy: LocalPolicy, partials: Sequence[PartialTask], reward: ElicitationReward, samples: int = 8,
    temperature: float = 0.7, seed: int = 0,
) -> QuestionScores:
    """Sample ``samples`` first questions per task and score each with the elicitation reward."""
    repeated = [p for p in partials for _ in range(samples)]
    questions = policy.ask_many(repeated, temperature=temperature, seed=seed)
    rewards = np.array([b.reward for b in reward.score_many([(p, q, ()) for p, q in zip(repeated, questions)])])
    shape = (len(partials), samples)
    return QuestionScores(tuple(p.task_id for p in partials),
                          tuple(tuple(questions[i * samples:(i + 1) * samples]) for i in range(len(partials))),
                          rewards.reshape(shape))


def paired_difference(after: Sequence[float], before: Sequence[float], seed: int = 0) -> dict[str, float]:
    """Mean of ``after - before`` over paired tasks, with a bootstrap 95% interval."""
    diff = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    mean, low, high = bootstrap_ci(diff, seed=seed)
    return {"before": round(float(np.mean(before)), 4), "after": round(float(np.mean(after)), 4),
            "difference": round(mean, 4), "ci_low": round(low, 4), "ci_high": round(high, 4),
            "tasks": len(diff)}


@dataclass(frozen=True)
class PolicyResult:
    """One policy on the held-out tasks: sampled first questions and greedy 3-turn dialogues."""

    name: str
    scores: QuestionScores
    dialogues: tuple[Dialogue, ...]

    @property
    def elicited(self) -> list[float]:
        return [elicited_share(d) for d in self.dialogues]


def evaluate_policy(
    policy: LocalPolicy, partials: Sequence[PartialTask], reward: ElicitationReward, samples: int = 8,
    turns: int = 3, seed: int = 0,
) -> PolicyResult:
    """Reward of ``samples`` sampled first questions per task, and a greedy ``turns``-question dialogue."""
    scores = score_questions(policy, partials, reward, samples=samples, temperature=0.7, seed=seed)
    dialogues = run_dialogues(policy, partials, reward.matcher, turns=turns)
    return PolicyResult(policy.name, scores, tuple(dialogues))


def compare(before: PolicyResult, after: PolicyResult) -> dict[str, Any]:
    """Paired per-task differences (after - before) with bootstrap 95% intervals, and examples."""
    return {
        "before": before.name,
        "after": after.name,
        "held_out_tasks": len(before.dialogues),
        "reward_per_question": paired_difference(after.scores.per_task, before.scores.per_task),
        "elicited_share_dialogue": paired_difference(after.elicited, before.elicited),
        "examples": [
            {"task_id": b.partial.task_id, "request": b.partial.request,
             before.name: [(t.question, t.answer) for t in b.turns],
             after.name: [(t.question, t.answer) for t in a.turns]}
            for b, a in zip(before.dialogues, after.dialogues)
        ],
    }
