"""Bring-your-own tasks: full or already-masked task files, their errors, and the one run folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proactive.cli import main
from proactive.config import load_profile
from proactive.errors import ProactiveError, TaskFormatError
from proactive.masking import split_tasks
from proactive.run_folder import RunDir
from proactive.task_files import DEFAULT_CATEGORY, load_task_set, parse_partial_task, profile_partials
from proactive.tasks import load_tasks

# Written for these tests, in domains the corpus does not have; no visible facts at all.
MASKED = [
    {"task_id": "garden-shed", "domain": "home improvement",
     "request": "Help me plan building a garden shed.",
     "hidden_facts": ["The shed must be under 2.5 metres tall to avoid a permit.",
                      {"statement": "I have a budget of 900 pounds.", "category": "budget", "importance": 0.8}]},
    {"id": "wedding-toast", "request": "Write a toast for my sister's wedding.",
     "hidden_facts": [{"id": "length", "statement": "The toast should last under three minutes."},
                      {"statement": "My sister met her husband while rock climbing in Wales."},
                      {"statement": "Most guests are Polish speakers.", "category": "audience"}]},
]


def _write(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_masked_tasks_with_no_visible_facts_and_defaults(tmp_path):
    task_set = load_task_set(_write(tmp_path / "mine.jsonl", MASKED))
    assert task_set.masked and len(task_set) == 2 and task_set.label == "mine.jsonl"
    shed, toast = task_set.partials
    assert shed.visible_facts == () and [f.id for f in shed.hidden_facts] == ["h0", "h1"]
    assert shed.hidden_facts[0].category == DEFAULT_CATEGORY and shed.hidden_facts[0].importance == 1.0
    assert shed.hidden_facts[1].category == "budget" and toast.task_id == "wedding-toast"
    assert toast.domain == "custom" and [f.id for f in toast.hidden_facts] == ["length", "h1", "h2"]
    # What `proactive mask --out` writes reads back as the same tasks.
    corpus = load_tasks()[:3]
    from proactive.masking import mask_many

    written = [p.to_dict() for p in mask_many(corpus)]
    again = load_task_set(_write(tmp_path / "masked.jsonl", written))
    assert [p.to_dict() for p in again.partials] == written


def test_full_tasks_are_masked_by_the_profile(tmp_path):
    corpus = load_tasks()[:4]
    task_set = load_task_set(_write(tmp_path / "full.jsonl", [t.to_dict() for t in corpus]))
    assert not task_set.masked and len(task_set) == 4
    profile = load_profile("cpu")
    partials = profile_partials(profile, "test", task_set)  # all of them, whatever the split
    assert [p.task_id for p in partials] == [t.id for t in corpus]
    assert all(p.hidden_facts and p.visible_facts for p in partials)


@pytest.mark.parametrize("record, field", [
    ({"request": "Plan it.", "hidden_facts": ["x"]}, "task_id"),
    ({"task_id": "a b", "request": "Plan it.", "hidden_facts": ["x"]}, "task_id"),
    ({"task_id": "a", "request": "", "hidden_facts": ["x"]}, "request"),
    ({"task_id": "a", "request": "Plan it.", "hidden_facts": []}, "hidden_facts"),
    ({"task_id": "a", "request": "Plan it.", "hidden_facts": ["f"] * 9}, "hidden_facts"),
    ({"task_id": "a", "request": "Plan it.", "hidden_facts": "the budget is 5"}, "hidden_facts"),
    ({"task_id": "a", "request": "Plan it.", "hidden_facts": [{"statement": "  "}]}, "hidden_facts[0].statement"),
    ({"task_id": "a", "request": "Plan it.", "hidden_facts": [{"statement": "x", "category": "Budget"}]},
     "hidden_facts[0].category"),
    ({"task_id": "a", "request": "Plan it.", "hidden_facts": [{"statement": "x", "importance": 0}]},
     "hidden_facts[0].importance"),
    ({"task_id": "a", "request": "Plan it.", "hidden_facts": [{"statement": "x", "importance": True}]},
     "hidden_facts[0].importance"),
    ({"task_id": "a", "request": "Plan it.", "hidden_facts": [{"id": "k", "statement": "x"}],
      "visible_facts": [{"id": "k", "statement": "y"}]}, "visible_facts[0].id"),
    ({"task_id": "a", "request": "Plan it.", "hidden_facts": [42]}, "hidden_facts[0]"),
    ({"task_id": "a", "domain": 3, "request": "Plan it.", "hidden_facts": ["x"]}, "domain"),
    ({"task_id": "a", "request": "Plan it.", "hidden_facts": ["x"], "seed": "1"}, "seed"),
])
def test_masked_task_errors_name_file_line_and_field(tmp_path, record, field):
    path = _write(tmp_path / "bad.jsonl", [MASKED[0], record])
    with pytest.raises(TaskFormatError) as info:
        load_task_set(path)
    message = str(info.value)
    assert message.startswith(f"{path}:2: field '{field}'") and "\n" not in message


def test_a_file_mixing_formats_or_with_neither_is_refused(tmp_path):
    full = load_tasks()[0].to_dict()
    with pytest.raises(TaskFormatError, match=r"mixed.jsonl:2: a full task among masked ones"):
        load_task_set(_write(tmp_path / "mixed.jsonl", [MASKED[0], full]))
    with pytest.raises(TaskFormatError, match=r"neither.jsonl:1: field 'id'"):
        load_task_set(_write(tmp_path / "neither.jsonl", [{"title": "x"}]))
    with pytest.raises(TaskFormatError, match=r"nofacts.jsonl:1: field 'hidden_facts'"):
        load_task_set(_write(tmp_path / "nofacts.jsonl", [{"task_id": "a", "request": "Plan it."}]))
    with pytest.raises(TaskFormatError, match="duplicate task id 'garden-shed'"):
        load_task_set(_write(tmp_path / "twice.jsonl", [MASKED[0], MASKED[0]]))
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(TaskFormatError, match="no tasks found"):
        load_task_set(tmp_path / "empty.jsonl")
    assert parse_partial_task(MASKED[0]).task_id == "garden-shed"


def test_cli_evaluate_on_masked_tasks_with_no_visible_facts(tmp_path, capsys):
    tasks = _write(tmp_path / "mine.jsonl", MASKED)
    out = tmp_path / "template.json"
    assert main(["evaluate", "--tasks", str(tasks), "--policy", "template", "--profile", "cpu-smoke",
                 "--turns", "2", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["task_set"] == "mine.jsonl" and len(record["tasks"]) == 2
    assert "2 tasks (mine.jsonl)" in capsys.readouterr().out
    # compare says which task set, and refuses results measured on different ones
    other = tmp_path / "none.json"
    assert main(["evaluate", "--tasks", str(tasks), "--policy", "none", "--profile", "cpu-smoke",
                 "--turns", "1", "--out", str(other)]) == 0
    capsys.readouterr()
    assert main(["compare", str(out), str(other)]) == 0
    assert "2 tasks (mine.jsonl)" in capsys.readouterr().out
    relabelled = json.loads(other.read_text())
    relabelled["task_set"] = "theirs.jsonl"
    other.write_text(json.dumps(relabelled))
    assert main(["compare", str(out), str(other)]) == 2
    assert "different task sets" in capsys.readouterr().err


def test_cli_commands_that_need_full_tasks_refuse_masked_ones(tmp_path, capsys):
    tasks = _write(tmp_path / "mine.jsonl", MASKED)
    for command in (["mask", "--tasks", str(tasks)], ["corpus", "stats", "--tasks", str(tasks)]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "already-masked tasks" in err and err.count("\n") == 1


def test_cli_evaluate_task_file_errors_are_one_line(tmp_path, capsys):
    bad = _write(tmp_path / "bad.jsonl", [{"task_id": "a", "request": "Plan it.", "hidden_facts": []}])
    assert main(["evaluate", "--tasks", str(bad), "--policy", "template", "--profile", "cpu-smoke"]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl:1: field 'hidden_facts'" in err and err.count("\n") == 1


def test_run_dir_has_one_layout_and_belongs_to_one_profile(tmp_path):
    smoke = load_profile("cpu-smoke")
    run = RunDir(tmp_path / "run", smoke)
    held_out = run.held_out()
    assert run.masked_test.is_file() and len(held_out) == smoke.n_tasks
    recorded = json.loads((run.root / "run.json").read_text())
    assert recorded["profile"] == "cpu-smoke"
    # What made the run: versions of the packages that decide its numbers, and the checkout's commit.
    import torch
    import trl

    assert recorded["versions"]["torch"] == torch.__version__ and recorded["versions"]["trl"] == trl.__version__
    assert "git_commit" in recorded
    assert [p.task_id for p in run.held_out()] == [p.task_id for p in held_out]  # read back, not remade
    assert (run.train_dir, run.adapter_dir, run.eval_dir) == (run.root / "train", run.root / "train" / "adapter",
                                                              run.root / "eval")
    assert not run.has_adapter()
    with pytest.raises(ProactiveError, match="holds a run of profile 'cpu-smoke', not 'cpu'"):
        RunDir(tmp_path / "run", load_profile("cpu"))


def test_one_split_then_mask_for_every_stage():
    profile = load_profile("cpu")
    splits = split_tasks(load_tasks(), seed=profile.seed)
    assert [p.task_id for p in profile_partials(profile, "test")] == [t.id for t in splits["test"]]
    assert [p.task_id for p in profile_partials(profile, "train")] == [t.id for t in splits["train"]]
    with pytest.raises(ProactiveError, match="unknown split"):
        profile_partials(profile, "dev")
