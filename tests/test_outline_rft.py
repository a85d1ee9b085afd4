"""Writer RFT's selection: keep the sampled note that covers the user's sentence closest, in its own words."""

from __future__ import annotations

import json

import pytest

from proactive.outline_rft import KeptNote, keep_best_notes, note_closeness, note_rows, training_details
from tests.test_evaluation import _referral

DETAIL = "The patient is a 62-year-old woman with new daily headaches for five weeks."
WRITTEN = "- History: 62-year-old woman, daily headaches for 5 weeks"
PASTED = f"- {DETAIL}"
PADDED = f"- Note: {DETAIL.lower()} Please see her."


def test_the_users_sentences_are_the_training_tasks_hidden_facts_each_once():
    partial = _referral()
    details = training_details([partial, partial])
    assert details == [f.statement for f in partial.hidden_facts]
    assert not set(details) & {f.statement for f in partial.visible_facts}  # the request already says those


def test_a_note_counts_when_it_writes_the_detail_in_not_when_it_pastes_or_misses_it(embedder):
    assert note_closeness(embedder, WRITTEN, DETAIL) is not None
    assert note_closeness(embedder, PASTED, DETAIL) is None and note_closeness(embedder, PADDED, DETAIL) is None
    assert note_closeness(embedder, "- Budget: 8,000 euros", DETAIL) is None
    assert note_closeness(embedder, "", DETAIL) is None


def test_the_kept_note_is_the_closest_written_in_one_and_none_when_all_paste_or_miss(embedder):
    other = "She needs to be seen this week and a temporal artery biopsy arranged."
    samples = [[PASTED, "- Weather: sunny"], [WRITTEN, ""], ["- Patient: woman, 62", PASTED]]
    kept = keep_best_notes(embedder, [DETAIL, other], samples)
    assert [k.detail for k in kept] == [DETAIL]  # the second detail got a paste, an empty note and a miss
    closest = max((WRITTEN, "- Patient: woman, 62"), key=lambda n: note_closeness(embedder, n, DETAIL) or 0)
    assert kept[0].note == closest and kept[0].note != PASTED


@pytest.mark.parametrize("note, kept", [
    ("- History: 62-year-old woman, daily headaches for 5 weeks", True),  # "five" is 5
    ("- History: 62-year-old woman, daily headaches for 6 weeks", False),  # a number changed
    ("- History: 62-year-old woman, daily headaches", False),  # a number dropped
    ("- History: 62-year-old woman, 3 daily headaches for 5 weeks", False),  # one invented
    ("- Patient: a 62-year-old woman with new daily headaches", False),  # copies most of the sentence
    ("- Visit: 62 and 5 more appointments booked for the clinic", False),  # its numbers, about something else
    ("- Headaches: 62, female, 5 weeks of daily pain", True),  # few of its words, but some: "headache", "week"
])
def test_a_kept_note_keeps_the_details_numbers_and_copies_at_most_half_of_it(note, kept):
    from proactive.outline_notes import keeps

    assert keeps(note, DETAIL) is kept


def test_a_row_is_the_note_writers_prompt_and_the_kept_note_ended_with_the_end_token():
    class Tokenizer:
        eos_token = "<end>"

        def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
            return "|".join(m["content"] for m in messages) + "|assistant:"

    rows = note_rows(Tokenizer(), [KeptNote(DETAIL, WRITTEN, 0.8)])
    assert rows[0]["prompt"].endswith("|assistant:-") and DETAIL in rows[0]["prompt"]
    assert rows[0]["completion"] == " History: 62-year-old woman, daily headaches for 5 weeks<end>"


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
    # IN3's held-out section is tests/test_cli.py's demo's to test, not this one's.
    profile.write_text("base: cpu-smoke\nn_tasks: 2\neval_samples: 1\nagreement_tasks: 1\nin3_held_out: 0\n"
                       "train:\n  method: [grpo, writer]\n"
                       "  grpo: {max_steps: 1}\n  writer: {tasks: 3, samples: 2, epochs: 1, batch_size: 2}\n")
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
    assert len(record) == 1 and record[0]["details"] >= 3 and record[0]["kept"] <= record[0]["details"]
    assert record[0]["examples"] == record[0]["kept"]
    samples = [json.loads(line) for line in (out / "train" / "writer" / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == record[0]["details"] and all(len(s["samples"]) == 2 for s in samples)
    assert sum(s["kept"] is not None for s in samples) == record[0]["kept"]
    assert all(s["kept"] is None or s["kept"] in [x["note"] for x in s["samples"]] for s in samples)
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
    writer trains on the training tasks' sentences."""
    from proactive.cli import main
    from proactive.training import read_metrics

    profile = tmp_path / "later.yaml"
    common = "base: cpu-smoke\nn_tasks: 2\noutline_tokens: 48\ntrain:\n  grpo: {max_steps: 1}\n"
    profile.write_text(common + "  method: [grpo]\n")
    out = tmp_path / "run"
    assert main(["train", "--profile", str(profile), "--out", str(out)]) == 0
    adapter = out / "train" / "adapter" / "adapter_model.safetensors"
    before = adapter.read_bytes()
    profile.write_text(common + "  method: [grpo, writer]\n  writer: {tasks: 2, samples: 2, epochs: 1, batch_size: 2}\n")
    assert main(["train", "--profile", str(profile), "--out", str(out)]) == 0
    records = read_metrics(out / "train" / "metrics.jsonl")
    assert [r.get("method") for r in records].count("writer") == 1
    assert len([r for r in records if r.get("method") != "writer"]) == 1  # GRPO's one step, not two
    assert adapter.read_bytes() == before
    assert (out / "train" / "writer" / "adapter" / "adapter_config.json").is_file()
