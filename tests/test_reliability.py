"""Reliability by class: each class of bad input or damage, with several variants of its own, gets one
line (or the right result), never a traceback, a silent wrong result or a prompt.

The classes: numbers no file of ours holds (thousands of digits, weights that sum to infinity, a 0 where
a list belongs), profile values TRL or PEFT would reject deep in a run, YAML aliases that multiply,
paths longer than the file system takes, forged evaluation files, profiles this machine cannot run,
damaged run folders, the human-evaluation API, line separators inside JSON text, Ctrl-C, requests
longer than a model reads, and facts that are not hidden or not there. The CLI cases run ``main`` in
this process; the Ctrl-C cases also run a real process in a pseudo-terminal.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from proactive.cli import main
from proactive.columns import partial_from_columns
from proactive.errors import ProactiveError, shown
from proactive.files import iter_jsonl, parse_json, read_json, storage_failure
from proactive.masking import PartialTask, mask_many
from proactive.tasks import Fact, load_tasks
from tests.test_backends import _Handler, server  # noqa: F401  (server: the loopback endpoint, a fixture)
from tests.test_bad_input import REWARD_ROW, _evaluation, _files, _write, writes_fail

ROW = json.dumps(REWARD_ROW)


def _held_out():
    return mask_many(list(load_tasks())[:2])


def _row(**changes) -> str:
    return json.dumps({**REWARD_ROW, **changes}) + "\n"


def _forged(**changes):
    data = _evaluation(_held_out())
    for key, value in changes.items():
        if key.startswith("turn."):
            data["tasks"][0]["turns"][0][key[5:]] = value
        else:
            data[key] = value
    return data


def _long_turns():
    data = _evaluation(_held_out())
    data["tasks"][0]["turns"] *= 4  # four questions in a file of 3-question dialogues
    return data


def _profile(text: str):
    return lambda d: _write(d / "p.yaml", text)


def _alias_bomb(levels: int, width: int, key: str) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [{', '.join(f'*a{level - 1}' for _ in range(width))}]")
    lines.append(f"{key}: [{', '.join(f'*a{levels - 1}' for _ in range(width))}]")
    return "\n".join(lines) + "\n"


LONG = "x" * 300  # one name past the file system's 255 bytes

# (id, setup(dir), argv, what the one line must say)
CASES = [
    # -- numbers: too many digits anywhere JSON is read, weights that overflow, a 0 for a list ----------
    ("reward-400-digit-field", lambda d: _write(d / "in.jsonl", ROW[:-1] + ', "n": ' + "7" * 400 + "}\n"),
     ["reward", "--input", "{d}/in.jsonl"], "a whole number of 400 digits"),
    ("reward-negative-long-number", lambda d: _write(d / "in.jsonl", ROW[:-1] + ', "n": -' + "1" * 5000 + "}\n"),
     ["reward", "--input", "{d}/in.jsonl"], "a whole number of 5,000 digits"),
    ("mask-long-number-in-task", lambda d: _write(d / "t.jsonl", '{"request": "Plan it", "x": ' + "9" * 4400 + "}\n"),
     ["mask", "--tasks", "{d}/t.jsonl"], "digits"),
    ("compare-long-turns-number", lambda d: _write(d / "a.json", json.dumps(_evaluation(_held_out()))[:-1]
                                                   + ', "extra": ' + "1" * 4301 + "}"),
     ["compare", "{d}/a.json"], "a whole number of 4,301 digits"),
    ("reward-importances-zero", lambda d: _write(d / "in.jsonl", _row(importances=0)),
     ["reward", "--input", "{d}/in.jsonl"], "'importances' must be finite positive numbers"),
    ("reward-importances-false", lambda d: _write(d / "in.jsonl", _row(importances=False)),
     ["reward", "--input", "{d}/in.jsonl"], "'importances' must be finite positive numbers"),
    ("reward-importances-empty-text", lambda d: _write(d / "in.jsonl", _row(importances="")),
     ["reward", "--input", "{d}/in.jsonl"], "'importances' must be finite positive numbers"),
    ("reward-importances-object", lambda d: _write(d / "in.jsonl", _row(importances={})),
     ["reward", "--input", "{d}/in.jsonl"], "'importances' must be finite positive numbers"),
    ("reward-importances-too-far-apart", lambda d: _write(d / "in.jsonl", _row(importances=[5e-324, 1e308])),
     ["reward", "--input", "{d}/in.jsonl"], "span too wide a range"),
    ("reward-history-zero", lambda d: _write(d / "in.jsonl", _row(history=0)),
     ["reward", "--input", "{d}/in.jsonl"], "'history' must be a list"),
    # -- profile values TRL or PEFT would refuse deep in a run -------------------------------------------
    ("lora-targets-empty", _profile("train: {lora_targets: []}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "train.lora_targets must be a non-empty list of layer names"),
    ("lora-targets-numbers", _profile("train: {lora_targets: [3, 4]}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "lora_targets: [3, 4] is not a valid"),
    ("lora-targets-spaces", _profile("train: {lora_targets: ['q proj']}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "layer names such as q_proj"),
    ("lora-targets-unknown-layer", _profile("base: cpu-smoke\ntrain: {lora_targets: [q_proj, gate_projection]}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "'gate_projection'] is not a linear layer"),
    ("rft-temperature-tiny", _profile("train: {rft_temperature: 1.0e-5}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "train.rft.temperature must be at least 0.01"),
    ("evaluate-temperature-tiny", None, ["evaluate", "--policy", "template", "--temperature", "1e-9"],
     "--temperature must be 0 (greedy) or from 0.01 to 10"),
    ("seed-past-31-bits", _profile("seed: 1099511627776\n"), ["demo", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "seed must be at most 2147483647 (got 1099511627776)"),
    ("train-seed-past-31-bits", _profile("train: {seed: 4294967296}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "train.seed must be at most 2147483647"),
    ("cli-seed-past-31-bits", None, ["mask", "--seed", str(2**40)], "--seed must be at most 2147483647"),
    ("cli-count-of-40-digits", None, ["mask", "--n", "1" * 40], "is not a whole number"),
    ("history-depths-empty", _profile("train: {history_depths: []}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "history_depths must be a non-empty list"),
    ("history-depths-huge", _profile("train: {history_depths: [0, 1000]}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "0 to 50"),
    ("model-blank", _profile("model: '   '\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "model is empty"),
    ("evaluate-turns-past-bound", None, ["evaluate", "--policy", "template", "--turns", "1000000000"],
     "--turns must be at most 50"),
    # -- YAML aliases that multiply, and files no profile is ----------------------------------------------
    ("alias-bomb-in-reward", _profile(_alias_bomb(4, 8, "reward")),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "YAML aliases"),
    ("alias-bomb-in-lora-targets", _profile("train:\n  lora_targets: &t [[a, b], [c, d]]\n  history_depths: [*t, *t]\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "is not a valid"),
    ("profile-number-of-5000-digits", _profile("seed: " + "8" * 5000 + "\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "a number of 5,000 digits"),
    ("profile-nested-5000-deep", _profile("description: " + "[" * 5000 + "]" * 5000 + "\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "nested too deeply"),
    ("max-steps-past-any-run", _profile("train: {max_steps: 100000000000}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "train.grpo.max_steps must be at most 2147483647"),
    ("profile-of-two-megabytes", _profile("description: '" + "x" * 2_000_000 + "'\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "a profile is a few hundred"),
    # -- paths the file system would refuse, and empty ones ------------------------------------------------
    ("mask-out-name-too-long", None, ["mask", "--n", "1", "--out", "{d}/" + LONG + ".jsonl"], "choose a shorter one"),
    ("mask-out-path-too-long", None, ["mask", "--n", "1", "--out", "{d}/" + "/".join(["y" * 200] * 25) + "/o.jsonl"],
     "the path is"),
    ("reward-input-name-too-long", None, ["reward", "--input", "{d}/" + LONG], "choose a shorter one"),
    ("evaluate-name-too-long", None, ["evaluate", "--policy", "template", "--name", LONG], "choose a shorter one"),
    ("evaluate-tasks-name-too-long", None, ["evaluate", "--policy", "template", "--tasks", LONG + ".jsonl"],
     "choose a shorter one"),
    ("train-out-too-long", None, ["train", "--profile", "cpu-smoke", "--out", "{d}/" + LONG], "choose a shorter one"),
    ("reward-out-empty", lambda d: _write(d / "in.jsonl", ROW + "\n"), ["reward", "--input", "{d}/in.jsonl", "--out", ""],
     "--out is empty"),
    ("mask-out-blank", None, ["mask", "--n", "1", "--out", "  "], "--out is empty"),
    ("evaluate-name-empty", None, ["evaluate", "--policy", "template", "--name", ""], "give a name of printable"),
    ("evaluate-name-escape", None, ["evaluate", "--policy", "template", "--name", "\x1b[2Jtrained"],
     "give a name of printable"),
    # -- forged evaluation files ----------------------------------------------------------------------------
    ("compare-sees-all-but-asked", lambda d: _write(d / "a.json", _forged(sees_all_facts=True)),
     ["compare", "{d}/a.json"], "sees_all_facts is true, yet the system asked questions"),
    ("compare-turns-negative", lambda d: _write(d / "a.json", _forged(turns=-3)), ["compare", "{d}/a.json"],
     "turns: must be 1 to 50"),
    ("compare-turns-billion", lambda d: _write(d / "a.json", _forged(turns=10**9)), ["compare", "{d}/a.json"],
     "turns: must be 1 to 50"),
    ("compare-turns-text", lambda d: _write(d / "a.json", _forged(turns="3")), ["compare", "{d}/a.json"],
     "turns: must be a whole number"),
    ("compare-more-turns-than-said", lambda d: _write(d / "a.json", _long_turns()), ["compare", "{d}/a.json"],
     "4 questions in a file of 3-question dialogues"),
    ("compare-turn-kind-unknown", lambda d: _write(d / "a.json", _forged(**{"turn.kind": "jackpot"})),
     ["compare", "{d}/a.json"], ".kind: must be one of"),
    ("compare-turn-kind-number", lambda d: _write(d / "a.json", _forged(**{"turn.kind": 7})),
     ["compare", "{d}/a.json"], ".kind: must be one of"),
    ("compare-confidence-above-one", lambda d: _write(d / "a.json", _forged(**{"turn.confidence": [4.0]})),
     ["compare", "{d}/a.json"], "must be probabilities"),
    ("compare-closest-text", lambda d: _write(d / "a.json", _forged(**{"turn.closest": "high"})),
     ["compare", "{d}/a.json"], ".closest: must be a number or null"),
    ("compare-known-source-list", lambda d: _write(d / "a.json", _forged(**{"turn.known_source": ["a"]})),
     ["compare", "{d}/a.json"], ".known_source: must be text"),
    ("compare-system-blank", lambda d: _write(d / "a.json", _forged(system="  ")), ["compare", "{d}/a.json"],
     "is not a name"),
    ("compare-system-escapes", lambda d: _write(d / "a.json", _forged(system="\x1b]0;pwned\x07trained")),
     ["compare", "{d}/a.json"], "is not a name"),
    ("compare-system-too-long", lambda d: _write(d / "a.json", _forged(system="t" * 500)), ["compare", "{d}/a.json"],
     "is not a name"),
    # -- profiles this machine cannot run: evaluate refuses them as train and demo do -----------------------
    ("evaluate-gpu-profile", None, ["evaluate", "--policy", "template", "--profile", "colab-t4"], "needs a CUDA GPU"),
    ("evaluate-unsloth-missing", _profile("use_unsloth: true\n"),
     ["evaluate", "--policy", "template", "--profile", "{d}/p.yaml"], "uses Unsloth, which is not installed"),
    # -- requests and facts that are not what a task holds --------------------------------------------------
    ("reward-request-of-12000-characters", lambda d: _write(d / "in.jsonl", _row(request="Plan it. " * 1400)),
     ["reward", "--input", "{d}/in.jsonl"], "its request is 12,599 characters"),
    ("reward-fact-of-zero-width-characters",
     lambda d: _write(d / "in.jsonl", _row(hidden_facts=["\u200b\u200d\u2060\u00ad", "We expect 120 guests."])),
     ["reward", "--input", "{d}/in.jsonl"], "its statement has no words"),
    ("reward-fact-is-the-request",
     lambda d: _write(d / "in.jsonl", _row(hidden_facts=["PLAN my wedding   reception!", "We expect 120 guests."])),
     ["reward", "--input", "{d}/in.jsonl"], "is in the request word for word"),
    ("reward-fact-inside-the-request",
     lambda d: _write(d / "in.jsonl", _row(request="Plan my wedding reception. We expect 120 guests.")),
     ["reward", "--input", "{d}/in.jsonl"], "is in the request word for word"),
    ("reward-same-fact-twice",
     lambda d: _write(d / "in.jsonl", _row(hidden_facts=["We expect 120 guests.", "we expect １２０ guests"])),
     ["reward", "--input", "{d}/in.jsonl"], "say the same"),
    ("mask-full-task-request-past-the-limit", lambda d: _write(d / "t.jsonl", json.dumps(
        {"id": "t1", "domain": "d", "title": "T", "objective": "Plan it. " * 1200, "deliverable": "A plan.",
         "facts": [{"id": f"f{i}", "statement": f"Fact {i} here.", "category": "context", "importance": 1}
                   for i in range(4)]}) + "\n"),
     ["mask", "--tasks", "{d}/t.jsonl"], "t.jsonl:1: field 'objective': the request with every fact is"),
    ("reward-5000-hidden-facts", lambda d: _write(d / "in.jsonl", _row(hidden_facts=[f"Fact {i}." for i in range(5000)])),
     ["reward", "--input", "{d}/in.jsonl"], "'hidden_facts' holds 5,000 facts"),
    ("reward-history-of-400-turns",
     lambda d: _write(d / "in.jsonl", _row(history=[{"question": "Who?", "answer": "Me."}] * 400)),
     ["reward", "--input", "{d}/in.jsonl"], "'history' holds 400 turns"),
    ("reward-input-empty", lambda d: _write(d / "in.jsonl", "\n\n"), ["reward", "--input", "{d}/in.jsonl", "--out",
                                                                     "{d}/out.jsonl"], "no question lines to score"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_class_of_bad_input_is_one_line_before_any_work(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _name, setup, argv, message = case
    if setup:
        setup(tmp_path)
    before = _files(tmp_path)
    argv = [a.replace("{d}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    stderr = capsys.readouterr().err
    err = [line for line in stderr.replace("\r", "\n").splitlines() if line.strip() and "%|" not in line]
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in stderr, err
    assert message in err[0]
    assert len(err[0]) < 600, "an error line quotes a bounded part of what it was given"
    if _name not in FOUND_WITH_THE_MODEL:
        assert _files(tmp_path) == before, "a refused command changed or added files"
    else:
        assert not (tmp_path / "run" / "train" / "adapter").exists(), "nothing was trained or saved"


#: Cases only the model can refuse (its layer names): the run folder exists by then, with its run.json.
FOUND_WITH_THE_MODEL = {"lora-targets-unknown-layer"}


# -- numbers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("weights", [[1e308, 1e308], [1e300, 3e300], [2.0, 2.0], [7, 7]])
def test_importances_are_relative_weights_that_never_overflow(weights):
    partial, _ = partial_from_columns({**REWARD_ROW, "importances": weights})
    assert all(0 < f.importance <= 1 for f in partial.hidden_facts)
    share = partial.share_of([partial.hidden_facts[0].id])
    assert share == pytest.approx(1 / (1 + weights[1] / weights[0]))  # the weights' ratio, whatever their size


def test_an_endpoint_reply_with_a_number_of_thousands_of_digits_is_one_line(server):  # noqa: F811
    from proactive.backends import OpenAIChat
    from proactive.errors import BackendError

    _Handler.reply = (200, '{"choices": [{"message": {"content": "ok"}}], "usage": {"total_tokens": ' + "9" * 4500 + "}}")
    with pytest.raises(BackendError, match="a whole number of 4,500 digits") as info:
        OpenAIChat(server, "m").chat([{"role": "user", "content": "hi"}])
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"a": ' * 50_000 + "1" + "}" * 50_000])
def test_json_nested_past_what_python_reads_is_one_line(text):
    with pytest.raises(ProactiveError, match="nested too deeply"):
        parse_json(text, "f.json")


@pytest.mark.parametrize("value", [list(range(5000)), "x" * 100_000, {"k": [[[[1]]]] * 900}])
def test_an_error_message_quotes_a_bounded_part_of_a_value(value):
    assert len(shown(value)) <= 60


# -- line separators inside JSON text -----------------------------------------------------------------------

SEPARATORS = "\u2028\u2029\u0085\x1c\x1d\x1e\x0b\x0c\r"


def test_every_jsonl_writer_and_reader_agree_on_line_separators(tmp_path):
    from proactive.human_eval import PairItem, load_items, save_items
    from proactive.run_folder import RunDir

    request = f"Plan my trip{SEPARATORS}to Lisbon."
    items = [PairItem("t/questions", "t", "questions", request, "a", "b", f"Who{SEPARATORS}?", "When?")]
    save_items(tmp_path / "items.jsonl", items)
    assert load_items(tmp_path / "items.jsonl") == items

    partial = PartialTask("t", "travel", request, (Fact("h0", f"The budget{SEPARATORS} is $900.", "budget", 1.0),))
    from proactive.config import load_profile
    from proactive.files import atomic_write_jsonl

    run = RunDir(tmp_path / "run", load_profile("cpu-smoke"))
    atomic_write_jsonl(run.masked_test, [partial.to_dict()])
    assert run.held_out() == [partial]
    assert [row for _, row in iter_jsonl(run.masked_test)] == [partial.to_dict()]


# -- human evaluation through the library ---------------------------------------------------------------------


@pytest.mark.parametrize("judgment, problem", [
    ({"kind": "questions", "system_a": "a", "system_b": "b", "winner": "a"}, "'item_id' missing"),
    ({"item_id": ["t", "q"], "kind": "questions", "system_a": "a", "system_b": "b", "winner": "a"}, "'item_id'"),
    ({"item_id": "t/q", "kind": "questions", "system_a": "a", "system_b": "b", "winner": "c"}, "neither system"),
    ([1, 2], "not an object"),
])
def test_a_judgment_that_is_not_one_is_one_line_from_file_and_from_the_api(judgment, problem, tmp_path):
    from proactive.human_eval import HumanEvalSession, PairItem, human_win_rates

    path = _write(tmp_path / "judgments.jsonl", json.dumps(judgment) + "\n")
    item = PairItem("t/q", "t", "questions", "Plan it.", "a", "b", "Who?", "When?")
    with pytest.raises(ProactiveError, match="judgments.jsonl:1: not a judgment") as info:
        HumanEvalSession([item], path)
    assert problem in str(info.value)
    with pytest.raises(ProactiveError, match="judgment 0: not a judgment"):
        human_win_rates([judgment])


@pytest.mark.parametrize("record, problem", [
    ({"item_id": "t/q"}, "missing"),
    ({"item_id": 3, "task_id": "t", "kind": "q", "request": "r", "system_a": "a", "system_b": "b", "text_a": "x",
      "text_b": "y"}, "'item_id' must be text"),
    ({"item_id": "t/q", "task_id": "t", "kind": "q", "request": "r", "system_a": "a", "system_b": "b", "text_a": "x",
      "text_b": "y", "partial": [1]}, "'partial' must be an object"),
    ({"item_id": "t/q", "task_id": "t", "kind": "q", "request": "r", "system_a": "a", "system_b": "b", "text_a": "x",
      "text_b": "y", "score": 1}, "unknown fields ['score']"),
])
def test_a_comparison_item_that_is_not_one_is_a_file_line_error(record, problem, tmp_path):
    from proactive.human_eval import load_items

    path = _write(tmp_path / "items.jsonl", json.dumps(record) + "\n")
    with pytest.raises(ProactiveError, match="items.jsonl:1: not a comparison item") as info:
        load_items(path)
    assert problem in str(info.value)


# -- run-folder damage ---------------------------------------------------------------------------------------


def _checkpoint(folder: Path, step: int) -> Path:
    import torch
    from safetensors.torch import save_file

    path = folder / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    torch.save({"state": {}}, path / "optimizer.pt")
    torch.save({"last_epoch": step}, path / "scheduler.pt")
    save_file({"w": torch.zeros(2)}, str(path / "adapter_model.safetensors"))
    return path


DAMAGE = {
    "step-as-word": lambda p: (p / "trainer_state.json").write_text('{"global_step": "one"}'),
    "step-as-true": lambda p: (p / "trainer_state.json").write_text('{"global_step": true}'),
    "state-a-list": lambda p: (p / "trainer_state.json").write_text("[40]"),
    "state-not-utf8": lambda p: (p / "trainer_state.json").write_bytes(b'{"global_step": 4\xff}'),
    "optimizer-empty": lambda p: (p / "optimizer.pt").write_bytes(b""),
    "optimizer-garbage": lambda p: (p / "optimizer.pt").write_bytes(os.urandom(4096)),
    "optimizer-cut-short": lambda p: (p / "optimizer.pt").write_bytes((p / "optimizer.pt").read_bytes()[:300]),
    "scheduler-garbage": lambda p: (p / "scheduler.pt").write_bytes(b"not a torch archive"),
    "weights-garbage": lambda p: (p / "adapter_model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{bad"),
    "weights-missing": lambda p: (p / "adapter_model.safetensors").unlink(),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_checkpoint_is_named_removed_and_the_previous_one_resumed(damage, tmp_path, caplog):
    from proactive.training import last_complete_checkpoint

    earlier = _checkpoint(tmp_path, 20)
    latest = _checkpoint(tmp_path, 40)
    assert last_complete_checkpoint(tmp_path) == str(latest)  # undamaged, the newest is taken
    DAMAGE[damage](latest)
    with caplog.at_level("WARNING"):
        assert last_complete_checkpoint(tmp_path) == str(earlier)
    assert "checkpoint-40 (" in caplog.text and "resuming from checkpoint-20" in caplog.text
    assert not latest.exists()


@pytest.mark.parametrize("bad, message", [
    (b'{"step": 1}\n\xff\xfe{"step": 2}\n{"step": 3}\n', r"metrics.jsonl:2: not UTF-8 text \(damaged\)"),
    (b'{"step": 1}\n{"step": ' + b"9" * 5000 + b"}\n{\"step\": 3}\n", "metrics.jsonl:2: not a JSON record"),
])
def test_damaged_metrics_say_which_line_and_a_torn_last_line_is_dropped(bad, message, tmp_path):
    from proactive.training import read_metrics

    path = _write(tmp_path / "metrics.jsonl", bad)
    with pytest.raises(ProactiveError, match=message):
        read_metrics(path)
    torn = _write(tmp_path / "torn.jsonl", b'{"step": 1}\n{"step": 2, "loss": \xff')
    assert read_metrics(torn) == [{"step": 1}]


@pytest.mark.parametrize("error", [
    RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534"),
    RuntimeError("PytorchStreamWriter failed writing file data/3: file write failed"),
    Exception("Error while serializing: I/O error: File too large (os error 27)"),
    Exception("Error while serializing: I/O error: No space left on device (os error 28)"),
])
def test_a_save_the_file_system_refused_is_one_line(error, capsys, monkeypatch):
    def refuse(args):
        raise error

    monkeypatch.setattr("proactive.cli.cmd_train", refuse)
    assert main(["train", "--profile", "cpu-smoke", "--out", "/tmp/never-made"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: a model or checkpoint file could not be written") and "\n" not in err
    assert storage_failure(RuntimeError("CUDA out of memory")) is None


def test_a_file_over_the_size_limit_is_one_line_and_the_earlier_file_stays(tmp_path, capsys, monkeypatch):
    out = _write(tmp_path / "out.jsonl", "earlier\n")
    writes_fail(monkeypatch, errno.EFBIG)
    assert main(["mask", "--n", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "larger than this system lets a file grow" in err and "\n" not in err
    assert out.read_text() == "earlier\n"


def test_an_adapter_config_with_a_byte_order_mark_is_read_as_json(tmp_path):
    from proactive.models import load_adapter

    config = {"peft_type": "LORA", "r": 8, "target_modules": ["q_proj"], "base_model_name_or_path": "smollm2-135m-instruct"}
    path = _write(tmp_path / "adapter" / "adapter_config.json", "\ufeff" + json.dumps(config))
    assert read_json(path) == config
    _write(tmp_path / "adapter" / "adapter_model.safetensors", b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    with pytest.raises(ProactiveError) as info:  # read as a config; its (empty) weights are what is wrong
        load_adapter(tmp_path / "adapter")
    assert "cut short" not in str(info.value) and "does not load on" in str(info.value)


# -- requests longer than the model reads ------------------------------------------------------------------


def test_a_prompt_past_the_models_context_is_one_line_before_generating(bundled_chat):
    from types import SimpleNamespace

    from proactive.policy import LocalPolicy

    class _Model:
        config = SimpleNamespace(max_position_embeddings=64)
        device = "cpu"

        def generate(self, **kwargs):
            raise AssertionError("generated past the context")

    partial = PartialTask("t", "d", "Plan my trip to Lisbon for the family. " * 8,
                          (Fact("h0", "The budget is $900.", "budget", 1.0),))
    policy = LocalPolicy(_Model(), bundled_chat.tokenizer, "Question: What", name="trained")
    with pytest.raises(ProactiveError, match=r"trained: a prompt of [\d,]+ tokens and 24 to write do not fit the "
                                             "model's context of 64 tokens"):
        policy.ask_many([partial])


# -- Ctrl-C ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["reward", "evaluate", "train", "demo", "mask"])
def test_ctrl_c_anywhere_is_one_line_saying_what_was_kept(command, tmp_path, capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(f"proactive.cli.cmd_{command}", interrupted)
    _write(tmp_path / "in.jsonl", ROW + "\n")
    argv = {"reward": ["reward", "--input", str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "o.jsonl")],
            "evaluate": ["evaluate", "--policy", "template"], "train": ["train", "--profile", "cpu-smoke"],
            "demo": ["demo", "--profile", "cpu-smoke", "--out", str(tmp_path / "run")], "mask": ["mask"]}[command]
    assert main(argv) == 130
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"interrupted: proactive {command} stopped") and "\n" not in err
    assert ("resume" in err) == (command in ("train", "demo"))


def _interrupt_in_a_terminal(argv: list[str], cwd: Path, after: str | None, wait: float) -> tuple[int, str]:
    """Run ``proactive ARGV`` in a pseudo-terminal, press Ctrl-C once ``after`` is printed (or after
    ``wait`` seconds), and return its exit status and everything it printed."""
    leader, follower = pty.openpty()
    # a terminal 100 columns wide (a new pseudo-terminal is 0 by 0, and progress bars then draw nothing)
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    # Ctrl-C as a terminal's foreground process has it: a test run in the background (CI, make under
    # nohup) passes SIGINT on ignored, and Python then never raises KeyboardInterrupt at all.
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "from proactive.cli import main; sys.exit(main())")
    process = subprocess.Popen([sys.executable, "-c", code, *argv], cwd=cwd, stdin=follower, stdout=follower,
                               stderr=follower, start_new_session=True)
    os.close(follower)
    seen, started, sent = b"", time.time(), False
    while True:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if not sent and ((after and after.encode() in seen) or (not after and time.time() - started > wait)):
            os.killpg(process.pid, signal.SIGINT)  # what the terminal sends the foreground group on Ctrl-C
            sent = True
        if process.poll() is not None and not ready:
            break
        if time.time() - started > 180:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(seen.decode(errors="replace")[-2000:])
    process.wait()
    os.close(leader)
    assert sent, f"the command ended before it could be interrupted: {seen.decode(errors='replace')[-500:]}"
    return process.returncode, seen.decode(errors="replace")


@pytest.mark.parametrize("argv, after, wait", [
    (["reward", "--input", "{d}/in.jsonl", "--out", "{d}/out.jsonl", "--batch-size", "1"], "scoring", 0),
    # the command's own line before the policy loads (dependencies' loading bars show with -v only)
    (["train", "--profile", "cpu-smoke", "--out", "{d}/run"], "training smollm2-135m-instruct (", 0),
], ids=["reward-while-scoring", "train-while-the-model-loads"])
def test_ctrl_c_in_a_terminal_prints_one_line(argv, after, wait, tmp_path):
    _write(tmp_path / "in.jsonl", (ROW + "\n") * 400)
    code, printed = _interrupt_in_a_terminal([a.replace("{d}", str(tmp_path)) for a in argv], tmp_path, after, wait)
    lines = [ln for ln in printed.replace("\r", "\n").splitlines() if ln.strip() and "%|" not in ln
             and not ln.startswith(("[1/", "Loading"))]
    assert code == 130, printed[-2000:]
    assert "Traceback" not in printed and "KeyboardInterrupt" not in printed, printed[-3000:]
    said = [ln for ln in lines if ln.startswith("interrupted: proactive")]
    assert len(said) == 1 and said[0] in lines[-2:], printed[-2000:]
    assert not (tmp_path / "out.jsonl").exists()
