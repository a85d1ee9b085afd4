import pytest

from proactive.questions import (
    foreign_words,
    is_multi_question,
    is_question,
    keywords,
    normalize,
    question_items,
)


@pytest.mark.parametrize(
    "question",
    [
        # comma lists without a final "and"/"or"
        "Guests, venue, catering, music?",
        "How many guests, what venue, which caterer?",
        "Deadline; budget; audience?",
        # bare keyword strings
        "budget deadline audience?",
        "timeline budget venue",
        # items that ask for different kinds of detail
        "What is the budget, and the deadline?",
        "Could you share the budget or the date?",
        "Is it the money or the timing?",
        # second questions joined on, however punctuated
        "What is the budget? When is it?",
        "What is the budget,when is it due",
        "What's the budget and is there a deadline?",
        # full-width and ideographic punctuation, invisible separators
        "What is your budget？When is it due？",
        "Budget，deadline，audience？",
        "How many guests、what budget？",
        "Budget\u200b? Deadline\u200b?",
        # an enumeration longer than a choice, options marker or not
        "Is it for kids, teens, adults, seniors or families?",
    ],
)
def test_several_questions_in_one_are_caught(question):
    assert is_multi_question(question), question


@pytest.mark.parametrize(
    "question",
    [
        "Are you considering treatments such as medication, lifestyle changes, or technology?",
        "Is it for children, teens or adults?",
        "Is the event indoors or outdoors?",
        "Do you prefer email or phone?",
        "Are there any constraints on the budget?",
        "What is the budget for the reception?",
        "What's the budget, roughly?",
        "When is the wedding?",
        "would you like information about the cost of dental implants",
        "Wedding budget?",
    ],
)
def test_one_question_is_one_question(question):
    assert not is_multi_question(question), question


@pytest.mark.parametrize(
    "text, expected",
    [
        ("What is your budget?", True),
        ("what is your budget", True),
        ("are you looking for maps", True),
        ("regarding food stamps in iowa are you looking for eligibility information", True),
        ("there are some facts about cass county shall i show them to you", True),
        ("tell me the date", True),
        ("Here is an outline for your wedding reception: 1. Venue 2. Catering", False),
        ("Sure, here is a 45-minute lesson plan for seventh graders.", False),
    ],
)
def test_is_question_reads_typed_questions(text, expected):
    assert is_question(text) is expected


def test_normalize_undoes_full_width_and_invisible_characters():
    assert normalize("Budget，date？？") == "Budget,date?"
    assert normalize("a\u200bb  c") == "ab c"
    assert question_items("Budget、date、guests？") == ["Budget", "date", "guests"]


def test_foreign_words_are_what_the_task_and_generic_questions_do_not_use():
    task = ["Plan my son's birthday party.", "There will be 15 children."]
    assert foreign_words("Who painted the Mona Lisa?", task) == ["painted", "mona", "lisa"]
    assert foreign_words("When is the party?", task) == []
    assert foreign_words("What is your rough budget range?", task) == []
    assert foreign_words("How many children are coming?", task) == []


def test_keywords_turn_a_sentence_request_into_a_query():
    assert keywords("I'm looking for information about kenmore gas water heaters.") == "kenmore gas water heaters"
    assert keywords("obama family tree") == "obama family tree"
    assert keywords("What?") == "What?"
