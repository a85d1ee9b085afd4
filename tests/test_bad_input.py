"""Bad input, on every subcommand, is one line on stderr: never a traceback, never a silent wrong result,
nothing half-written, an earlier output left as it was.

Each case is one class of mistake (non-finite or out-of-range numbers, a file cut to the profile's
size, an endpoint that answers with something other than text, a forged evaluation file, a full disk,
a second writer, a look-alike file type ...) on one subcommand. The cases run ``main`` in this process,
so they cost milliseconds unless the command must load the embedding model first.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from proactive.cli import main
from proactive.masking import mask_many
from proactive.tasks import load_tasks
from tests.test_backends import _Handler, server  # noqa: F401  (server: the loopback endpoint, a fixture)

EARLIER = '{"an": "earlier output"}\n'


def _answers(content) -> None:
    """The loopback OpenAI-compatible server (``tests.test_backends``) answers every chat with ``content``."""
    _Handler.reply = (200, {"choices": [{"message": {"role": "assistant", "content": content}}]})


def _evaluation(partials, name="trained", **changes) -> dict:
    """An evaluation file as `proactive evaluate` writes it, for hand-made (and hand-forged) variants."""
    tasks = []
    for p in partials:
        first = p.hidden_facts[0]
        tasks.append({"partial": p.to_dict(), "outline": "An outline.",
                      "turns": [{"question": "What is it?", "answer": first.statement, "revealed": [first.id],
                                 "kind": "revealed", "confidence": [0.9]}],
                      "covered_hidden": [False] * len(p.hidden_facts),
                      "covered_visible": [False] * len(p.visible_facts)})
    return {"system": name, "judge": "embedding", "turns": 3, "sees_all_facts": False, "tasks": tasks, **changes}


def _write(path: Path, content) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


REWARD_ROW = {"request": "Plan my wedding reception.", "hidden_facts": ["The budget is $15,000.", "We expect 120 guests."],
              "question": "What is your budget?"}


def _profile(text: str):
    return lambda d: _write(d / "p.yaml", text)


# (id, setup(dir) -> None, argv (with {d} for the folder and {url} for the endpoint), what the line must say)
CASES = [
    # -- non-finite and out-of-range numbers in a profile, refused before any work ----------------------
    ("nan-shaping", _profile("reward: {shaping: .nan}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "RewardConfig.shaping must be a finite, non-negative number"),
    ("nan-learning-rate", _profile("train: {learning_rate: .nan}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "learning_rate must be a finite number"),
    ("inf-rft-rate", _profile("train: {rft_learning_rate: .inf}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "train.rft.learning_rate must be a finite number"),
    ("negative-temperature", _profile("train: {temperature: -1}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "train.grpo.temperature must be at least 0.01"),
    ("zero-lora-rank", _profile("train: {lora_r: 0}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "train.lora_r must be at least 1"),
    ("one-generation", _profile("train: {num_generations: 1}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "train.grpo.num_generations must be at least 2"),
    ("bogus-scaling", _profile("train: {scale_rewards: bogus}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "train.grpo.scale_rewards 'bogus' is not one of group, batch, none"),
    ("dropout-one", _profile("train: {lora_dropout: 1.5}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "train.lora_dropout must be at most 0.99"),
    ("own-history-share", _profile("train: {own_history: 2}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "train.grpo.own_history must be at most 1"),
    ("negative-depth", _profile("train: {history_depths: [0, -1]}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "train.grpo.history_depths must be a non-empty list of whole numbers"),
    ("more-hinted-than-rounds", _profile("train: {rft_rounds: 1, rft_hinted_rounds: 2}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "train.rft.hinted_rounds (2) is more than rounds (1)"),
    # the same settings in their method's own section (the shape profiles have now)
    ("grpo-section-temperature", _profile("train: {grpo: {temperature: 0}}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "train.grpo.temperature must be at least 0.01"),
    ("rft-section-rounds-zero", _profile("train: {rft: {rounds: 0}}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "train.rft.rounds must be at least 1"),
    ("writer-section-samples-zero", _profile("train: {method: [rft, writer], writer: {samples: 0}}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "train.writer.samples must be at least 1"),
    ("writer-section-learning-rate", _profile("train: {writer: {learning_rate: 0}}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "train.writer.learning_rate must be greater than 0 and at most 1 (got 0)"),
    ("rft-section-unknown-key", _profile("train: {rft: {round: 2}}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "unknown train.rft settings ['round']"),
    ("rft-section-not-a-mapping", _profile("train: {rft: 3}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "train.rft must be a YAML mapping"),
    ("old-and-new-key-both", _profile("train: {rft_rounds: 2, rft: {rounds: 3}}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "train.rft_rounds and train.rft.rounds are the same setting"),
    ("method-unknown", _profile("train: {method: [rft, dpo]}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "is not a list of training methods (rft, grpo, writer)"),
    ("method-twice", _profile("train: {method: [grpo, grpo]}\n"),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "each at most once"),
    ("cli-method-unknown", None, ["train", "--profile", "cpu-smoke", "--method", "dpo"], "'dpo' is not a training method"),
    ("train-tasks-zero", _profile("train: {train_tasks: 0}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "train.train_tasks must be at least 1"),
    ("train-tasks-negative", _profile("train: {train_tasks: -2}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "train.train_tasks must be at least 1"),
    ("n-tasks-negative", _profile("n_tasks: -1\n"), ["evaluate", "--policy", "template", "--profile", "{d}/p.yaml",
                                                     "--out", "{d}/e.json"], "n_tasks must be at least 1"),
    ("eval-samples-zero", _profile("eval_samples: 0\n"), ["demo", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "eval_samples must be at least 1"),
    ("duplicate-key", _profile("seed: 1\nseed: 2\n"), ["demo", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "key 'seed' is given twice"),
    ("latin-1-profile", lambda d: _write(d / "p.yaml", "description: caf\xe9\n".encode("latin-1")),
     ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"], "not UTF-8 text"),
    ("bool-for-number", _profile("train: {max_steps: yes}\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "max_steps: True is not a valid int"),
    # -- command-line numbers ------------------------------------------------------------------------
    ("reward-batch-zero", lambda d: _write(d / "in.jsonl", json.dumps(REWARD_ROW) + "\n"),
     ["reward", "--input", "{d}/in.jsonl", "--batch-size", "0"], "--batch-size must be at least 1 (got 0)"),
    ("reward-batch-negative", lambda d: _write(d / "in.jsonl", json.dumps(REWARD_ROW) + "\n"),
     ["reward", "--input", "{d}/in.jsonl", "--batch-size", "-1"], "--batch-size must be at least 1 (got -1)"),
    ("train-max-steps-zero", None, ["train", "--profile", "cpu-smoke", "--out", "{d}/run", "--max-steps", "0"],
     "--max-steps must be at least 1 (got 0)"),
    ("evaluate-nan-temperature", None, ["evaluate", "--policy", "template", "--temperature", "nan"],
     "--temperature must be 0 (greedy) or from 0.01 to 10"),
    ("evaluate-zero-turns", None, ["evaluate", "--policy", "template", "--turns", "0"], "--turns must be at least 1"),
    ("demo-zero-samples", None, ["demo", "--profile", "cpu-smoke", "--samples", "0", "--out", "{d}/run"],
     "--samples must be at least 1"),
    ("generate-words-for-n", None, ["corpus", "generate", "--backend", "local", "--domain", "x", "--n", "five",
                                    "--out", "{d}/t.jsonl"], "'five' is not a whole number"),
    # -- numbers in input files ----------------------------------------------------------------------
    ("reward-infinite-importance",
     lambda d: _write(d / "in.jsonl", json.dumps({**REWARD_ROW, "importances": [float("inf"), 1]}) + "\n"),
     ["reward", "--input", "{d}/in.jsonl", "--out", "{d}/out.jsonl"], "'importances' must be finite positive numbers"),
    ("reward-nan-importance",
     lambda d: _write(d / "in.jsonl", json.dumps({**REWARD_ROW, "importances": [float("nan"), 1]}) + "\n"),
     ["reward", "--input", "{d}/in.jsonl"], "'importances' must be finite positive numbers"),
    # -- endpoints that answer with something other than text -------------------------------------------
    ("reward-endpoint-null", lambda d: _write(d / "in.jsonl", json.dumps(REWARD_ROW) + "\n"),
     ["reward", "--input", "{d}/in.jsonl", "--backend", "openai:m@{url}", "--out", "{d}/out.jsonl"],
     "content is null, not text"),
    ("generate-endpoint-null", None,
     ["corpus", "generate", "--backend", "openai:m@{url}", "--domain", "weddings", "--n", "1", "--out", "{d}/out.jsonl"],
     "content is null, not text"),
    ("compare-judge-null", lambda d: (_write(d / "a.json", _evaluation(_held_out())),
                                      _write(d / "b.json", _evaluation(_held_out(), name="template"))),
     ["compare", "{d}/a.json", "{d}/b.json", "--judge", "openai:m@{url}"], "content is null, not text"),
    # -- evaluation files: empty, forged, wrongly typed -------------------------------------------------
    ("compare-no-tasks", lambda d: (_write(d / "a.json", _evaluation([])), _write(d / "b.json", _evaluation([], name="b"))),
     ["compare", "{d}/a.json", "{d}/b.json", "--out", "{d}/out.json"], "the file holds no tasks"),
    ("compare-forged-fact-id", lambda d: _write(d / "a.json", _forged_revealed()),
     ["compare", "{d}/a.json", "--out", "{d}/out.json"], "is not one of the task's hidden facts"),
    ("compare-word-importance", lambda d: _write(d / "a.json", _word_importance()),
     ["compare", "{d}/a.json", "--out", "{d}/out.json"], "importance must be a number in (0, 1]"),
    ("compare-task-twice", lambda d: _write(d / "a.json", _evaluation(_held_out()[:1] * 2)),
     ["compare", "{d}/a.json"], "appears twice"),
    ("compare-other-version", lambda d: (_write(d / "a.json", _evaluation(_held_out())),
                                         _write(d / "b.json", _other_version())),
     ["compare", "{d}/a.json", "{d}/b.json"], "hold different versions of task"),
    ("compare-nan-confidence", lambda d: _write(d / "a.json", _nan_confidence()),
     ["compare", "{d}/a.json"], "confidence: must be finite numbers"),
    ("compare-a-list", lambda d: _write(d / "a.json", [1, 2]), ["compare", "{d}/a.json"], "must be a JSON object"),
    # -- adapters that are not LoRA adapters ------------------------------------------------------------
    ("adapter-config-list", lambda d: _adapter(d, []), ["evaluate", "--policy", "{d}/adapter", "--profile", "cpu-smoke",
                                                        "--out", "{d}/e.json"], "not a LoRA adapter's config"),
    ("adapter-config-null", lambda d: _adapter(d, None), ["evaluate", "--policy", "{d}/adapter", "--profile", "cpu-smoke",
                                                          "--out", "{d}/e.json"], "not a LoRA adapter's config"),
    ("adapter-prompt-tuning", lambda d: _adapter(d, {"peft_type": "PROMPT_TUNING"}),
     ["evaluate", "--policy", "{d}/adapter", "--profile", "cpu-smoke", "--out", "{d}/e.json"], "(got PROMPT_TUNING)"),
    # -- a profile this machine cannot run ----------------------------------------------------------------
    ("gpu-profile-on-cpu", None, ["train", "--profile", "colab-t4", "--out", "{d}/run"], "needs a CUDA GPU"),
    ("unsloth-missing", _profile("use_unsloth: true\n"), ["train", "--profile", "{d}/p.yaml", "--out", "{d}/run"],
     "uses Unsloth, which is not installed"),
    # -- task files ------------------------------------------------------------------------------------
    ("mask-latin-1-tasks", lambda d: _write(d / "t.jsonl", '{"request": "caf\xe9"}\n'.encode("latin-1")),
     ["mask", "--tasks", "{d}/t.jsonl", "--out", "{d}/out.jsonl"], "not UTF-8 text"),
    ("mask-torn-tasks", lambda d: _write(d / "t.jsonl", '{"request": "Plan a trip", "hidden_fa'),
     ["mask", "--tasks", "{d}/t.jsonl", "--out", "{d}/out.jsonl"], "not valid JSON"),
    ("mask-fact-importance-word",
     lambda d: _write(d / "t.jsonl", json.dumps(_task_with_word_importance()) + "\n"),
     ["mask", "--tasks", "{d}/t.jsonl", "--out", "{d}/out.jsonl"], "importance"),
    # -- where the output goes ---------------------------------------------------------------------------
    ("out-is-a-pipe", lambda d: os.mkfifo(d / "out.jsonl"), ["mask", "--n", "1", "--out", "{d}/out.jsonl"],
     "is not a regular file"),
    ("out-is-a-folder", lambda d: (d / "out.jsonl").mkdir(), ["mask", "--n", "1", "--out", "{d}/out.jsonl"],
     "is a folder"),
    ("out-is-an-input", lambda d: _write(d / "in.jsonl", json.dumps(REWARD_ROW) + "\n"),
     ["reward", "--input", "{d}/in.jsonl", "--out", "{d}/in.jsonl"], "is also an input"),
]


def _task_with_word_importance() -> dict:
    from dataclasses import asdict

    task = asdict(next(iter(load_tasks())))
    task["facts"][0]["importance"] = "high"
    return task


def _held_out():
    return mask_many(list(load_tasks())[:2])


def _forged_revealed() -> dict:
    data = _evaluation(_held_out())
    data["tasks"][0]["turns"][0]["revealed"] = ["not-a-fact-of-this-task"]
    return data


def _nan_confidence() -> str:
    data = _evaluation(_held_out())
    data["tasks"][0]["turns"][0]["confidence"] = [float("nan")]
    return json.dumps(data)  # a bare NaN, as Python's json writes it


def _word_importance() -> dict:
    data = _evaluation(_held_out())
    data["tasks"][0]["partial"]["hidden_facts"][0]["importance"] = "high"
    return data


def _other_version() -> dict:
    data = _evaluation(_held_out(), name="template")
    data["tasks"][0]["partial"]["request"] += " (edited)"
    return data


def _adapter(d: Path, config) -> None:
    _write(d / "adapter" / "adapter_config.json", config)
    _write(d / "adapter" / "adapter_model.safetensors", b"weights")


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file() and not p.is_fifo()}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_and_leaves_everything_as_it_was(case, tmp_path, capsys, server, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    _answers(None)
    _name, setup, argv, message = case
    if setup:
        setup(tmp_path)
    before = _files(tmp_path)
    argv = [a.replace("{d}", str(tmp_path)).replace("{url}", server) for a in argv]
    assert main(argv) != 0
    stderr = capsys.readouterr().err
    # Progress bars (tqdm's "..%|...|") may come before the line; nothing else may.
    err = [line for line in stderr.replace("\r", "\n").splitlines() if line.strip() and "%|" not in line]
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in stderr, err
    assert message in err[0]
    assert _files(tmp_path) == before, "a refused command changed or added files"
    assert not (tmp_path / "run").exists()  # a refused run leaves no folder behind


@pytest.mark.parametrize("content", [42, ["a list"], {"an": "object"}], ids=["number", "list", "object"])
def test_an_endpoint_reply_that_is_not_text_names_the_endpoint_and_what_it_sent(content, server):  # noqa: F811
    from proactive.backends import OpenAIChat
    from proactive.errors import BackendError

    _answers(content)
    with pytest.raises(BackendError, match=r"openai:m@.*content is .*, not text"):
        OpenAIChat(server, "m").chat([{"role": "user", "content": "hi"}])
    _answers(" What is your budget? ")
    assert OpenAIChat(server, "m").chat([{"role": "user", "content": "hi"}]) == "What is your budget?"


def test_a_second_training_run_into_one_folder_is_refused_naming_the_first(tmp_path, capsys):
    from proactive.files import folder_lock

    with folder_lock(tmp_path / "run" / "train"):
        assert main(["train", "--profile", "cpu-smoke", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert f"in use by another training run (pid {os.getpid()})" in err and "\n" not in err
    with folder_lock(tmp_path / "run" / "train"):  # released: the next holder gets it
        pass


def writes_fail(monkeypatch, errno_: int) -> None:
    """Every write of the project's file writer fails with ``errno_`` (a full disk, a quota, a size limit)."""
    real_fdopen = os.fdopen

    class _Refused:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, text):
            raise OSError(errno_, os.strerror(errno_))

    monkeypatch.setattr("proactive.files.os.fdopen", lambda *a, **k: _Refused(real_fdopen(*a, **k)))


