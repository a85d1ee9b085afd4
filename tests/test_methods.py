"""Training methods as units: the registry, and a third method added from outside the package.

A method is one module with its settings class and its entry point (``proactive.methods``). The toy
method here, "untrained" training that only attaches the LoRA adapter, is registered by this test file
alone and runs through ``train``, ``demo`` and the report without any other module knowing its name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from proactive import methods
from proactive.cli import main
from proactive.config import load_profile
from proactive.errors import ProactiveError

PACKAGE = Path(__file__).resolve().parents[1] / "proactive"


@dataclass(frozen=True)
class AsIsSettings:
    """The toy method's one setting, to show a method's section of a profile (``train.as_is:``)."""

    note: str = "no training"
    RANGES: ClassVar[dict] = {}


class AsIs(methods.Method):
    """No training: attach the LoRA adapter at its initialisation (B = 0, so it changes nothing) and stop."""

    name = "as_is"
    label = "as is"
    unit = "passes"
    counted = ("pass", "passes")
    figure_title = "as is"
    settings_class = AsIsSettings

    def amount(self, settings: Any, max_steps: int | None = None) -> int:
        return 1

    def train(self, model: Any, run: methods.StageRun) -> Any:
        from peft import get_peft_model

        if run.peft_config is not None:
            model, run.peft_config = get_peft_model(model, run.peft_config), None
        run.note(as_is=run.settings.note)
        run.done = 1
        return model


@pytest.fixture()
def as_is():
    method = methods.register(AsIs())
    yield method
    methods.unregister(method.name)


def test_the_method_is_compared_as_a_string_only_in_the_registry():
    """No module but the registry (and each method's own module) names a method to decide what to do."""
    import re

    pattern = re.compile(r'"rft\+grpo"|== "rft"|== "grpo"|!= "rft"|!= "grpo"|in \("rft"')
    found = [f"{p.relative_to(PACKAGE)}:{n}" for p in PACKAGE.rglob("*.py")
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert all(f.startswith("methods/__init__.py:") for f in found), found  # the registry reads "rft+grpo"


def test_the_registry_knows_the_built_in_methods_and_reads_stage_lists():
    assert methods.names()[:2] == ["rft", "grpo"]
    assert methods.parse("rft+grpo") == ("rft", "grpo") and methods.parse(["grpo"]) == ("grpo",)
    assert methods.parse(3) is None
    rft, grpo = methods.get("rft"), methods.get("grpo")
    assert (rft.label, rft.unit, grpo.label, grpo.unit) == ("RFT", "RFT rounds", "GRPO", "steps")
    profile = load_profile("cpu-unsloth")
    assert methods.describe(profile) == "RFT, 1 round, then writer RFT, 1 round"
    assert methods.unit(profile) == "RFT rounds"  # the writer trains no policy: the count is RFT's
    both = profile.train.with_method("rft+grpo")
    from dataclasses import replace

    assert methods.describe(replace(profile, train=both)) == "RFT, 1 round, then GRPO, 40 steps"
    assert methods.describe(replace(profile, train=both), max_steps=1) == "RFT, 1 round, then GRPO, 1 step"
    with pytest.raises(KeyError):
        methods.get("dpo")
    with pytest.raises(ValueError, match="already registered"):
        methods.register(methods.get("rft"))


def test_a_third_method_loads_from_a_profile_once_registered(as_is, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("base: cpu-smoke\ntrain:\n  method: [as_is]\n  as_is: {note: kept as it was}\n")
    profile = load_profile(str(path))
    assert profile.train.method == ("as_is",) and profile.train.as_is.note == "kept as it was"
    path.write_text("base: cpu-smoke\ntrain:\n  as_is: {nothing: 1}\n")
    with pytest.raises(ProactiveError, match=r"unknown train.as_is settings \['nothing'\]"):
        load_profile(str(path))
    methods.unregister("as_is")
    path.write_text("base: cpu-smoke\ntrain:\n  method: [as_is]\n")
    with pytest.raises(ProactiveError, match="is not a list of training methods"):
        load_profile(str(path))
    methods.register(as_is)


@pytest.mark.slow
def test_a_third_method_runs_through_train_demo_and_the_report(as_is, tmp_path, capsys):
    profile = tmp_path / "as-is.yaml"
    # cpu-smoke, smaller still: the point is the path through train, demo and report, not the figures (nor
    # IN3's section, which tests/test_cli.py's demo covers)
    profile.write_text("base: cpu-smoke\nn_tasks: 2\neval_samples: 1\nagreement_tasks: 1\nin3_held_out: 0\n"
                       "train:\n  method: [as_is]\n")
    assert main(["train", "--profile", str(profile), "--out", str(tmp_path / "train-run")]) == 0
    assert "trained 1 passes" in capsys.readouterr().out
    config = json.loads((tmp_path / "train-run" / "train" / "config.json").read_text())
    assert config["as_is"] == "no training" and config["train"]["method"] == ["as_is"]

    out = tmp_path / "demo"
    assert main(["demo", "--profile", str(profile), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "training (as is, 1 pass)" in printed and "1 passes in" in printed
    report = json.loads((out / "report.json").read_text())
    assert (report["method"], report["training"], report["train_unit"]) == ("as_is", "as is, 1 pass", "passes")
    assert "trained with as is, 1 pass (1 passes)" in (out / "report.html").read_text()
    # The adapter it saved is the untrained model (LoRA's B starts at zero): both ask the same questions.
    shares = report["headline"]["shares"]
    assert shares["trained"] == shares["untrained"]
