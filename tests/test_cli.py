import json
from pathlib import Path

import pytest

from proactive.cli import main
from proactive.masking import PartialTask


def test_corpus_stats_json(capsys):
    assert main(["corpus", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["tasks"] >= 120 and stats["domains"] >= 12


def test_mask_writes_jsonl(tmp_path, capsys):
    out = tmp_path / "masked.jsonl"
    assert main(["mask", "--n", "4", "--seed", "2", "--strategy", "random_k", "--split", "test", "--out", str(out)]) == 0
    rows = [PartialTask.from_dict(json.loads(line)) for line in out.read_text().splitlines()]
    assert len(rows) == 4 and all(r.strategy == "random_k" and r.seed == 2 for r in rows)
    assert "wrote 4 masked task(s)" in capsys.readouterr().out


def test_mask_prints_hidden_facts(capsys):
    assert main(["mask", "--n", "1", "--strategy", "category", "--categories", "budget"]) == 0
    out = capsys.readouterr().out
    assert "hidden (budget" in out


@pytest.mark.parametrize("args, message", [
    (["--strategy", "category", "--categories", "foo"], "--categories: 'foo' not among the categories"),
    (["--strategy", "category", "--categories", "Budget"], "--categories: 'Budget' not among the categories"),
    (["--strategy", "category", "--categories", " , "], "--categories: none given"),
    (["--strategy", "top_k", "--categories", "budget"], "--categories only applies to --strategy category"),
    (["--n", "-1"], "--n must be at least 1 (got -1)"),
    (["--n", "0"], "--n must be at least 1 (got 0)"),
    (["--k", "0"], "--k must be at least 1 (got 0)"),
])
def test_mask_refuses_what_would_silently_write_nothing_or_everything(tmp_path, capsys, args, message):
    out = tmp_path / "masked.jsonl"
    assert main(["mask", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not out.exists()


def test_a_closed_pipe_is_not_a_traceback():
    import subprocess
    import sys

    # The reader goes away before the first line is written (as `proactive mask | head -1` does).
    proc = subprocess.Popen([sys.executable, "-m", "proactive.cli", "mask", "--n", "50", "--split", "all"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and "Traceback" not in err and "BrokenPipe" not in err, err


def test_bad_task_file_is_one_line_error(tmp_path, capsys):
    bad = tmp_path / "tasks.jsonl"
    bad.write_text('{"id": "x"}\n')
    assert main(["corpus", "stats", "--tasks", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "tasks.jsonl:1: field 'domain'" in err and "\n" not in err


def test_unknown_profile_is_one_line_error(capsys):
    assert main(["demo", "--profile", "nope", "--out", "unused"]) == 2
    assert "unknown profile 'nope'" in capsys.readouterr().err


def test_demo_runs_the_pipeline_end_to_end(tmp_path, capsys):
    import pytest

    pytest.importorskip("trl")
    out = tmp_path / "demo"
    assert main(["demo", "--profile", "cpu-smoke", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[5/5]" in printed and "report.html" in printed and "\ntrained" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["train_steps"] == 2 and report["held_out_tasks"] == 3
    stages = report["stage_seconds"]  # each stage timed, in the output and in the report
    assert next(iter(stages)) == "corpus and masking" and len(stages) == 6
    assert 0 < sum(stages.values()) <= report["wall_seconds"] + 1
    assert all(f"      {name}: " in printed for name in stages)
    for key in ("elicited_share_sampled", "elicited_share_dialogue"):
        r = report[key]
        assert r["ci_low"] <= r["difference"] <= r["ci_high"] and r["tasks"] == 3
    assert len(report["examples"][0]["trained"]["turns"]) == 3  # a 3-question dialogue
    assert report["examples"][0]["trained"]["outline"]  # then the final outline
    systems = [row["system"] for row in report["table"]["rows"]]
    assert systems == ["no clarification", "template questions", "best fixed list", "untrained", "trained",
                       "oracle (sees all facts)"]
    # The strongest fixed baseline, chosen on the training tasks, in the headline with its interval.
    fixed = json.loads((out / "best_fixed_list.json").read_text())
    assert report["best_fixed_list"]["questions"] == fixed["questions"] and len(fixed["questions"]) == 3
    assert "best fixed list" in report["headline"]["differences"] and "best fixed list (" in report["headline"]["verdict"]
    # One sentence on the deliverable beside the verdict: the report, the output and the page carry it.
    # (cpu-smoke's 32-token outlines may all be cut: then the sentence says so instead of a coverage)
    assert report["outline_verdict"].startswith(("Outlines: the trained system's covers", "Outlines: every outline"))
    assert report["outline_verdict"] in printed and "<p><b>Outlines: " in (tmp_path / "demo" / "report.html").read_text()
    # Each held-out set's list is chosen on its own training side: the corpus's 4 training tasks (not the 2
    # IN3 tasks cpu-smoke also trains on) for the corpus's held-out tasks, IN3's 2 for IN3's.
    assert "best fixed list, chosen on the corpus's 4 training tasks: " in printed
    assert not any(t.startswith("in3") for t in fixed["task_ids"])
    fixed_in3 = json.loads((out / "best_fixed_list_in3.json").read_text())
    assert len(fixed_in3["task_ids"]) == 2 and all(t.startswith("in3") for t in fixed_in3["task_ids"])
    assert "best fixed list for IN3, chosen on 2 of IN3's training tasks: " in printed
    assert "on the corpus's training tasks and 2 of IN3's" in printed
    # IN3's held-out side: the headline again, people's own inquiries as the reference, per kind, examples.
    in3 = report["in3"]
    assert in3["tasks"] == 2 and set(in3["headline"]["shares"]) == {
        "trained", "untrained", "template", "best fixed list", "dataset's inquiries", "ceiling"}
    assert "dataset's inquiries (people's questions for these very details) draw out" in in3["headline"]["verdict"]
    assert in3["headline"]["verdict"] in printed and "specifics" in in3["elicited_by_kind"]
    assert len(in3["examples"]) == 2 and all(e["dataset's inquiries"] for e in in3["examples"])
    assert in3["best_fixed_list"]["questions"] == fixed_in3["questions"]
    held_out_ids = {e["task_id"] for e in in3["examples"]}
    assert not held_out_ids & set(fixed_in3["task_ids"])  # never chosen on the tasks it is measured on
    assert set(report["elicited_by_kind"]) and all("trained" in row for row in report["elicited_by_kind"].values())
    naming = report["questions_naming_the_request"]
    assert naming["template questions"] == naming["best fixed list"] == 0.0 and 0 <= naming["trained"] <= 1
    assert report["judge_agreement"]["tasks"] == 3 and 0 <= report["judge_agreement"]["agreement"] <= 1
    assert sorted(p.name for p in (out / "eval").iterdir()) == [
        "best-fixed-list.json", "no-clarification.json", "oracle.json", "template-questions.json", "trained.json",
        "untrained.json"]
    assert (out / "human_eval_items.jsonl").read_text().strip()
    page = (out / "report.html").read_text()
    assert "difference [95% CI]" in page and "plotly" in page and "not ours" in page
    assert "By kind of hidden detail" in page and fixed["questions"][0] in page
    assert "IN3's held-out side" in page and in3["examples"][0]["dataset's inquiries"][0].replace("'", "&#x27;") in page
    assert (out / "train" / "adapter" / "adapter_config.json").is_file()
    assert json.loads((out / "run.json").read_text())["profile"] == "cpu-smoke"
    # A chapter picks up the pipeline's run folder as it is (the same layout, proactive.run_folder.RunDir):
    # chapter 6 finds the demo's human-evaluation items.
    import papermill

    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    papermill.execute_notebook(str(notebooks / "06_human_evaluation.ipynb"), str(tmp_path / "06.out.ipynb"),
                               parameters={"profile": "cpu-smoke", "run_dir": str(out), "rater": "ci"},
                               kernel_name="python3", cwd=str(notebooks), progress_bar=False)
    printed = json.dumps(json.loads((tmp_path / "06.out.ipynb").read_text())["cells"])
    assert f"comparisons from {out / 'human_eval_items.jsonl'}" in printed
    demo_tasks = {json.loads(line)["task_id"] for line in (out / "human_eval_items.jsonl").read_text().splitlines()}
    judged = [json.loads(line) for line in (out / "judgments-by-embedding-judge.jsonl").read_text().splitlines()]
    assert judged and {j["task_id"] for j in judged} <= demo_tasks


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    return err


@pytest.mark.parametrize("command", [["reward", "--input"], ["corpus", "stats", "--tasks"], ["compare"]])
@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_text_that_is_not_utf8_is_a_one_line_error(tmp_path, capsys, command, encoding):
    bad = tmp_path / "in.jsonl"
    bad.write_bytes('{"question": "Which café, and for how many?"}\n'.encode(encoding))
    assert main([*command, str(bad)]) == 2
    err = _one_line_error(capsys)
    assert f"{bad}:1: not UTF-8 text" in err and err.endswith("save the file as UTF-8")


def test_a_utf8_byte_order_mark_is_fine(tmp_path):
    from proactive.files import iter_jsonl, read_text

    masked = tmp_path / "m.jsonl"
    assert main(["mask", "--n", "2", "--out", str(masked)]) == 0
    with_bom = tmp_path / "bom.jsonl"  # as Windows editors save UTF-8
    with_bom.write_bytes(b"\xef\xbb\xbf" + masked.read_bytes())
    assert [row for _, row in iter_jsonl(with_bom)] == [row for _, row in iter_jsonl(masked)]
    assert read_text(with_bom) == read_text(masked)


@pytest.mark.parametrize("make_out, message", [
    (lambda d: (d / "a_file").write_text("x") and d / "a_file" / "out.jsonl", "is a file, not a folder"),
    (lambda d: (d / "a_folder").mkdir() or d / "a_folder", "is a folder; give a file name"),
])
def test_a_bad_out_path_fails_before_any_work(tmp_path, capsys, make_out, message):
    out = make_out(tmp_path)
    assert main(["mask", "--n", "1", "--out", str(out)]) == 2
    assert message in _one_line_error(capsys)


def test_out_equal_to_an_input_is_refused_and_the_input_kept(tmp_path, capsys):
    masked = tmp_path / "m.jsonl"
    assert main(["mask", "--n", "3", "--out", str(masked)]) == 0
    before = masked.read_bytes()
    capsys.readouterr()
    assert main(["mask", "--n", "1", "--tasks", str(masked), "--out", str(masked)]) == 2
    assert "is also an input" in capsys.readouterr().err
    assert masked.read_bytes() == before


def test_written_files_get_ordinary_permissions(tmp_path):
    import os
    import stat

    from proactive.files import atomic_write_text

    old = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "a.txt", "x")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        os.chmod(path, 0o600)  # a file the user restricted keeps its mode when rewritten
        atomic_write_text(path, "y")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_help_is_plain_text_and_dependencies_warnings_wait_for_verbose(capsys):
    import logging

    with pytest.raises(SystemExit):
        main(["--help"])
    assert "``" not in capsys.readouterr().out
    assert main(["corpus", "stats", "--json"]) == 0
    assert logging.getLogger("torchao").level == logging.ERROR  # "Detected no triton" and the like
    assert logging.getLogger("bitsandbytes").level == logging.ERROR


#: What dependencies print when left alone: warnings, torch's pytree notices, Unsloth's banners, the bars
#: for loading and writing weights. A command shows them only with -v.
DEPENDENCY_NOISE = ("Warning", "warn(", "_pytree", "Unsloth", "Loading weights", "Writing model shards",
                    "de-quantizing", "TRANSFORMERS_VERBOSITY")


@pytest.mark.slow
def test_a_training_run_prints_its_own_lines_and_no_dependency_noise(tmp_path):
    """As a user's terminal sees it (a fresh process, so nothing imported earlier): a GRPO step line and
    its bar, the result line, and nothing a dependency printed; with -v the noise is back."""
    import os
    import subprocess
    import sys

    command = [sys.executable, "-m", "proactive.cli", "train", "--profile", "cpu-smoke", "--max-steps", "1",
               "--out", str(tmp_path / "run")]
    # As a user's shell starts it: without what an earlier in-process main() of this test session set
    quieting = ("HF_HUB_DISABLE_PROGRESS_BARS", "TORCH_LOGS", "PROACTIVE_QUIET", "TRANSFORMERS_VERBOSITY",
                "DATASETS_VERBOSITY", "TORCH_CPP_LOG_LEVEL")
    env = {k: v for k, v in os.environ.items() if k not in quieting}
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    output = done.stdout + done.stderr
    assert "step 1/1" in output and "trained 1 steps" in done.stdout
    noise = [line for line in output.replace("\r", "\n").splitlines() if any(n in line for n in DEPENDENCY_NOISE)]
    assert noise == [], noise[:5]
    verbose = subprocess.run([*command[:3], "-v", *command[3:-1], str(tmp_path / "verbose")], capture_output=True,
                             text=True, timeout=900, check=False, env=env)
    assert verbose.returncode == 0 and "Loading weights" in verbose.stderr  # -v: dependencies' output as it was