@pytest.mark.parametrize("errno_", [errno.ENOSPC, errno.EDQUOT], ids=["no-space", "quota"])
def test_a_full_disk_is_one_line_and_the_earlier_file_stays(errno_, tmp_path, capsys, monkeypatch):
    out = _write(tmp_path / "out.jsonl", EARLIER)
    writes_fail(monkeypatch, errno_)
    assert main(["mask", "--n", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no space left on the device writing") and "nothing was replaced" in err
    assert out.read_text() == EARLIER
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temporary file left


def test_out_through_a_symbolic_link_writes_its_target_and_keeps_the_link(tmp_path):
    target = _write(tmp_path / "real.jsonl", EARLIER)
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    assert main(["mask", "--n", "1", "--out", str(link)]) == 0
    assert link.is_symlink() and target.read_text() != EARLIER and json.loads(target.read_text().splitlines()[0])


def test_a_file_of_ones_own_is_used_whole_whatever_the_profiles_size(tmp_path):
    from proactive.config import load_profile
    from proactive.task_files import load_task_set, profile_partials

    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in mask_many(list(load_tasks())[:5])))
    profile = load_profile("cpu-smoke")  # n_tasks 3, train_tasks 4
    assert len(profile_partials(profile, "test", load_task_set([str(path)]))) == 5
    assert len(profile_partials(profile, "train", load_task_set([str(path)]))) == 5


