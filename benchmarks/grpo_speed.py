"""Seconds per GRPO step, generated tokens per second and peak memory, for one profile.

    .venv/bin/python benchmarks/grpo_speed.py --profile cpu --steps 5
    python benchmarks/grpo_speed.py --profile colab-t4 --steps 10              # GPU, Unsloth
    python benchmarks/grpo_speed.py --profile colab-t4 --steps 10 --no-unsloth  # GPU, plain TRL + PEFT
    python benchmarks/grpo_speed.py --profile colab-t4 --model smollm2-135m-instruct --no-4bit  # offline GPU

Trains a few steps in a temporary run folder (the first step is reported apart: it includes
warm-up) and prints median step time, completion tokens per second, and peak memory (GPU memory
on CUDA, resident memory on CPU). Run it twice, with and without --no-unsloth, to get the
Unsloth speed-up and memory ratio; ``--json FILE`` appends the figures as one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import tempfile
from pathlib import Path

from proactive.config import load_profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--steps", type=int, default=5)
    engine = parser.add_mutually_exclusive_group()
    engine.add_argument("--no-unsloth", action="store_true", help="plain TRL + PEFT even on an Unsloth profile")
    engine.add_argument("--unsloth", action="store_true", help="Unsloth even on a plain profile (CPU backend on CPU)")
    parser.add_argument("--model", help="another policy model (a local folder, the bundled name, a hub name)")
    parser.add_argument("--dtype", help="weights' dtype: auto, float32, bfloat16, float16")
    parser.add_argument("--no-4bit", action="store_true", help="load the model in 16/32 bit, not 4 bit")
    parser.add_argument("--no-own-history", action="store_true",
                        help="skip sampling the starting model's own dialogues before step 1 (minutes on CPU; "
                             "steps cost the same either way)")
    parser.add_argument("--json", help="append the figures to this JSON-lines file")
    args = parser.parse_args()
    profile = load_profile(args.profile)
    settings = {}
    if args.dtype:
        settings["dtype"] = args.dtype
    if args.no_4bit:
        settings["load_in_4bit"] = False
    train_settings = dataclasses.replace(profile.train, **settings)
    if args.no_own_history:
        train_settings = train_settings.with_settings("grpo", own_history=0.0)
    top = {"train": train_settings}
    if args.no_unsloth or args.unsloth:
        top["use_unsloth"] = args.unsloth
    if args.model:
        top["model"] = args.model
    profile = dataclasses.replace(profile, **top)
    if profile.use_unsloth:  # Unsloth patches transformers and TRL on import: before torch's users
        from proactive.models import import_unsloth

        import_unsloth()
    import torch

    from proactive.models import torch_dtype
    from proactive.training import train

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory() as tmp:
        result = train(profile, Path(tmp) / "run", max_steps=args.steps, resume=False)
        metrics = [json.loads(line) for line in result.metrics_path.read_text().splitlines() if line.strip()]
    times = [m["step_time"] for m in metrics]
    tokens = [profile.train.grpo.num_generations * profile.train.grpo.prompts_per_step * m["completions/mean_length"]
              for m in metrics]
    later = times[1:] or times
    median = statistics.median(later)
    rate = sum(tokens[1:] or tokens) / sum(later)
    if torch.cuda.is_available():
        peak = torch.cuda.max_memory_allocated() / 2**30
        memory = f"peak GPU memory {peak:.2f} GiB"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        memory = f"peak resident memory {peak:.2f} GiB"
    engine = "Unsloth" if profile.use_unsloth else "TRL + PEFT"
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    dtype = str(torch_dtype(profile.train.dtype)).removeprefix("torch.")
    bits = "4-bit" if profile.train.load_in_4bit and profile.use_unsloth else dtype
    print(f"{profile.name} ({profile.model}, {engine}, {bits}) on {device}")
    print(f"first step {times[0]:.1f} s (warm-up); median step {median:.2f} s over {len(later)} steps; "
          f"{rate:.1f} completion tokens/s; {memory}; reward first {metrics[0]['reward']:.3f} "
          f"last {metrics[-1]['reward']:.3f}")
    if args.json:
        record = {"profile": profile.name, "model": profile.model, "engine": engine, "weights": bits,
                  "device": device, "steps": len(times), "first_step_s": times[0], "median_step_s": median,
                  "completion_tokens_per_s": rate, "peak_memory_gib": peak,
                  "reward": [m["reward"] for m in metrics]}
        with open(args.json, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
