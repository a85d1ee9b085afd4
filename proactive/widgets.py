"""ipywidgets controls for the notebooks: small, and built on the library's own functions."""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets

from .errors import ProactiveError
from .masking import STRATEGIES, PartialTask, mask
from .tasks import Task


class PicturedBox(widgets.VBox):
    """A widget box that also carries a static HTML picture of its current state.

    Where a kernel runs (JupyterLab, Colab) the live widget shows; where none does (the built book,
    which renders the picture first, or a notebook viewer offline) the picture shows what the widget
    looked like when the notebook ran, instead of a blank space."""

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/html"] = (f"<div class='widget-picture' style='border:1px dashed #bbb;padding:6px'>"
                                   f"{static_picture(self)}<p style='color:#777;font-size:smaller'>A picture of "
                                   "the widget as the notebook ran; open the notebook in JupyterLab to use it.</p></div>")
        return bundle


def static_picture(widget: widgets.Widget) -> str:
    """HTML that looks like ``widget`` now: HTML panes as they are, controls as disabled ones."""
    if isinstance(widget, widgets.Box):
        inner = "".join(static_picture(child) for child in widget.children)
        row = isinstance(widget, widgets.HBox)
        return f"<div style='display:flex;flex-direction:{'row' if row else 'column'};gap:6px'>{inner}</div>"
    if isinstance(widget, widgets.HTML):
        width = getattr(widget.layout, "width", None)
        return f"<div style='flex:1{';width:' + width if width else ''}'>{widget.value}</div>"
    if isinstance(widget, widgets.Button):
        return f"<button disabled>{html.escape(widget.description)}</button>"
    label = html.escape(getattr(widget, "description", "") or "")
    if isinstance(widget, widgets.Text):
        shown = html.escape(widget.value or widget.placeholder)
        return f"<label>{label} <input disabled size='40' value='{shown}'></label>"
    value = html.escape(str(getattr(widget, "value", "")))
    return f"<label>{label} <b>{value}</b></label>"


def partial_task_html(partial: PartialTask) -> str:
    """The visible request above the facts only the user knows, for display in a notebook."""
    hidden = "".join(
        f"<li><b>{html.escape(f.category)}</b> ({f.importance:g}): {html.escape(f.statement)}</li>"
        for f in partial.hidden_facts
    )
    return (
        f"<div><p><b>What the assistant sees</b> <code>{html.escape(partial.task_id)}</code></p>"
        f"<blockquote>{html.escape(partial.request)}</blockquote>"
        f"<p><b>What only the user knows</b> ({len(partial.hidden_facts)} hidden, "
        f"{partial.strategy}, seed {partial.seed})</p><ul>{hidden}</ul></div>"
    )


def suite_table_html(results) -> str:
    """The reward-hacking suite as an HTML table (see ``proactive.reward_hacking``)."""
    rows = "".join(
        f"<tr><td>{html.escape(r.kind)}</td><td>{html.escape(r.question[:100])}</td>"
        f"<td>{r.breakdown.reward:+.3f}</td><td>{html.escape(', '.join(r.breakdown.revealed)) or '—'}</td>"
        f"<td>{html.escape(', '.join(r.breakdown.penalties)) or '—'}</td><td>{'yes' if r.holds else '<b>NO</b>'}</td></tr>"
        for r in results
    )
    return ("<table><tr><th>kind</th><th>question</th><th>reward</th><th>revealed</th><th>penalties</th>"
            f"<th>below targeted</th></tr>{rows}</table>")


