import pytest

from proactive.masking import mask
from proactive.policy import (
    first_question,
    prefix_seed,
    question_end_ids,
    question_from_completion,
    question_messages,
    question_prompt,
    stop_ids,
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


class VocabTokenizer:
    eos_token_id = 2

    def get_vocab(self):
        return {"<|im_end|>": 2, "What": 3, "?": 4, "Ġbudget": 5, ')?': 6, '?"': 7, "Ġ?": 8, "!": 9}


def test_generation_stops_at_any_token_that_closes_a_question():
    tokenizer = VocabTokenizer()
    assert question_end_ids(tokenizer) == [4, 6, 7, 8]
    assert stop_ids(tokenizer) == [2, 4, 6, 7, 8]  # the end of the turn first, each id once


@pytest.mark.slow
def test_stopping_at_the_question_changes_no_question(bundled_chat, tasks):
    from proactive.policy import LocalPolicy

    model, tokenizer = bundled_chat.model, bundled_chat.tokenizer
    policy = LocalPolicy(model, tokenizer, "Question: What", max_new_tokens=24)
    partials = [mask(t) for t in tasks[:3]]
    prompts = [question_prompt(tokenizer, p, (), "Question: What") for p in partials]
    free = policy._generate(prompts, 24, 0.0, 0)  # runs on after the question
    stopped = policy._generate(prompts, 24, 0.0, 0, stop=stop_ids(tokenizer))
    for a, b in zip(free, stopped):
        assert question_from_completion(a, "Question: What") == question_from_completion(b, "Question: What")
        assert len(b) <= len(a) and (b.rstrip().endswith("?") or "?" not in a)
    assert any(len(b) < len(a) for a, b in zip(free, stopped))  # it did cut text after a question
    assert policy.ask_many(partials) == [question_from_completion(b, "Question: What") for b in stopped]


class _Scripted:
    """Stands in for generation: each call hands out the next scripted completion per prompt."""

    def __init__(self, *rounds):
        self.rounds, self.temperatures = list(rounds), []

    def __call__(self, prompts, max_new_tokens, temperature, seed, stop=None):
        self.temperatures.append(temperature)
        return list(self.rounds.pop(0))[: len(prompts)]


def test_a_question_the_policy_can_tell_is_wasted_is_drawn_again(tasks, monkeypatch):
    from proactive.policy import LocalPolicy

    class _Tok:
        padding_side = "right"

        def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
            return "|".join(m["content"] for m in messages)

    monkeypatch.setattr("proactive.policy.stop_ids", lambda tokenizer: [])
    partial = mask(tasks[0], "top_k", k=2)
    history = [("What is the main goal of your project?", "I don't have a particular preference about that.")]
    policy = LocalPolicy(None, _Tok(), "Question:", redraws=2)
    # A copy of the earlier question, then a restatement of the request, then something new.
    restated = " Do you need to write a referral letter to cardiology?"
    assert partial.request.startswith("I need to write a referral letter to cardiology")
    script = _Scripted([" What is the main goal of your project?"], [restated], [" What is your budget?"])
    monkeypatch.setattr(policy, "_generate", script)
    assert policy.ask_many([partial], [history]) == ["What is your budget?"]
    assert script.temperatures == [0.0, 0.7, 0.7]  # redrawn by sampling: greedy would repeat itself
    # Without redraws the first question stands, copy or not; a fresh question is never redrawn.
    plain = LocalPolicy(None, _Tok(), "Question: What")
    monkeypatch.setattr(plain, "_generate", _Scripted([" is the main goal of your project?"]))
    assert plain.ask_many([partial], [history]) == ["What is the main goal of your project?"]
    fresh = _Scripted([" What is your budget?"])
    monkeypatch.setattr(policy, "_generate", fresh)
    assert policy.ask_many([partial], [history]) == ["What is your budget?"] and len(fresh.temperatures) == 1


def test_an_outline_opens_as_an_outline_and_never_stops_mid_sentence(tasks, monkeypatch):
    from proactive.outlines import CUT_MARK, is_cut, whole_lines, without_mark
    from proactive.policy import OUTLINE_OPENING, LocalPolicy

    class _Tok:
        def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
            return "|".join(m["content"] for m in messages)

    seen = {}

    def generate(prompts, max_new_tokens, temperature, seed, stop=None, ended=None, what=None):
        seen["prompts"] = prompts
        ended += [True, False, False]
        return [" Goals\n- Budget: 8,000 euros", "Goals\n- Venue: the hall\n- Choose a location that is",
                "One long line that never ends"]

    policy = LocalPolicy(None, _Tok(), "Question: What")
    monkeypatch.setattr(policy, "_generate", generate)
    partials = [mask(t, "top_k", k=2) for t in tasks[:3]]
    finished, cut, one_line = policy.write_outlines(partials, [()] * 3)
    assert all(p.endswith(OUTLINE_OPENING) for p in seen["prompts"])  # the deliverable, not "I'm ready"
    assert finished == "- Goals\n- Budget: 8,000 euros"
    assert cut == f"- Goals\n- Venue: the hall\n{CUT_MARK}"  # the unfinished line goes; marked as cut
    assert one_line.endswith(f" ...\n{CUT_MARK}")
    assert not is_cut(finished) and is_cut(cut) and without_mark(cut) == "- Goals\n- Venue: the hall"
    assert whole_lines("a\nb", ended=True) == "a\nb"


def test_the_writers_stop_rule_ends_an_outline_at_a_blank_line_or_a_loop():
    from proactive.outlines import first_block

    # A list, then the small model moves on: the list was the outline, finished.
    assert first_block("- Data: cameras\n- Methods: counts\n\nQuestion: what is the best way?") == (
        "- Data: cameras\n- Methods: counts", True)
    # It starts writing a line it already wrote: the outline is over.
    assert first_block("- 4 weeks\n- Budget\n- 4 weeks\n- Budget") == ("- 4 weeks\n- Budget", True)
    # Too early to tell (one line), or no blank line and no loop: not ended by the rule.
    assert first_block("- Dear Dr. Smith,\n\nI am writing") == ("- Dear Dr. Smith,\n\nI am writing", False)
    assert first_block("- a\n- b\n- c") == ("- a\n- b\n- c", False)


def test_outlines_are_written_by_the_base_model_with_the_adapter_switched_off(tasks, monkeypatch):
    """An adapter trained to ask is off while the outline is written (every system then has the same
    writer), on again for the next question; ``writes_with_adapter`` keeps it on."""
    import contextlib

    from proactive.policy import LocalPolicy

    class _Tok:
        def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
            return "|".join(m["content"] for m in messages)

    class _Peft:
        adapter_on = True

        @contextlib.contextmanager
        def disable_adapter(self):
            self.adapter_on = False
            try:
                yield
            finally:
                self.adapter_on = True

    model = _Peft()
    partial = mask(tasks[0], "top_k", k=2)
    for keeps, expected in ((False, False), (True, True)):
        policy = LocalPolicy(model, _Tok(), writes_with_adapter=keeps)
        states = []

        def generate(prompts, max_new_tokens, temperature, seed, stop=None, ended=None, what=None, states=states):
            states.append(model.adapter_on)
            ended += [True] * len(prompts)
            return ["Goals\n- Budget: 8,000 euros"] * len(prompts)

        monkeypatch.setattr(policy, "_generate", generate)
        policy.write_outlines([partial], [()])
        assert states == [expected] and model.adapter_on  # back on for the questions that follow
    # A model with no adapter writes as it is.
    plain = LocalPolicy(object(), _Tok())
    monkeypatch.setattr(plain, "_generate", lambda p, *a, ended=None, **k: ended.extend([True]) or ["a\n- b"])
    assert plain.write_outlines([partial], [()]) == ["- a\n- b"]


def test_the_outline_bar_counts_tokens_and_changes_no_outline(tasks, bundled_chat, monkeypatch):
    """Outlines are the long generation (often one batch): their bar moves token by token, batch after
    batch, and the outlines are the same as without it."""
    from proactive import policy as policy_module
    from proactive.policy import LocalPolicy

    partials = [mask(t, "top_k", k=2) for t in tasks[:2]]
    writer = LocalPolicy(bundled_chat.model, bundled_chat.tokenizer, outline_tokens=6, batch_size=1)
    bars, ticks = [], policy_module._ticks

    def recording(bar):
        bars.append(bar)
        return ticks(bar)

    monkeypatch.setattr(policy_module, "_ticks", recording)
    with_bar = writer.write_outlines(partials, [(), ()])
    assert len(bars) == 2 and bars[0] is bars[1]  # one bar for both batches
    assert bars[0].total == 12 and bars[0].n == 12 and bars[0].unit == "token"
    monkeypatch.setattr(policy_module, "_ticks", lambda bar: None)
    # A fresh writer: this one keeps its greedy plans and would not write them again.
    fresh = LocalPolicy(bundled_chat.model, bundled_chat.tokenizer, outline_tokens=6, batch_size=1)
    assert fresh.write_outlines(partials, [(), ()]) == with_bar


def test_the_stop_rule_ends_numbered_loops_and_loops_inside_a_line():
    from proactive.outlines import first_block

    numbered = "- 1. Headaches\n- 2. Red flags\n- 3. Headache referral\n- 4. Headache referral\n- 5. Headache referral"
    assert first_block(numbered) == ("- 1. Headaches\n- 2. Red flags\n- 3. Headache referral", True)
    inline = "- Patient, 20 a day, type 2 diabetes, cardiology, 20 a day, type 2 diabetes, cardiology, 20 a"
    assert first_block(inline) == ("- Patient, 20 a day, type 2 diabetes, cardiology", True)
    # Numbers a line states are not list numbers: different amounts are different lines.
    assert first_block("- 20 guests\n- 30 guests\n- 40 guests") == ("- 20 guests\n- 30 guests\n- 40 guests", False)
    assert first_block("- Budget: $1,000, flexible\n- Date: May") == ("- Budget: $1,000, flexible\n- Date: May", False)
    # A loop under new headings: the third line that says what two before it said ends the outline.
    looping = "\n".join(f"- {h}:{m}0-{h}:{m}5: The organisers will provide water and cups for runners."
                         for h, m in ((1, 1), (1, 3), (2, 1), (2, 3)))
    assert first_block("- Route: the coast road\n" + looping) == (
        "- Route: the coast road\n" + "\n".join(looping.splitlines()[:2]), True)
    # Short bodies recur in outlines that are not looping; different bodies are different lines.
    tbd = "- Venue: TBD\n- Date: TBD\n- Budget: TBD\n- Theme: TBD"
    assert first_block(tbd) == (tbd, False)
    steps = "\n".join(f"- Step {i}: mix the {x} into the bowl slowly" for i, x in enumerate(("flour", "eggs", "milk"), 1))
    assert first_block(steps) == (steps, False)
