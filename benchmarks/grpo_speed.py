"""Seconds per GRPO step, generated tokens per second and peak memory, for one profile.

    .venv/bin/python benchmarks/grpo_speed.py --profile cpu --steps 5
    python benchmarks/grpo_speed.py --profile colab-t4 --steps 10              # GPU, Unsloth
    python benchmarks/grpo_speed.py --profile colab-t4 --steps 10 --no-unsloth  # GPU, plain TRL + PEFT

Trains a few steps in a temporary run folder (the first step is reported apart: it includes
warm-up) and prints median step time, completion tokens per second, and peak memory (GPU memory
on CUDA, resident memory on CPU). Run it twice on a GPU, with and without --no-unsloth, to get
the Unsloth speed-up and memory ratio.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import tempfile
from pathlib import Path

import torch

from proactive.config import load_profile
from proactive.training import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--no-unsloth", action="store_true", help="plain TRL + PEFT even on a GPU profile")
    args = parser.parse_args()
    profile = load_profile(args.profile)
    if args.no_unsloth:
        profile = dataclasses.replace(profile, use_unsloth=False)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory() as tmp:
        result = train(profile, Path(tmp) / "run", max_steps=args.steps, resume=False)
        metrics = [json.loads(line) for line in result.metrics_path.read_text().splitlines() if line.strip()]
    times = [m["step_time"] for m in metrics]
    tokens = [profile.train.num_generations * profile.train.prompts_per_step * m["completions/mean_length"]
              for m in metrics]
    later = times[1:] or times
    median = statistics.median(later)
    rate = sum(tokens[1:] or tokens) / sum(later)
    if torch.cuda.is_available():
        memory = f"peak GPU memory {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB"
    else:
        memory = f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB"
    engine = "Unsloth" if profile.use_unsloth else "TRL + PEFT"
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    print(f"{profile.name} ({profile.model}, {engine}) on {device}")
    print(f"first step {times[0]:.1f} s (warm-up); median step {median:.2f} s over {len(later)} steps; "
          f"{rate:.1f} completion tokens/s; {memory}")


if __name__ == "__main__":
    main()