def masking_explorer(tasks: Sequence[Task], task_id: str | None = None) -> widgets.VBox:
    """Pick a task, a strategy, k and a seed; see the visible request and the hidden facts change."""
    by_id = {t.id: t for t in tasks}
    task_box = widgets.Dropdown(options=sorted(by_id), value=task_id or min(by_id), description="task")
    strategy_box = widgets.Dropdown(options=STRATEGIES, value="top_k", description="strategy")
    k_box = widgets.IntSlider(value=2, min=1, max=7, description="hide k")
    seed_box = widgets.IntSlider(value=0, min=0, max=20, description="seed")
    view = widgets.HTML()

    def render(*_):
        task = by_id[task_box.value]
        k_box.max = len(task.facts) - 1
        try:
            view.value = partial_task_html(mask(task, strategy_box.value, k_box.value, seed_box.value))
        except ProactiveError as exc:
            view.value = f"<p style='color:#b00'>{html.escape(str(exc))}</p>"

    for box in (task_box, strategy_box, k_box, seed_box):
        box.observe(render, names="value")
    render()
    return PicturedBox([widgets.HBox([task_box, strategy_box]), widgets.HBox([k_box, seed_box]), view])


def user_chat(user) -> widgets.VBox:
    """Ask the simulated user questions yourself; each answer shows which hidden fact it revealed."""
    from .simulator import Turn

    history: list[Turn] = []
    box = widgets.Text(placeholder="Ask a clarifying question and press Enter", layout={"width": "80%"})
    ask_button = widgets.Button(description="Ask", button_style="primary")
    reset_button = widgets.Button(description="Start over")
    log = widgets.HTML()
    facts = {f.id: f for f in user.partial.hidden_facts}

    def render():
        rows = []
        for turn in history:
            revealed = ", ".join(f"<b>{html.escape(fid)}</b> ({facts[fid].category})" for fid in turn.revealed) or "—"
            rows.append(f"<tr><td>{html.escape(turn.question)}</td><td>{html.escape(turn.answer)}</td>"
                        f"<td>{revealed}</td><td>{html.escape(turn.kind)}</td></tr>")
        still = [f.id for f in user.partial.hidden_facts if f.id not in {i for t in history for i in t.revealed}]
        log.value = (
            f"<blockquote>{html.escape(user.partial.request)}</blockquote>"
            "<table><tr><th>you asked</th><th>the user answered</th><th>revealed</th><th>kind</th></tr>"
            + "".join(rows) + f"</table><p>still hidden: {len(still)} of {len(facts)} facts</p>"
        )

    def ask(*_):
        if box.value.strip():
            history.append(user.answer(box.value, history))
            box.value = ""
            render()

    def reset(*_):
        history.clear()
        render()

    box.on_submit(ask)
    ask_button.on_click(ask)
    reset_button.on_click(reset)
    render()
    return PicturedBox([widgets.HBox([box, ask_button, reset_button]), log])


def group_html(partial: PartialTask, questions, breakdowns, advantages) -> str:
    """One GRPO group: the sampled questions, their rewards, and the advantage each gets."""
    rows = "".join(
        f"<tr><td>{html.escape(q)}</td><td>{b.reward:+.3f}</td><td>{adv:+.2f}</td>"
        f"<td>{html.escape(', '.join(b.revealed)) or '—'}</td><td>{html.escape(', '.join(b.penalties)) or '—'}</td></tr>"
        for q, b, adv in sorted(zip(questions, breakdowns, advantages), key=lambda x: -x[2])
    )
    return (f"<blockquote>{html.escape(partial.request)}</blockquote>"
            "<table><tr><th>sampled question</th><th>reward</th><th>advantage</th><th>revealed</th>"
            f"<th>penalties</th></tr>{rows}</table>")


def side_by_side_html(partials, systems: dict) -> str:
    """Each task's request, then every system's question, its reward and the user's answer.

    ``systems`` maps a name to ``(questions, breakdowns)``, one of each per task."""
    blocks = []
    for i, partial in enumerate(partials):
        rows = "".join(
            f"<tr><td><b>{html.escape(name)}</b></td><td>{html.escape(questions[i])}</td>"
            f"<td>{breakdowns[i].reward:+.3f}</td><td>{html.escape(breakdowns[i].answer)}</td></tr>"
            for name, (questions, breakdowns) in systems.items()
        )
        blocks.append(f"<h4>{html.escape(partial.task_id)}</h4><blockquote>{html.escape(partial.request)}</blockquote>"
                      "<table><tr><th>system</th><th>question</th><th>reward</th><th>the user answered</th></tr>"
                      f"{rows}</table>")
    return "".join(blocks)


