import pytest

from proactive.intents import CATEGORY_CUES, asked_categories
from proactive.tasks import CATEGORIES


@pytest.mark.parametrize(
    "question, kinds",
    [
        ("What is your budget?", {"budget"}),
        ("How much can you spend on this?", {"budget"}),
        ("When is the deadline?", {"timeline"}),
        ("Who will read the report?", {"audience"}),
        ("What is the main goal of the campaign?", {"goal"}),
        ("Are there any regulations you must follow?", {"constraint"}),
        ("Which tone do you prefer?", {"preference"}),
        ("What is the referral for?", set()),
        ("Could you share the key details?", set()),
    ],
)
def test_asked_categories(question, kinds):
    assert asked_categories(question) == kinds


def test_cues_cover_only_known_kinds_and_garbage_asks_nothing():
    assert set(CATEGORY_CUES) <= set(CATEGORIES)
    assert not {"specifics", "context"} & set(CATEGORY_CUES)
    assert asked_categories(None) == set()
