"""How much of a GRPO step is the project's, and how much is TRL's: the cpu profile's exact work run
once through `proactive`'s `train()` and once through a minimal hand-written TRL `GRPOTrainer`
script, in one process, and the ratio of their seconds per step.

    .venv/bin/python benchmarks/grpo_overhead.py [--profile cpu] [--steps 6]

Both sides use the same model (the bundled SmolLM2-135M, float32), the same LoRA, the same training
prompts (the project's, so the same prompt lengths), group size, completion length, temperature,
learning rate and the same stop tokens (a question ends at its "?"). The bare script's reward is a
plain cosine between each completion and the task's first hidden fact through the same embedding
model: the same kind of cost (one batch of sentence embeddings per step), none of the simulated
user's logic. Own-history sampling before step 1 is skipped on both sides (it is not part of a
step; `make demo` times it as its own stage). Goal (the issue on speed): project / bare <= 1.2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
from pathlib import Path

from proactive.config import load_profile


def bare_trl_seconds_per_step(profile, steps: int, workdir: Path) -> list[float]:
    """The same work through TRL alone: model, LoRA, prompts, GRPOConfig; a cosine reward."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback, set_seed
    from trl import GRPOConfig, GRPOTrainer

    from proactive.backends import EmbeddingSimilarity
    from proactive.models import resolve_model
    from proactive.policy import stop_ids
    from proactive.task_files import profile_partials
    from proactive.training_rows import training_rows

    s = profile.train
    set_seed(profile.seed)
    path = resolve_model(profile.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.generation_config.eos_token_id = stop_ids(tokenizer)
    rows = training_rows(profile_partials(profile, "train"), tokenizer, profile)
    dataset = Dataset.from_list([{"prompt": r["prompt"], "fact": r["hidden_facts"][0]} for r in rows])
    embedder = EmbeddingSimilarity()

    def cosine_reward(completions, fact, **_):
        vectors = embedder.encode(list(completions) + list(fact))
        n = len(completions)
        return [float(vectors[i] @ vectors[n + i]) for i in range(n)]

    times: list[float] = []

    class StepClock(TrainerCallback):
        """TRL's own per-step timer, the figure the project's metrics.jsonl records too."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "step_time" in logs:
                times.append(float(logs["step_time"]))

    config = GRPOConfig(
        output_dir=str(workdir), max_steps=steps, learning_rate=s.learning_rate,
        per_device_train_batch_size=s.num_generations * s.prompts_per_step,
        gradient_accumulation_steps=s.gradient_accumulation_steps, num_generations=s.num_generations,
        max_completion_length=s.max_completion_length, temperature=s.temperature, beta=s.beta,
        scale_rewards=s.scale_rewards, logging_steps=1, save_strategy="no", report_to="none",
        seed=profile.seed, use_cpu=not torch.cuda.is_available(), bf16=False,
    )
    trainer = GRPOTrainer(
        model=model, reward_funcs=[cosine_reward], args=config, train_dataset=dataset,
        processing_class=tokenizer, callbacks=[StepClock()],
        peft_config=LoraConfig(r=s.lora_r, lora_alpha=s.lora_alpha, lora_dropout=s.lora_dropout,
                               target_modules=list(s.lora_targets), task_type="CAUSAL_LM"),
    )
    trainer.train()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    profile = load_profile(args.profile)
    profile = dataclasses.replace(profile, train=profile.train.with_settings("grpo", own_history=0.0))
    import torch

    from proactive.training import train

    with tempfile.TemporaryDirectory() as tmp:
        result = train(profile, Path(tmp) / "project", max_steps=args.steps, resume=False)
        metrics = [json.loads(ln) for ln in result.metrics_path.read_text().splitlines() if ln.strip()]
        project = [m["step_time"] for m in metrics]
        bare = bare_trl_seconds_per_step(profile, args.steps, Path(tmp) / "bare")
    # The first step of each includes warm-up; the medians of the rest are compared.
    p, b = statistics.median(project[1:] or project), statistics.median(bare[1:] or bare)
    print(f"\n{profile.name}: {args.steps} steps each, {torch.get_num_threads()} threads, median of steps 2..")
    print(f"project (proactive train): {p:.2f} s/step   steps: {' '.join(f'{t:.1f}' for t in project)}")
    print(f"bare TRL GRPOTrainer:      {b:.2f} s/step   steps: {' '.join(f'{t:.1f}' for t in bare)}")
    print(f"ratio project / bare: {p / b:.2f} (goal: at most 1.2)")


if __name__ == "__main__":
    main()
