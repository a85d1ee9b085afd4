"""HTML views: every text from a task, a question or an answer is escaped; tables keep their rows."""

from dataclasses import replace

from proactive.html_views import chat_log_html, group_html, html_table, partial_task_html, results_table_html
from proactive.masking import mask
from proactive.reward import RewardBreakdown
from proactive.simulator import Turn
from proactive.tasks import load_tasks

EVIL = "<script>alert(1)</script> & <b>"


def partial_with_markup():
    task = load_tasks()[0]
    partial = mask(task, "top_k", 2, seed=0)
    return replace(partial, request=EVIL + partial.request)


def test_task_text_is_escaped_not_rendered():
    page = partial_task_html(partial_with_markup())
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp;" in page
    assert page.count("<li>") == 2  # one per hidden fact


def test_a_chat_log_counts_the_facts_still_hidden():
    partial = partial_with_markup()
    first = partial.hidden_facts[0]
    turns = [Turn(question=EVIL, answer="It is " + first.statement, revealed=(first.id,), kind="revealed"),
             Turn(question="Anything else?", answer="I don't know.", kind="vacuous")]
    page = chat_log_html(partial, turns)
    assert "<script>" not in page and page.count("<tr>") == 3  # header + two turns
    assert f"still hidden: {len(partial.hidden_facts) - 1} of {len(partial.hidden_facts)} facts" in page


def test_a_group_is_ranked_by_advantage():
    partial = partial_with_markup()
    breakdowns = [RewardBreakdown(reward=r) for r in (0.1, 0.9)]
    page = group_html(partial, ["low question", "high <question>"], breakdowns, [-1.0, 1.0])
    assert page.index("high &lt;question&gt;") < page.index("low question")


def test_tables_escape_headers_and_keep_cell_html():
    page = html_table(["a<b"], [["<i>x</i>"], ["y"]])
    assert "<th>a&lt;b</th>" in page and "<td><i>x</i></td>" in page and page.count("<tr>") == 3
    table = {"rows": [{"system": "<trained>", "elicited_share": {"mean": 0.5, "ci_low": 0.4, "ci_high": 0.6}},
                      {"system": "template"}],
             "reference": "<trained>", "judge": "embedding & co", "paper": "their figures"}
    page = results_table_html(table)
    assert "<th>&lt;trained&gt; wins: outline</th>" in page and "<td>&lt;trained&gt;</td>" in page
    assert "<td>0.500 [0.400, 0.600]</td>" in page and page.count("<tr>") == 3 and "embedding &amp; co" in page


def test_an_outline_is_rendered_as_markdown_not_shown_raw():
    from proactive.html_views import outline_html

    page = outline_html("# Plan\n- **Budget**: 8,000 <euros>\n- Venue\nA closing line.\n1. first")
    assert "<b>Plan</b>" in page and "<li><b>Budget</b>: 8,000 &lt;euros&gt;</li>" in page
    assert "**" not in page and page.count("<ul>") == 2 and "<p>A closing line.</p>" in page
