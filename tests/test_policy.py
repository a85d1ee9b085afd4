from proactive.masking import mask
from proactive.policy import (
    first_question,
    prefix_seed,
    question_from_completion,
    question_messages,
    question_prompt,
)


class TemplateTokenizer:
    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
        return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"


def test_first_question_trims_to_one_question():
    assert first_question("What is your budget? And when is it?") == "What is your budget?"
    assert first_question("\n\nQuestion: Who is it for?\nMore text") == "Who is it for?"
    assert first_question("Here is your plan.\nStep 1") == "Here is your plan."
    assert first_question("") == ""


def test_prefix_seed_joins_the_completion():
    assert prefix_seed("Question: What") == "What"
    assert question_from_completion(" is your budget?", "Question: What") == "What is your budget?"
    assert question_from_completion("is your budget?", "Question: What") == "What is your budget?"
    assert question_from_completion("'s your budget?", "Question: What") == "What's your budget?"
    assert question_from_completion("When is it?", "") == "When is it?"


def test_prompt_holds_request_history_and_prefix(tasks):
    partial = mask(tasks[0])
    history = [("What is your budget?", "It is $5,000.")]
    messages = question_messages(partial, history)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    prompt = question_prompt(TemplateTokenizer(), partial, history, "Question: What")
    assert partial.request in prompt and "It is $5,000." in prompt and prompt.endswith("<assistant>Question: What")
