import json

import pytest

from proactive.errors import TaskFormatError
from proactive.tasks import CATEGORIES, MAX_FACTS, MIN_FACTS, corpus_stats, load_tasks, parse_task


def good_record(**overrides):
    record = {
        "id": "demo-task",
        "domain": "event planning",
        "title": "A party",
        "objective": "I need to plan a party.",
        "deliverable": "Outline: venue, food.",
        "facts": [
            {"id": f"f{i}", "statement": f"Fact number {i}.", "category": "context", "importance": 0.5}
            for i in range(5)
        ],
    }
    record.update(overrides)
    return record


def write_jsonl(path, records):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return path


def test_bundled_corpus_meets_the_bar(tasks):
    stats = corpus_stats(tasks)
    assert stats["tasks"] >= 120
    assert stats["domains"] >= 12
    assert MIN_FACTS <= stats["facts_per_task"]["min"] and stats["facts_per_task"]["max"] <= MAX_FACTS
    assert set(stats["fact_categories"]) <= set(CATEGORIES)
    assert len({t.id for t in tasks}) == len(tasks)


def test_full_request_includes_every_fact(tasks):
    task = tasks[0]
    text = task.full_request()
    assert text.startswith(task.objective) and text.endswith(task.deliverable)
    assert all(f.statement in text for f in task.facts)


def test_valid_record_parses():
    task = parse_task(good_record())
    assert task.id == "demo-task" and len(task.facts) == 5 and task.fact("f2").importance == 0.5


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"objective": ""}, "objective"),
        ({"id": "Bad Id!"}, "id"),
        ({"facts": []}, "facts"),
        ({"facts": "none"}, "facts"),
    ],
)
def test_bad_top_level_fields_name_the_field(overrides, field):
    with pytest.raises(TaskFormatError, match=rf"tasks.jsonl:3: field '{field}'"):
        parse_task(good_record(**overrides), "tasks.jsonl", 3)


@pytest.mark.parametrize(
    "fact_change, field",
    [
        ({"category": "mood"}, "facts[1].category"),
        ({"importance": 1.5}, "facts[1].importance"),
        ({"importance": "high"}, "facts[1].importance"),
        ({"importance": True}, "facts[1].importance"),
        ({"statement": None}, "facts[1].statement"),
        ({"id": "f0"}, "facts[1].id"),
    ],
)
def test_bad_fact_fields_name_the_field(fact_change, field):
    record = good_record()
    record["facts"][1].update(fact_change)
    with pytest.raises(TaskFormatError) as err:
        parse_task(record, "tasks.jsonl", 7)
    assert str(err.value).startswith(f"tasks.jsonl:7: field '{field}'")
    assert "\n" not in str(err.value)


def test_too_many_facts_is_refused():
    record = good_record()
    record["facts"] = [dict(record["facts"][0], id=f"x{i}") for i in range(MAX_FACTS + 1)]
    with pytest.raises(TaskFormatError, match="4-8 facts"):
        parse_task(record)


def test_malformed_json_line_names_file_and_line(tmp_path):
    path = write_jsonl(tmp_path / "tasks.jsonl", [good_record(), "{not json"])
    with pytest.raises(Exception, match=r"tasks.jsonl:2: not valid JSON"):
        load_tasks(path)


def test_duplicate_task_ids_across_files(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", [good_record()])
    b = write_jsonl(tmp_path / "b.jsonl", [good_record()])
    with pytest.raises(TaskFormatError, match=r"b.jsonl:1: field 'id': duplicate task id 'demo-task'"):
        load_tasks([a, b])


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(Exception, match="no such file"):
        load_tasks(tmp_path / "nope.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(TaskFormatError, match="no tasks found"):
        load_tasks(empty)
