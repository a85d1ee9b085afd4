#!/usr/bin/env bash
# Several learning runs side by side on one GPU: benchmarks/learning_cpu.py (train, then compare the
# adapter with the untrained model on the held-out tasks) for each profile given, all at once. A 135M
# policy leaves a GPU mostly idle, so a handful of recipes cost about the time of one; used to search
# for a recipe before the slow CPU confirmation run.
#
#   bash benchmarks/learning_gpu.sh benchmarks/recipes/*.yaml      # then one table
#
# With SEEDS="0 1 2 3", each recipe is trained once per training seed (train.seed; same split,
# maskings and evaluation), in folders NAME-sSEED, and `python benchmarks/learning_pool.py OUT_DIR/*`
# pools them: one run's interval says nothing about how much runs of one recipe differ.
#
# Settings (environment): SEEDS (default: the recipe's own seed), OUT_DIR (default runs/learning-gpu: a folder per profile with its
# adapter, metrics.jsonl, learning.json and log), LIMIT (seconds per run, default 900), THREADS (CPU
# threads per run, default 2), PYTHON (default python3), EXTRA (more arguments to learning_cpu.py).
set -uo pipefail
[ $# -gt 0 ] || { echo "usage: bash benchmarks/learning_gpu.sh PROFILE_OR_YAML..."; exit 2; }
OUT_DIR=${OUT_DIR:-runs/learning-gpu}
LIMIT=${LIMIT:-900}
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT_DIR"

# Convert the bundled model once, before the runs race to do it.
"$PYTHON" -c "from proactive.models import resolve_model; import sys; resolve_model(sys.argv[1])" smollm2-135m-instruct \
  || { echo "learning_gpu: the bundled model did not load"; exit 1; }

pids=(); names=()
for profile in "$@"; do
  for seed in ${SEEDS:-own}; do
    name=$(basename "$profile" .yaml); seed_args=()
    [ "$seed" = own ] || { name="$name-s$seed"; seed_args=(--train-seed "$seed"); }
    names+=("$name")
    mkdir -p "$OUT_DIR/$name"
    OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS timeout "$LIMIT" \
      "$PYTHON" benchmarks/learning_cpu.py --profile "$profile" --out "$OUT_DIR/$name" "${seed_args[@]}" ${EXTRA:-} \
      > "$OUT_DIR/$name/log.txt" 2>&1 &
    pids+=($!)
  done
done
for i in "${!pids[@]}"; do
  wait "${pids[$i]}"; rc=$?
  [ $rc -eq 0 ] || { echo "-- ${names[$i]} exited $rc (124: past LIMIT); last lines:"; tail -n 8 "$OUT_DIR/${names[$i]}/log.txt"; }
done

"$PYTHON" - "$OUT_DIR" "${names[@]}" <<'EOF'
import json, sys
from pathlib import Path
out, names = Path(sys.argv[1]), sys.argv[2:]
keys = (("reward_per_question", "reward/question"), ("elicited_share_sampled_dialogues", "sampled dialogues"),
        ("elicited_share_dialogue_no_repeat", "greedy, no repeat"))
print(f"\n{'recipe':<20}{'steps':>6}{'s/step':>8}" + "".join(f"{label:>30}" for _, label in keys))
for name in names:
    path = out / name / "learning.json"
    if not path.is_file():
        print(f"{name:<20}  (no result: see {out / name / 'log.txt'})")
        continue
    r = json.loads(path.read_text())
    cells = "".join(f"{r[k]['difference']:>+10.3f} [{r[k]['ci_low']:+.3f}, {r[k]['ci_high']:+.3f}]" for k, _ in keys)
    print(f"{name:<20}{r['train_steps']:>6}{r['seconds_per_step_median'] or 0:>8.2f}{cells}")
print("(paired differences trained - untrained over the held-out tasks, bootstrap 95% intervals)")
EOF
