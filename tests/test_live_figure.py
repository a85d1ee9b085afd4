"""The live training curve: what a notebook frontend receives when LiveFigure redraws.

The messages are recorded where the kernel sends them (IPython's display publisher): one
``display_data`` for the placeholder, then ``update_display_data`` for the same display id at every
step. JupyterLab's plotly renderer ignores updates to a plotly output, so every step must arrive as
HTML that changes with the data; only the final figure is the interactive one."""

import pytest


class Recorder:
    def __init__(self):
        self.messages = []

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
        self.messages.append({"data": data, "display_id": (transient or {}).get("display_id"), "update": update})

    def clear_output(self, wait=False):
        pass


@pytest.fixture
def frontend(monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    from proactive.plots import INLINE_ENV

    monkeypatch.delenv(INLINE_ENV, raising=False)  # as in JupyterLab, not the book's build

    shell = InteractiveShell.instance()
    recorder, before = Recorder(), shell.display_pub
    shell.display_pub = recorder
    yield recorder
    shell.display_pub = before


def test_every_step_updates_one_output_with_html_that_moves(frontend):
    from proactive.methods.grpo import training_curves_figure
    from proactive.plots import LiveFigure

    live = LiveFigure()
    metrics = []
    for step, reward in enumerate([-0.2, 0.1, 0.4, 0.3], start=1):
        metrics.append({"step": step, "reward": reward, "completions/mean_length": 10 + step})
        live.update(training_curves_figure(metrics, title="GRPO"))
    live.finish()
    first, *updates = frontend.messages
    assert not first["update"] and first["display_id"]
    assert len(updates) == 5 and all(m["update"] and m["display_id"] == first["display_id"] for m in updates)
    steps = updates[:4]
    # What Lab draws for each step: HTML, no plotly bundle it would leave on the first step.
    assert all("application/vnd.plotly.v1+json" not in m["data"] for m in steps)
    html = [m["data"]["text/html"] for m in steps]
    assert len(set(html)) == 4 and "<svg" in html[-1] and "<script" not in html[-1]
    assert "4 points" in html[-1] and "+0.300" in html[-1] and "1 points" in html[0]
    assert "reward" in steps[-1]["data"]["text/plain"]
    # The last update is the interactive figure: plotly's JSON for Lab, and only in the book's build
    # the self-contained HTML (plotly.js inlined) that a saved notebook should not carry.
    assert "application/vnd.plotly.v1+json" in updates[-1]["data"] and "text/html" not in updates[-1]["data"]


def test_in_the_books_build_the_final_figure_carries_its_own_html(frontend, monkeypatch):
    from proactive.methods.grpo import training_curves_figure
    from proactive.plots import INLINE_ENV, LiveFigure

    monkeypatch.setenv(INLINE_ENV, "1")
    live = LiveFigure()
    live.finish(training_curves_figure([{"step": 1, "reward": 0.5}], title="GRPO"))
    final = frontend.messages[-1]["data"]
    assert "Plotly.newPlot" in final["text/html"] and "application/vnd.plotly.v1+json" in final


def test_outside_a_notebook_updates_do_nothing():
    from proactive.methods.grpo import training_curves_figure
    from proactive.plots import LiveFigure, sparkline_html

    live = LiveFigure.__new__(LiveFigure)
    live.handle, live.figure = None, None
    fig = training_curves_figure([{"step": 1, "reward": 0.5}], title="<b>x</b>")
    live.update(fig)
    live.finish()
    assert live.figure is fig and "&lt;b&gt;x&lt;/b&gt;" in sparkline_html(fig)
