import pytest

from proactive.questions import (
    alternatives,
    ask_text,
    asked_parts,
    asks,
    foreign_words,
    head_and_examples,
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
        # second questions joined on, however punctuated
        "What is the budget? When is it?",
        "What is the budget,when is it due",
        "What's the budget and is there a deadline?",
        # full-width and ideographic punctuation, invisible separators
        "What is your budget？When is it due？",
        "Budget，deadline，audience？",
        "How many guests、what budget？",
        "Budget\u200b? Deadline\u200b?",
        # an enumeration of different kinds, options marker or not
        "Is it about the budget, the date, the guests, the venue, or the menu?",
        "Could you tell me the budget, for example, the date, the guests, the venue and the menu?",
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


# -- real people's questions are one question however they are dressed (written for these tests) ---
@pytest.mark.parametrize(
    "question",
    [
        # options after the question, in the same sentence or the next
        "Which kind of cake do you have in mind? For example, sponge, cheesecake or tart?",
        "How do you want the slides shared? A PDF, a link, or printed copies?",
        "What level are your players at? Are they complete beginners, club players, or something else?",
        "How often should the report run (hourly, daily, weekly)?",
        # why it is asked
        "What age are the kids? That way I can pick games they will actually enjoy.",
        "Which city will you be in? This helps me suggest venues nearby.",
        # two words for one thing
        "Do you have any allergies or intolerances?",
        "Are there any rules or restrictions at the venue?",
        # a question spelled out again in the same breath
        "What style are you after? Are you leaning towards rustic or modern?",
        "Could you tell me what the main topic of the talk is?",
    ],
)
def test_a_question_with_options_reasons_or_synonyms_is_one(question):
    assert not is_multi_question(question), asks(question)


TWO = "What is your total budget{sep}when is the wedding?"


@pytest.mark.parametrize(
    "separator",
    ["? ", ". ", "\n", " ", "\u061f ", "\u055e ", "\u1367 ", "\u2753", "\u2754 ", "\uff1f", "\u3002",
     "\u060c ", "\u201a ", ", ", " \u2c9fr ", " \u043er ", " a\u043fd ", " \u0430nd ", "\u3000", "?\u200b",
     "\u037e ", "\u2028", " and also ", "; ",
     # more of every script's marks, and joiners that mean "and"
     "\u203d ", "\u2047 ", "\ufe56 ", "\ufe16 ", "\u2e2e ", "\u00bf", "\u0964", "\u06d4 ", " \u0585r ", " \u1d0f\u0280 ",
     " plus ", " as well as ", ", together with "],
)
def test_two_questions_are_two_in_every_script(separator):
    """The same two questions, separated by any script's question mark, comma or full stop, by a
    newline or nothing, or joined by a look-alike "or"/"and": always two things asked."""
    question = TWO.format(sep=separator)
    assert len(asked_parts(question)) == 2, (separator, asks(question), asked_parts(question))


@pytest.mark.parametrize(
    "question, parts",
    [("Guest count, total budget, wedding date?", 3), ("What is your budget and when is the wedding?", 2),
     ("What is the budget? When is it? Who is coming?", 3), ("Is it formal, is it indoors?", 2),
     ("Could you share the budget or the date?", 2), ("What type of festivals? For example, music or food?", 1),
     ("Do you have any dietary restrictions or preferences?", 1), ("What is the budget? Is it June or July?", 1)],
)
def test_asked_parts_are_the_separate_asks(question, parts):
    assert len(asked_parts(question)) == parts, asked_parts(question)


def test_alternatives_and_examples_are_told_apart():
    assert alternatives("Is it $5,000 or June?") == ["Is it $5,000", "June"]
    assert alternatives("Any preferences for the hotel, such as an area or a budget?") == ["Any preferences for the hotel"]
    head, examples = head_and_examples("Tell me about the class, such as the grade or the length?")
    assert head == "Tell me about the class" and examples == ["the grade", "the length"]
    assert ask_text("What age are the kids? That way I can pick games.") == "What age are the kids?"
