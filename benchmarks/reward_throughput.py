"""How fast the elicitation reward scores questions on CPU, against just embedding the texts.

    .venv/bin/python benchmarks/reward_throughput.py [--pairs 1000]

Scores N question/task pairs with the default (offline embedding) backend, then times encoding
the same texts (each question, each task's request and facts) with the same model and no cache.
Prints pairs/s and the ratio of the two times (target: <= 2).
"""

from __future__ import annotations

import argparse
import itertools
import random
import time

from proactive.backends import EmbeddingSimilarity
from proactive.masking import mask_many
from proactive.matching import FactMatcher
from proactive.reward import ElicitationReward
from proactive.tasks import load_tasks

QUESTIONS = [
    "What is your budget?", "Who is the audience?", "When is the deadline?", "How many people are involved?",
    "Are there any constraints I should know about?", "What would success look like for you?",
    "Where will this take place?", "What style do you prefer?", "Is there anything you want to avoid?",
    "What is the timeline?", "Who will read this?", "Do you have any regulatory requirements?",
    "What have you already tried?", "How long should it be?", "What tools or systems do you use?",
    "What is the purpose of your project?", "Which language should it be in?", "How big is the team?",
    "What is the main goal?", "Are there accessibility needs?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=1000)
    args = parser.parse_args()

    partials = [p for seed in range(3) for p in mask_many(load_tasks(), "random_k", seed=seed)]
    combos = list(itertools.product(partials, QUESTIONS))
    random.Random(0).shuffle(combos)
    # Each question names its task, so nearly every wording is new, as GRPO completions are.
    pairs = [(p, f"{q[:-1]}, for the {p.task_id.split('-', 2)[-1].replace('-', ' ')}?") for p, q in combos[: args.pairs]]
    model = EmbeddingSimilarity().model  # load once, outside both timings

    scorer = ElicitationReward(FactMatcher(EmbeddingSimilarity(model)))
    start = time.perf_counter()
    breakdowns = scorer.score_many([(p, q, ()) for p, q in pairs])
    reward_seconds = time.perf_counter() - start

    # The same texts, each once: every question, and each task's request and hidden facts.
    texts = list(dict.fromkeys(
        [q for _, q in pairs] + [t for p, _ in pairs for t in (p.request, *(f.statement for f in p.hidden_facts))]
    ))
    start = time.perf_counter()
    model.encode(texts, batch_size=128, normalize_embeddings=True, convert_to_numpy=True)
    embed_seconds = time.perf_counter() - start

    revealed = sum(1 for b in breakdowns if b.revealed)
    print(f"pairs scored: {len(breakdowns)} ({revealed} revealed a fact), mean reward "
          f"{sum(b.reward for b in breakdowns) / len(breakdowns):.3f}")
    print(f"reward: {reward_seconds:.2f} s, {len(pairs) / reward_seconds:.0f} pairs/s")
    print(f"just embedding the same {len(texts)} texts (no cache): {embed_seconds:.2f} s")
    print(f"ratio reward / embedding: {reward_seconds / embed_seconds:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
