import json

import pytest

from proactive.data.generate import draft_tasks, parse_draft
from proactive.errors import TaskFormatError


class ScriptedChat:
    """A fake chat backend for unit tests only: replies from a script."""

    name = "scripted"

    def __init__(self, replies):
        self.replies = list(replies)
        self.prompts = []

    def chat(self, messages, *, max_new_tokens=256, temperature=0.0):
        self.prompts.append(messages[-1]["content"])
        return self.replies.pop(0)


def draft_json(tasks):
    record = tasks[0].to_dict()
    record["objective"] = "I need to plan a company picnic."
    return "Sure! Here it is:\n" + json.dumps(record)


def test_parse_draft_validates_and_sets_id(tasks):
    task = parse_draft(draft_json(tasks), "event-planning-draft-0-0", "event planning")
    assert task.id == "event-planning-draft-0-0" and task.domain == "event planning"
    with pytest.raises(TaskFormatError, match="holds no JSON object"):
        parse_draft("I cannot do that.", "x", "d")
    with pytest.raises(TaskFormatError, match="facts"):
        parse_draft('{"title": "t", "objective": "o", "deliverable": "d"}', "x", "d")


def test_draft_tasks_retries_and_reports_rejections(tasks):
    chat = ScriptedChat(["not json", draft_json(tasks), draft_json(tasks)])
    made, rejected = draft_tasks(chat, "event planning", 2, tasks[:3], seed=1)
    assert len(made) == 2 and len(rejected) == 1
    assert "event planning" in chat.prompts[0] and '"facts"' in chat.prompts[0]
