"""How a note should be chosen: on users' sentences the note writer never trained on, the share of notes the
report's judge counts as covering their sentence in the writer's own words, per rule of choice.

    .venv/bin/python benchmarks/note_choice.py runs/demo/train/writer/adapter [--sentences 200] [--samples 8]

The sentences are the hidden facts of the corpus's validation tasks and of IN3 training tasks past the ones
the demo trains on (``train.in3_tasks``; never IN3's held-out side), as the simulated user answers with them.
For each: the writer's greedy note and ``--samples`` notes sampled at 0.8 (the note writer's adapter on, as
``proactive.system_specs.load_writer`` writes). Rules compared: the greedy note; a greedy note that fails
``outline_notes.keeps`` replaced by the first of 4 or 8 samples that keeps (the rule until 2026-12-07, 4
rewrites); and ``outline_notes.best_note`` over the greedy note and the first 2, 4, 6, 8 samples (the note
that keeps with the most of the sentence's content words). Takes about 10 minutes on 2 cores for 200
sentences.
"""

from __future__ import annotations

import argparse
import time

from proactive.backends import EmbeddingSimilarity
from proactive.config import load_profile
from proactive.masking import mask_many, split_tasks
from proactive.outline_notes import (
    NOTE_SAMPLE_TEMPERATURE,
    NOTE_TOKENS,
    best_note,
    keeps,
    note_from,
    note_prompt,
)
from proactive.outline_rft import note_closeness, training_details
from proactive.system_specs import load_writer
from proactive.task_files import in3_partials
from proactive.tasks import load_tasks


def first_that_keeps(notes: list[str], detail: str) -> str:
    """The greedy note (``notes[0]``) if it keeps the sentence, else the first sample that does, else it."""
    return next((n for n in notes if n and keeps(n, detail)), notes[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("adapter", help="a trained note writer (a run's train/writer/adapter)")
    parser.add_argument("--profile", default="cpu-unsloth")
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--samples", type=int, default=8)
    args = parser.parse_args()
    profile = load_profile(args.profile)
    validation = mask_many(split_tasks(load_tasks(), seed=profile.seed)["validation"], profile.mask_strategy,
                           seed=profile.seed)
    trained_on = profile.train.in3_tasks
    unseen_in3 = in3_partials("train", trained_on + 200)[trained_on:]
    details = training_details(validation + unseen_in3)[: args.sentences]
    print(f"{len(details)} sentences: the corpus's {len(validation)} validation tasks, then IN3 training tasks "
          f"{trained_on + 1}-{trained_on + len(unseen_in3)}")

    writer = load_writer(profile, args.adapter)
    started = time.time()
    with writer._writer_weights(True):
        prompts = [note_prompt(writer.tokenizer, d) for d in details]
        greedy = [note_from(t) for t in writer._generate(prompts, NOTE_TOKENS, 0.0, 0, what="notes")]
        texts = writer._generate(prompts * args.samples, NOTE_TOKENS, NOTE_SAMPLE_TEMPERATURE, 1, what="notes")
    sampled = [note_from(t) for t in texts]
    notes = [[g, *sampled[i::len(details)]] for i, g in enumerate(greedy)]  # greedy first, then its samples
    print(f"{time.time() - started:.0f} s writing {len(details) * (1 + args.samples)} notes")

    similarity = EmbeddingSimilarity()

    def covered(chosen: list[str]) -> str:
        hits = sum(bool(n) and note_closeness(similarity, n, d) is not None for n, d in zip(chosen, details))
        return f"{hits / len(details):.3f} ({hits} of {len(details)})"

    print("\n| rule | notes that cover their sentence |\n|---|---|")
    print(f"| greedy | {covered(greedy)} |")
    for n in (4, 8):
        if n <= args.samples:
            print(f"| greedy, else the first of {n} samples that keeps | "
                  f"{covered([first_that_keeps(c[: n + 1], d) for c, d in zip(notes, details)])} |")
    for n in range(2, args.samples + 1, 2):
        print(f"| best_note of greedy + {n} samples | "
              f"{covered([best_note(c[: n + 1], d) for c, d in zip(notes, details)])} |")
    any_of = sum(any(x and note_closeness(similarity, x, d) is not None for x in c) for c, d in zip(notes, details))
    print(f"| (any of them: the most a choice can reach) | {any_of / len(details):.3f} |")


if __name__ == "__main__":
    main()
