"""ipywidgets controls for the notebooks: small, and built on the library's own functions."""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets

from .errors import ProactiveError
from .html_views import PRE, chat_log_html, partial_task_html
from .masking import STRATEGIES, mask
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

    def render():
        log.value = chat_log_html(user.partial, history)

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
                f"{PRE.format(html.escape(text) or '<i>(empty)</i>')}</div>")

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
