"""train.report_to: every training record (RFT's rounds, GRPO's steps) reaches the experiment trackers a
profile names, offline (TensorBoard's event files, read back here); a tracker that is missing or
misnamed is one line before any model loads, and one that fails mid-run does not stop training."""

from __future__ import annotations

import sys
import types

import pytest

from proactive.cli import main
from proactive.config import load_profile
from proactive.errors import ProactiveError
from proactive.tracking import Tracker, check_installed, open_tracker, parse_report_to, tensorboard_dir


def scalars(folder) -> dict[str, list[tuple[int, float]]]:
    """Every scalar TensorBoard would show for an event folder: tag -> [(step, value)]."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return {tag: [(e.step, round(e.value, 5)) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


@pytest.mark.parametrize("value, expected", [
    ("tensorboard", ("tensorboard",)), ("TensorBoard, wandb", ("tensorboard", "wandb")),
    (["trackio"], ("trackio",)), ("none", ()), (None, ()), ([], ()), ("tensorboard,tensorboard", ("tensorboard",)),
])
def test_report_to_reads_one_name_a_list_or_none(value, expected):
    assert parse_report_to(value) == expected


@pytest.mark.parametrize("value", ["mlflow", "tensorboard,comet", 3, {"a": 1}, ["tensorboard", 2]])
def test_report_to_refuses_what_is_not_a_tracker_in_one_line(value):
    with pytest.raises(ProactiveError) as caught:
        parse_report_to(value)
    assert "\n" not in str(caught.value) and "tensorboard, trackio, wandb" in str(caught.value)


def test_a_profile_names_its_trackers(tmp_path):
    recipe = tmp_path / "watched.yaml"
    recipe.write_text("base: cpu-smoke\ntrain:\n  report_to: [tensorboard, trackio]\n")
    assert load_profile(str(recipe)).train.report_to == ("tensorboard", "trackio")
    recipe.write_text("base: cpu-smoke\ntrain:\n  report_to: none\n")
    assert load_profile(str(recipe)).train.report_to == ()
    assert load_profile("cpu-smoke").train.report_to == ()  # CI's profile tracks nothing
    recipe.write_text("base: cpu-smoke\ntrain:\n  report_to: neptune\n")
    with pytest.raises(ProactiveError, match=r"watched.yaml: train.report_to: 'neptune' is not a tracker"):
        load_profile(str(recipe))


def test_a_tracker_that_is_not_installed_is_refused_before_training(tmp_path, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a))
    with pytest.raises(ProactiveError, match=r"report_to names wandb, which is not installed here: pip install wandb"):
        check_installed(("tensorboard", "wandb"))
    # The CLI says so in one line and leaves no run folder behind.
    assert main(["train", "--profile", "cpu-smoke", "--out", str(tmp_path / "run"), "--report-to", "wandb"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install wandb" in err[0]
    assert not (tmp_path / "run").exists()


def test_report_to_on_the_command_line_is_checked_by_argparse(capsys):
    assert main(["train", "--profile", "cpu-smoke", "--report-to", "mlflow"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--report-to: 'mlflow' is not a tracker" in err[0]


def test_tensorboard_gets_each_methods_records_at_their_own_steps(tmp_path):
    tracker = open_tracker(("tensorboard",), tmp_path / "train", {"name": "x"})
    tracker.log("rft", 1, {"method": "rft", "round": 1, "kept": 70, "kept_share": 0.5, "sft_loss": None})
    for step in (1, 2):
        tracker.log("grpo", step, {"step": step, "reward": 0.1 * step, "terms/elicitation": 0.2, "flag": True,
                                   "bad": float("nan")})
    tracker.close()
    rft = scalars(tensorboard_dir(tmp_path / "train") / "rft")
    grpo = scalars(tensorboard_dir(tmp_path / "train") / "grpo")
    assert rft["rft/kept_share"] == [(1, 0.5)] and rft["rft/kept"] == [(1, 70.0)] and "rft/sft_loss" not in rft
    assert grpo["grpo/reward"] == [(1, 0.1), (2, 0.2)] and grpo["grpo/terms/elicitation"] == [(1, 0.2), (2, 0.2)]
    assert "grpo/flag" not in grpo and "grpo/bad" not in grpo  # a bool is no measurement; NaN is dropped


def test_a_resumed_run_replaces_what_the_interrupted_one_logged_after_its_checkpoint(tmp_path):
    first = Tracker(("tensorboard",), tmp_path, "run", {})
    for step in (1, 2, 3):
        first.log("grpo", step, {"reward": float(step)})
    first.close()  # stopped after step 3; its last checkpoint was step 2, so step 3 is done again
    second = Tracker(("tensorboard",), tmp_path, "run", {})
    for step in (3, 4):
        second.log("grpo", step, {"reward": 10.0 * step})
    second.close()
    assert scalars(tensorboard_dir(tmp_path) / "grpo")["grpo/reward"] == [(1, 1.0), (2, 2.0), (3, 30.0), (4, 40.0)]


class _FakeRun:
    def __init__(self, **kwargs):
        self.init, self.logged, self.metrics, self.finished = kwargs, [], [], False

    def log(self, values):
        self.logged.append(values)

    def define_metric(self, name, step_metric):
        self.metrics.append((name, step_metric))

    def finish(self):
        self.finished = True


def test_trackio_and_wandb_get_the_run_name_its_settings_and_each_methods_counter(tmp_path, monkeypatch):
    runs = {}
    trackio = types.ModuleType("trackio")
    trackio.init = lambda **kw: runs.setdefault("trackio", _FakeRun(**kw))
    trackio.log = lambda values: runs["trackio"].log(values)
    trackio.finish = lambda: runs["trackio"].finish()
    wandb = types.ModuleType("wandb")
    wandb.init = lambda **kw: runs.setdefault("wandb", _FakeRun(**kw))
    monkeypatch.setitem(sys.modules, "trackio", trackio)
    monkeypatch.setitem(sys.modules, "wandb", wandb)
    monkeypatch.setattr("proactive.tracking.check_installed", lambda names: None)

    tracker = open_tracker(("trackio", "wandb"), tmp_path / "demo" / "train", {"model": "m"})
    tracker.log("rft", 1, {"kept_share": 0.5})
    tracker.log("grpo", 1, {"reward": 0.25})
    tracker.log("grpo", 2, {"reward": 0.5})
    tracker.close()
    for name in ("trackio", "wandb"):
        run = runs[name]
        assert run.init["project"] == "proactive" and run.init["name"] == "demo" and run.init["config"] == {"model": "m"}
        assert run.logged == [{"rft/kept_share": 0.5, "rft/step": 1}, {"grpo/reward": 0.25, "grpo/step": 1},
                              {"grpo/reward": 0.5, "grpo/step": 2}]
        assert run.finished
    assert runs["wandb"].metrics == [("rft/*", "rft/step"), ("grpo/*", "grpo/step")]
    assert runs["wandb"].init["dir"] == str(tmp_path / "demo" / "train")


def test_a_tracker_that_fails_mid_run_is_dropped_with_one_warning_and_the_others_go_on(tmp_path, monkeypatch, caplog):
    tracker = Tracker(("tensorboard",), tmp_path, "run", {})

    def broken(method, step, values):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tracker, "_log_tensorboard", broken)
    with caplog.at_level("WARNING", logger="proactive"):
        tracker.log("grpo", 1, {"reward": 1.0})
        tracker.log("grpo", 2, {"reward": 2.0})
    assert caplog.text.count("report_to tensorboard stopped at grpo step 1") == 1 and tracker.names == ()
    tracker.close()


@pytest.mark.slow
def test_a_cpu_smoke_run_shows_rft_rounds_and_grpo_steps_in_tensorboard(tmp_path, capsys):
    recipe = tmp_path / "watched.yaml"
    recipe.write_text(
        "base: cpu-smoke\n"
        "train:\n"
        "  method: [rft, grpo]\n"
        "  train_tasks: 3\n"
        "  in3_tasks: 0\n"
        "  rft: {rounds: 1, hinted_rounds: 1, samples: 2, turns: 2, epochs: 1}\n")
    run = tmp_path / "run"
    assert main(["train", "--profile", str(recipe), "--out", str(run), "--report-to", "tensorboard"]) == 0
    shown = capsys.readouterr()
    logdir = tensorboard_dir(run / "train")
    assert f"watch training: tensorboard --logdir {logdir}" in shown.out + shown.err
    rft, grpo = scalars(logdir / "rft"), scalars(logdir / "grpo")
    assert [step for step, _ in rft["rft/kept_share"]] == [1] and rft["rft/tasks"] == [(1, 3.0)]
    assert [step for step, _ in grpo["grpo/reward"]] == [1, 2]
    assert {"grpo/terms/elicitation", "grpo/completions/mean_length"} <= set(grpo)
    # The same numbers as metrics.jsonl's.
    from proactive.training import read_metrics

    records = read_metrics(run / "train" / "metrics.jsonl")
    assert [round(r["reward"], 5) for r in records if "step" in r] == [v for _, v in grpo["grpo/reward"]]
