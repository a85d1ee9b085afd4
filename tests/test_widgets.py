"""Widgets carry a static picture of themselves for pages without a kernel (the built book)."""

from proactive.tasks import load_tasks
from proactive.widgets import masking_explorer, static_picture


def test_a_widget_shows_live_where_a_kernel_runs_and_as_a_picture_elsewhere():
    tasks = load_tasks()[:3]
    explorer = masking_explorer(tasks, task_id=tasks[1].id)
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # JupyterLab: the live widget
    picture = bundle["text/html"]  # the book: what it looked like
    assert tasks[1].id in picture and "What the assistant sees" in picture and "top_k" in picture
    # the picture follows the widget's state when displayed, not when built
    explorer.children[0].children[1].value = "random_k"
    assert "random_k" in static_picture(explorer)
