"""Seconds per fine-tuning step on a run's own RFT rows, batches drawn at random vs grouped by length.

    .venv-unsloth/bin/python benchmarks/sft_speed.py RECIPE.yaml RUN [--rows 200] [--no-timing]

Rebuilds the rows the run's last RFT round fine-tuned on (its kept dialogues, ``RUN/train/rft/round-N/
buffer.json``, their reorderings re-asked of the simulated user, one row per fact-drawing question), prints
how much of what a step computes is padding when batches are drawn at random and when they are grouped by
length (transformers' length-grouped sampler: shuffled groups of 50 batches, each sorted), then fine-tunes
the recipe's untrained policy for one epoch on ``--rows`` of them each way (the same rows, the recipe's
batch size and learning rate) and prints seconds per step and the loss.
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from proactive.backends import EmbeddingSimilarity
from proactive.config import load_profile
from proactive.matching import FactMatcher
from proactive.rft_store import RoundStore
from proactive.rft_targets import sft_examples, training_dialogues
from proactive.task_files import profile_partials


def padded_tokens(lengths: np.ndarray, order: list[int], batch: int) -> int:
    return int(sum(lengths[order[i:i + batch]].max() * len(order[i:i + batch]) for i in range(0, len(order), batch)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe")
    parser.add_argument("run")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args()
    profile = load_profile(args.recipe)
    from transformers import AutoTokenizer

    from proactive.models import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(profile.model))
    root = Path(args.run) / "train" / "rft"
    last, buffer = RoundStore(root).buffer(profile_partials(profile, "train"))
    if not last:
        raise SystemExit(f"sft_speed: {root} holds no finished RFT round; train the recipe first (headline.py)")
    kept = list(buffer.values())
    settings = profile.train.rft
    dialogues = training_dialogues(kept, FactMatcher(EmbeddingSimilarity()), settings.turns, settings.variants,
                                   settings.misses)
    rows = sft_examples(dialogues, tokenizer, profile.question_prefix)
    lengths = np.array([len(tokenizer(r["prompt"] + r["completion"]).input_ids) for r in rows])
    batch, group = settings.batch_size, 50 * settings.batch_size
    rng = random.Random(0)
    shuffled, grouped = [], []
    for _ in range(5):
        order = list(range(len(rows)))
        rng.shuffle(order)
        shuffled.append(padded_tokens(lengths, order, batch))
        order = [j for i in range(0, len(order), group) for j in sorted(order[i:i + group], key=lambda k: -lengths[k])]
        grouped.append(padded_tokens(lengths, order, batch))
    real = int(lengths.sum())
    print(f"{len(rows)} rows, {real} tokens (mean {lengths.mean():.0f}, longest {lengths.max()}); a step computes on "
          f"{np.mean(shuffled) / real:.2f}x that with random batches of {batch}, {np.mean(grouped) / real:.2f}x grouped by length")
    if args.no_timing:
        return
    from proactive.methods.rft import sft_round
    from proactive.models import load_policy

    random.Random(0).shuffle(rows)
    rows = rows[: args.rows]
    for grouped_by_length in (False, True):
        model, tok, _ = load_policy(profile)
        started = time.time()
        loss = sft_round(model, tok, rows, profile, replace(settings, epochs=1, group_by_length=grouped_by_length),
                         Path(args.run) / "sft_speed", seed=0, progress=False)
        steps = -(-len(rows) // batch)
        print(f"group_by_length={grouped_by_length}: {(time.time() - started) / steps:.2f} s a step over {steps} steps, "
              f"loss {loss}")
    shutil.rmtree(Path(args.run) / "sft_speed", ignore_errors=True)


if __name__ == "__main__":
    main()
