"""Plotly figures the notebooks show (one place, so no plotting code is copied between notebooks)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from .masking import PartialTask
from .tasks import CATEGORIES, Task


def setup_notebook_plots() -> None:
    """Show figures both as live plotly output (JupyterLab) and as self-contained HTML, so they
    survive in executed notebooks and in the offline book (plotly.js inlined, no CDN)."""
    pio.renderers.default = "plotly_mimetype+notebook"


def corpus_figure(tasks: Sequence[Task]) -> go.Figure:
    """The corpus at a glance: tasks per domain, facts per category, and how important facts are."""
    domains = Counter(t.domain for t in tasks)
    categories = Counter(f.category for t in tasks for f in t.facts)
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=("Tasks per domain", "Facts per category", "Fact importance"),
        column_widths=[0.42, 0.33, 0.25],
    )
    names = sorted(domains, key=lambda d: (-domains[d], d))
    fig.add_trace(go.Bar(x=[domains[d] for d in names], y=names, orientation="h", name="tasks"), 1, 1)
    cats = [c for c in CATEGORIES if categories[c]]
    fig.add_trace(go.Bar(x=cats, y=[categories[c] for c in cats], name="facts"), 1, 2)
    fig.add_trace(
        go.Histogram(x=[f.importance for t in tasks for f in t.facts], xbins={"size": 0.1}, name="importance"), 1, 3
    )
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    fig.update_layout(height=420, showlegend=False, title_text=f"{len(tasks)} tasks, {len(domains)} domains")
    return fig


def hidden_categories_figure(partials_by_strategy: dict[str, Sequence[PartialTask]]) -> go.Figure:
    """Which kinds of fact each masking strategy hides (share of hidden facts per category)."""
    fig = go.Figure()
    for strategy, partials in partials_by_strategy.items():
        counts = Counter(f.category for p in partials for f in p.hidden_facts)
        total = sum(counts.values()) or 1
        fig.add_trace(go.Bar(name=strategy, x=list(CATEGORIES), y=[counts[c] / total for c in CATEGORIES]))
    fig.update_layout(
        barmode="group", height=380, yaxis_tickformat=".0%",
        title_text="What each masking strategy hides", yaxis_title="share of hidden facts",
    )
    return fig
