"""IN3's own format read as masked tasks: facts from missing details, weights, kinds, the split, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from proactive.config import load_profile
from proactive.data.in3 import bundled_in3_path, detail_kind, in3_split, load_in3, parse_in3
from proactive.errors import TaskFormatError
from proactive.task_files import load_task_set, profile_partials

# Written for these tests in IN3's schema (not rows of IN3 itself).
ROWS = [
    {"category": "Home & Garden", "task": "Help me redesign my small balcony.", "vague": True,
     "thought": "size, budget and plants are unknown",
     "missing_details": [
         {"description": "Balcony size", "importance": "3", "inquiry": "How big is the balcony?",
          "options": ["2 square metres", "5 square metres"]},
         {"description": "Budget for the redesign", "importance": "2",
          "inquiry": "How much would you like to spend?", "options": ["Under 100 euros", "Up to 500 euros"]},
         {"description": "Deadline", "importance": "1", "inquiry": "When should it be done?", "options": ["By May"]},
     ]},
    {"category": "Writing", "task": "Write a haiku about autumn leaves falling at dusk.", "vague": False,
     "thought": "clear", "missing_details": []},
    {"category": "Cooking", "task": "Plan a dinner menu for my in-laws.", "vague": True, "thought": "",
     "missing_details": [{"description": "Dietary restrictions of the guests", "importance": "3",
                          "inquiry": "Do any of your in-laws avoid certain foods?",
                          "options": ["Vegetarian", "No restrictions"]}]},
]


def _write(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_vague_row_becomes_a_masked_task_with_weighted_kinded_facts():
    partial = parse_in3(ROWS[0], "x.jsonl", 1)
    assert partial.request == "Help me redesign my small balcony." and partial.visible_facts == ()
    by_text = {f.statement.split(":")[0]: f for f in partial.hidden_facts}
    assert by_text["Balcony size"].importance == 1.0
    assert by_text["Deadline"].importance == pytest.approx(1 / 3)
    assert by_text["Budget for the redesign"].category == "budget"
    assert by_text["Deadline"].category == "timeline"
    # Each fact states one of the detail's options, the same one every time.
    assert by_text["Balcony size"].statement in ("Balcony size: 2 square metres.", "Balcony size: 5 square metres.")
    assert parse_in3(ROWS[0]) == partial
    assert partial.meta["inquiries"][by_text["Deadline"].id] == "When should it be done?"
    # Most important first.
    assert [f.importance for f in partial.hidden_facts] == sorted((f.importance for f in partial.hidden_facts),
                                                                  reverse=True)


def test_a_clear_row_is_skipped_and_kinds_fall_back_to_specifics():
    assert parse_in3(ROWS[1]) is None
    assert detail_kind("Colour of the tiles", "Which colour do you like?") == "specifics"
    assert detail_kind("Target readers", "") == "audience"


def test_file_reads_as_a_task_set_split_by_task(tmp_path):
    path = _write(tmp_path / "in3.jsonl", ROWS)
    task_set = load_task_set(path)
    assert task_set.masked and len(task_set) == 2
    sides = {p.request: p.meta["split"] for p in task_set.partials}
    assert sides == {r["task"]: in3_split(r["task"]) for r in ROWS if r["vague"]}
    profile = load_profile("cpu-smoke")
    train = profile_partials(profile, "train", task_set)
    test = profile_partials(profile, "test", task_set)
    assert not {p.task_id for p in train} & {p.task_id for p in test}
    assert len(train) + len(test) == 2


def test_split_is_stable_and_holds_out_about_a_fifth():
    tasks = [f"Plan task number {i} for me." for i in range(2000)]
    held = [in3_split(t) for t in tasks]
    assert 0.15 < held.count("test") / len(held) < 0.25
    assert in3_split("  Plan task NUMBER 3 for me. ") == in3_split("Plan task number 3 for me.")


@pytest.mark.parametrize("row, field", [
    ({"task": "", "vague": True, "missing_details": [{"description": "x"}]}, "task"),
    ({"task": "Do it.", "vague": "yes", "missing_details": []}, "vague"),
    ({"task": "Do it.", "vague": True, "missing_details": []}, "missing_details"),
    ({"task": "Do it.", "vague": True, "missing_details": ["size"]}, "missing_details[0]"),
    ({"task": "Do it.", "vague": True, "missing_details": [{"description": "Size", "importance": "high"}]},
     "missing_details[0].importance"),
    ({"task": "Do it.", "vague": True, "missing_details": [{"description": "Size", "options": [3]}]},
     "missing_details[0].options"),
])
def test_malformed_rows_name_file_line_and_field(tmp_path, row, field):
    path = _write(tmp_path / "bad.jsonl", [ROWS[0], row])
    with pytest.raises(TaskFormatError, match=re.escape(f"bad.jsonl:2: field '{field}'")):
        load_in3(path)


def test_a_file_with_no_vague_task_is_refused(tmp_path):
    with pytest.raises(TaskFormatError, match="no vague IN3 task"):
        load_in3(_write(tmp_path / "clear.jsonl", [ROWS[1]]))


def test_the_bundled_train_split_reads_with_its_license_and_attribution():
    path = bundled_in3_path()
    partials = load_in3(path)
    assert len(partials) > 900
    held = sum(p.meta["split"] == "test" for p in partials)
    assert 0.15 < held / len(partials) < 0.25
    assert all(1 <= len(p.hidden_facts) <= 8 for p in partials)
    assert "Apache License" in (path.parent / "LICENSE").read_text(encoding="utf-8")
    readme = (path.parent / "README.md").read_text(encoding="utf-8")
    assert "Tell Me More" in readme and "OpenBMB/Tell_Me_More" in readme and "Apache" in readme
    # Every detail keeps its annotator's inquiry, by fact id.
    assert all(set(p.meta["inquiries"]) == {f.id for f in p.hidden_facts} for p in partials)