def human_eval_widget(session) -> widgets.VBox:
    """Blind A/B judging of a ``HumanEvalSession``: the request, Response 1 and Response 2 side by side,
    buttons for 1 / tie / 2 / skip, and a key box (type 1, 2, t or s). Every choice is saved at once."""
    header = widgets.HTML()
    left, right = widgets.HTML(layout={"width": "50%"}), widgets.HTML(layout={"width": "50%"})
    status = widgets.HTML()
    buttons = [widgets.Button(description=label, tooltip=tip) for label, tip in (
        ("1 is better", "key 1"), ("Tie", "key t"), ("2 is better", "key 2"), ("Skip", "key s"))]
    keys = widgets.Text(placeholder="keys: 1, 2, t (tie), s (skip)", layout={"width": "260px"})

    def panel(title: str, text: str) -> str:
        return (f"<div style='border:1px solid #ccc;padding:8px;margin:4px'><b>{title}</b>"
                f"<pre style='white-space:pre-wrap;font-family:inherit'>{html.escape(text) or '<i>(empty)</i>'}</pre></div>")

    def render() -> None:
        item = session.current
        done = session.total - len(session.queue)
        if item is None:
            header.value = f"<b>All {session.total} comparisons judged.</b> Saved in <code>{session.path}</code>."
            left.value = right.value = ""
            for b in buttons:
                b.disabled = True
            return
        (_, first), (_, second) = session.shown(item)
        what = "questions" if item.kind == "questions" else "final outline"
        header.value = (f"<p>{done + 1} of {session.total}: which assistant's <b>{what}</b> serves this user better?</p>"
                        f"<blockquote>{html.escape(item.request)}</blockquote>")
        left.value, right.value = panel("Response 1", first), panel("Response 2", second)

    def choose(choice: str) -> None:
        if session.current is None:
            return
        if choice == "skip":
            session.skip()
            status.value = "<i>skipped; it comes back at the end</i>"
        else:
            session.record(choice)
            status.value = f"<i>saved to {html.escape(str(session.path))}</i>"
        render()

    for button, choice in zip(buttons, ("1", "tie", "2", "skip")):
        button.on_click(lambda _b, c=choice: choose(c))

    def on_key(change) -> None:
        key = change["new"].strip().lower()[-1:] if change["new"] else ""
        keys.value = ""
        choice = {"1": "1", "2": "2", "t": "tie", "s": "skip"}.get(key)
        if choice:
            choose(choice)

    keys.observe(on_key, names="value")
    render()
    box = PicturedBox([header, widgets.HBox([left, right]), widgets.HBox([*buttons, keys]), status])
    box.choose = choose  # the same path a click takes; tests and scripted demos call it
    return box


def dialogues_side_by_side_html(results, task_id: str) -> str:
    """One task's dialogue and outline for each system (a ``SystemResult`` each), in columns."""
    columns = []
    for result in results:
        dialogue = next(d for d in result.dialogues if d.partial.task_id == task_id)
        turns = "".join(f"<li>{html.escape(t.question)}<br><i>{html.escape(t.answer)}</i></li>" for t in dialogue.turns)
        columns.append(f"<td style='vertical-align:top;width:{100 // len(results)}%'><h4>{html.escape(result.name)}</h4>"
                       f"<ol>{turns or '<i>no questions</i>'}</ol><b>Outline</b>"
                       f"<pre style='white-space:pre-wrap;font-family:inherit'>{html.escape(dialogue.outline)}</pre></td>")
    partial = next(d.partial for d in results[0].dialogues if d.partial.task_id == task_id)
    hidden = "".join(f"<li>{html.escape(f.statement)}</li>" for f in partial.hidden_facts)
    return (f"<blockquote>{html.escape(partial.request)}</blockquote><details><summary>what the user kept to "
            f"themselves</summary><ul>{hidden}</ul></details><table><tr>{''.join(columns)}</tr></table>")
