"""Writer RFT's selection: keep the sampled outline that uses the most of what the user said, in its own words."""

from __future__ import annotations

import json

import pytest

from proactive.judges import EmbeddingJudge
from proactive.outline_rft import REQUEST_WEIGHT, keep_best, said, said_coverage, writer_rows
from proactive.outlines import CUT_MARK
from proactive.simulator import NO_PREFERENCE
from tests.test_evaluation import _referral

HISTORY = [("How old is the patient?", "The patient is a 62-year-old woman with new daily headaches for five weeks."),
           ("What is your budget?", NO_PREFERENCE),
           ("How soon?", "She needs to be seen this week and a temporal artery biopsy arranged.")]

WRITTEN = ("- Reason for referral: suspected giant cell arteritis\n- History: 62-year-old woman, new daily headaches "
           "for 5 weeks, jaw pain on chewing, scalp tender\n- Request: see this week, arrange temporal artery biopsy")
PASTED = "\n".join(f"- {answer}" for _, answer in HISTORY if answer != NO_PREFERENCE)


def test_what_was_said_is_the_answers_that_gave_a_detail_and_the_requests_sentences():
    facts = said(_referral(), HISTORY)
    answers = [f for f in facts if f.importance == 1.0]
    assert [f.statement for f in answers] == [HISTORY[0][1], HISTORY[2][1]]  # the decline told nothing
    request = [f for f in facts if f.importance == REQUEST_WEIGHT]
    assert request and all(f.statement in _referral().request for f in request)
    # What the writer knows, never the task's hidden facts as such: no history, no answers.
    assert all(f.importance == REQUEST_WEIGHT for f in said(_referral(), []))


def test_the_kept_outline_uses_the_answers_in_its_own_words_not_a_paste_nor_a_cut_one(embedder):
    judge = EmbeddingJudge(embedder)
    partial = _referral()
    assert said_coverage(judge, WRITTEN, partial, HISTORY) > said_coverage(judge, PASTED, partial, HISTORY)
    assert said_coverage(judge, WRITTEN + f"\n{CUT_MARK}", partial, HISTORY) is None
    cut = WRITTEN + f"\n- More\n{CUT_MARK}"
    samples = [[PASTED, "- Dear doctor"], [cut, WRITTEN], [WRITTEN.splitlines()[0], "- Dear doctor"]]
    kept = keep_best(judge, [partial, partial], [HISTORY, HISTORY], samples)
    # Dialogue 0: the best of a paste and a one-line outline; dialogue 1: the written outline, not the cut one.
    assert [k.index for k in kept][-1] == 1 and kept[-1].outline == WRITTEN
    assert all(k.outline != cut for k in kept)
    assert all(k.outline != PASTED or k.score <= said_coverage(judge, WRITTEN, partial, HISTORY) for k in kept)


def test_nothing_is_kept_for_a_dialogue_whose_samples_were_all_cut_or_covered_nothing(embedder):
    judge = EmbeddingJudge(embedder)
    partial = _referral()
    samples = [[f"- Dear doctor\n{CUT_MARK}"], ["- Lorem ipsum dolor"]]
    assert keep_best(judge, [partial], [HISTORY], samples) == []


def test_a_row_is_the_writers_prompt_and_the_kept_outline_ended_with_the_end_token():
    from proactive.outline_rft import KeptOutline

    class Tokenizer:
        eos_token = "<end>"

        def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
            return "|".join(m["content"] for m in messages) + "|assistant:"

    rows = writer_rows(Tokenizer(), [_referral()], [HISTORY], [KeptOutline(0, WRITTEN, 0.8)])
    assert rows[0]["prompt"].endswith("|assistant:-")
    assert rows[0]["completion"] == " " + WRITTEN.removeprefix("- ") + "<end>"
    # The writer's prompt lists what the answers said, as write_outlines' prompt does.
    assert HISTORY[2][1] in rows[0]["prompt"] and NO_PREFERENCE not in rows[0]["prompt"].split("details I gave you")[-1]


