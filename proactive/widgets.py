"""ipywidgets controls for the notebooks: small, and built on the library's own functions."""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets

from .errors import ProactiveError
from .masking import STRATEGIES, PartialTask, mask
from .tasks import Task


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
    return widgets.VBox([widgets.HBox([task_box, strategy_box]), widgets.HBox([k_box, seed_box]), view])
