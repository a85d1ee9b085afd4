"""Past one process: the same trainer under two processes (torchrun, gloo on CPU), as a multi-GPU
run uses it. Both ranks train; only the main process writes the run folder; the adapter loads back."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_two_processes_train_and_only_the_main_one_writes_the_run_folder(tmp_path):
    run = tmp_path / "run"
    out = run / "train"
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    assert torchrun, "torchrun comes with torch"
    done = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "proactive.cli", "train",
         "--profile", "cpu-smoke", "--out", str(run)],
        check=False, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    finished = [line for line in done.stdout.splitlines() if line.startswith("trained 2 steps")]
    assert len(finished) == 2, done.stdout  # one line per rank: both trained
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if line.strip()]
    assert [m["step"] for m in metrics] == [1, 2]  # written once, by rank 0 (two writers: four lines)
    config = json.loads((out / "config.json").read_text())
    assert config["name"] == "cpu-smoke" and config["max_steps"] == 2
    trainer_state = json.loads(next(out.glob("checkpoints/checkpoint-2/trainer_state.json")).read_text())
    assert trainer_state["global_step"] == 2

    from proactive.models import load_adapter

    model, _ = load_adapter(out / "adapter")
    assert any("lora" in name for name, _ in model.named_parameters())
    assert not list(run.glob("**/*.tmp*"))  # nothing half-written
    assert json.loads((run / "run.json").read_text())["profile"] == "cpu-smoke"