@pytest.mark.slow
def test_the_writer_stage_trains_a_writer_that_the_demo_writes_every_outline_with(tmp_path, capsys):
    """Through train and demo on the real bundled model: the writer stage keeps sampled outlines, fine-tunes
    and saves a writer of its own; the policy's adapter is the earlier stage's; every system's outline is
    written by the writer; a rerun finds it and trains nothing again."""
    from proactive import methods
    from proactive.cli import main
    from proactive.config import load_profile
    from proactive.training import read_metrics

    profile = tmp_path / "writer.yaml"
    profile.write_text("base: cpu-smoke\nn_tasks: 2\neval_samples: 1\nagreement_tasks: 1\ntrain:\n  method: [grpo, writer]\n"
                       "  grpo: {max_steps: 1}\n  writer: {dialogues: 3, samples: 2, epochs: 1, batch_size: 2}\n")
    loaded = load_profile(str(profile))
    assert methods.describe(loaded) == "GRPO, 1 step, then writer RFT, 1 round" and methods.unit(loaded) == "steps"
    out = tmp_path / "demo"
    assert main(["demo", "--profile", str(profile), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1 steps in" in printed  # the run's count is the policy's (GRPO's), not the writer's
    assert "every system's outline is written by the writer that writer RFT trained" in printed
    writer = out / "train" / "writer" / "adapter"
    assert (writer / "adapter_model.safetensors").is_file() and not (out / "train" / "writer" / ".adapter.tmp").exists()
    record = [r for r in read_metrics(out / "train" / "metrics.jsonl") if r.get("method") == "writer"]
    assert len(record) == 1 and record[0]["dialogues"] == 3 and record[0]["kept"] <= 3
    assert record[0]["examples"] == record[0]["kept"]
    samples = [json.loads(line) for line in (out / "train" / "writer" / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 3 and all(len(s["samples"]) == 2 for s in samples)
    assert sum(s["kept"] is not None for s in samples) == record[0]["kept"]
    assert all(s["kept"] is None or s["kept"] in [x["outline"] for x in s["samples"]] for s in samples)
    report = json.loads((out / "report.json").read_text())
    assert report["training"] == "GRPO, 1 step, then writer RFT, 1 round"
    assert report["outline_writer"] == "the writer trained by writer RFT"
    # Trained again: nothing to do.
    before = writer.joinpath("adapter_model.safetensors").stat().st_mtime_ns
    assert main(["train", "--profile", str(profile), "--out", str(out)]) == 0
    assert writer.joinpath("adapter_model.safetensors").stat().st_mtime_ns == before


@pytest.mark.slow
def test_a_finished_run_given_the_writer_stage_trains_only_the_writer(tmp_path):
    """An older run (policy trained, no writer) rerun with the writer stage added: the policy is not trained
    again (a finished GRPO run resumed would take one more step) and its adapter stays byte for byte; the
    writer reads the trained policy's dialogues."""
    from proactive.cli import main
    from proactive.training import read_metrics

    profile = tmp_path / "later.yaml"
    common = "base: cpu-smoke\nn_tasks: 2\noutline_tokens: 48\ntrain:\n  grpo: {max_steps: 1}\n"
    profile.write_text(common + "  method: [grpo]\n")
    out = tmp_path / "run"
    assert main(["train", "--profile", str(profile), "--out", str(out)]) == 0
    adapter = out / "train" / "adapter" / "adapter_model.safetensors"
    before = adapter.read_bytes()
    profile.write_text(common + "  method: [grpo, writer]\n  writer: {dialogues: 2, samples: 2, epochs: 1, batch_size: 2}\n")
    assert main(["train", "--profile", str(profile), "--out", str(out)]) == 0
    records = read_metrics(out / "train" / "metrics.jsonl")
    assert [r.get("method") for r in records].count("writer") == 1
    assert len([r for r in records if r.get("method") != "writer"]) == 1  # GRPO's one step, not two
    assert adapter.read_bytes() == before
    assert (out / "train" / "writer" / "adapter" / "adapter_config.json").is_file()