@pytest.mark.parametrize("text, message", [
    ('{"item_id": "t/q", "kind": "questions", "system_a": "a", "system_b": "b", "winner": "a"}\n42\n', "a JSON int, not an object"),
    ('{"item_id": "t/q", "kind": "questions", "system_a": "a", "system_b": "b"}\n', "'winner' missing or not text"),
    ('{"item_id": "t/q", "kind": "questions", "system_a": "a", "system_b": "b", "winner": "c"}\n', "neither system nor 'tie'"),
    ("not json at all", "not a JSON judgment"),  # one fragment and nothing before it: not a torn append
])
def test_a_judgments_file_with_a_bad_record_is_a_file_line_error_and_is_not_emptied(text, message, tmp_path):
    from proactive.errors import ProactiveError
    from proactive.human_eval import load_judgments

    path = _write(tmp_path / "judgments.jsonl", text)
    with pytest.raises(ProactiveError, match=message):
        load_judgments(path)
    assert path.read_text() == text


def test_a_torn_last_metrics_line_is_dropped_with_a_warning_and_a_bad_middle_one_is_an_error(tmp_path, caplog):
    from proactive.errors import ProactiveError
    from proactive.training import finite_record, read_metrics

    path = _write(tmp_path / "metrics.jsonl", '{"step": 1, "reward": 0.1}\n{"step": 2, "rew')
    assert read_metrics(path) == [{"step": 1, "reward": 0.1}]
    assert "cut short" in caplog.text
    _write(path, '{"step": 1}\n{"step": 2, "rew\n{"step": 3}\n')
    with pytest.raises(ProactiveError, match=r"metrics.jsonl:2: not a JSON record"):
        read_metrics(path)
    assert finite_record({"step": 3, "loss": float("nan"), "reward": 0.5}) == {"step": 3, "loss": None, "reward": 0.5}


def test_a_plain_profile_in_unsloths_venv_is_refused_in_one_line(monkeypatch, tmp_path, capsys):
    from proactive import models

    monkeypatch.setattr(models, "_trl_version", lambda: "1.15.0")  # Unsloth's venv pins TRL 1.15
    monkeypatch.setattr(models, "unsloth_available", lambda: True)
    monkeypatch.setattr(models, "cuda_available", lambda: False)
    assert main(["demo", "--profile", "cpu-smoke", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert "runs GRPO on CPU only with Unsloth's patches: use an Unsloth profile here" in err and "\n" not in err
    assert not (tmp_path / "run").exists()
    from proactive.config import load_profile

    models.check_runnable(load_profile("unsloth-smoke"))  # an Unsloth profile is what this venv runs
    monkeypatch.setattr(models, "_trl_version", lambda: "1.16.0")
    models.check_runnable(load_profile("cpu-smoke"))  # TRL 1.16 runs the plain path
