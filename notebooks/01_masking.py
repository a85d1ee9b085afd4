# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 1. Masking: from a fully specified task to an under-specified request
#
# The paper ("Teaching Language Models To Gather Information Proactively", Huang et al., 2025)
# needs requests that are missing something only the user knows. It makes them by taking
# **fully specified** real-world tasks and **masking** key facts: the visible request still reads
# naturally, and the hidden facts become the simulated user's *implicit knowledge*. A good
# assistant has to ask for them.
#
# This chapter walks through the project's own corpus of expert tasks and the masking step.
# Everything shown here is computed by the `proactive` package; the notebook only calls it.

# %% tags=["install"]
# Setup. On Colab: upload the wheel `make wheel` builds (dist/proactive-*.whl) with the Files pane, choose a
# GPU runtime and run this cell. Elsewhere `make lab` (or `make setup`) installed everything: it only checks.
import subprocess
import sys
from pathlib import Path

wheels = sorted(Path().glob("proactive-*.whl"))
if "google.colab" in sys.modules and wheels:
    wheel = f"proactive[unsloth] @ {wheels[-1].resolve().as_uri()}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", wheel], check=True)
try:
    from proactive.notebook_setup import check
except ModuleNotFoundError:
    raise ModuleNotFoundError("proactive is not installed in this kernel: run `make lab` in the repository, or on "
                              "Colab upload dist/proactive-*.whl (`make wheel` builds it) and run this cell again") from None
check()

# %% tags=["parameters"]
profile = "cpu-smoke"  # seconds: 3 tasks, the smallest run; "cpu": every task, the full laptop run (minutes; chapter 4 trains for about 25), colab-t4 / paper on a GPU
seed = 0  # masking seed: same seed, same hidden facts
strategy = "top_k"  # top_k, random_k or category
run_dir = ""  # the run folder the chapters share ("": ../runs/tutorial-PROFILE; a `make demo` folder works too)

# %%
from IPython.display import HTML, display

from proactive import load_tasks, mask, split_tasks
from proactive.config import load_profile
from proactive.files import atomic_write_json
from proactive.html_views import partial_task_html
from proactive.masking import STRATEGIES, mask_many
from proactive.plots import corpus_figure, hidden_categories_figure, setup_notebook_plots
from proactive.run_folder import RunDir, versions_line
from proactive.tasks import corpus_stats
from proactive.widgets import masking_explorer

setup_notebook_plots()
config = load_profile(profile)
run = RunDir.tutorial(config, run_dir)
print(versions_line())
print(f"profile {config.name}: {config.description}")

# %% [markdown]
# ## The corpus
#
# Each task has a domain, an objective, the deliverable it asks for, and 4-8 **facts** a real
# requester would know: audience, budget, dates, constraints, preferences, domain details. Each
# fact has a category and an importance weight (how much the deliverable depends on it).

# %%
tasks = load_tasks()
stats = corpus_stats(tasks)
print(f"{stats['tasks']} tasks in {stats['domains']} domains; "
      f"{stats['facts_per_task']['mean']} facts per task on average")
corpus_figure(tasks).show()

# %% [markdown]
# One fully specified task, as an expert who volunteers everything would write it:

# %%
task = next(t for t in tasks if t.domain == "event planning")
print(task.full_request())
for fact in task.facts:
    print(f"  {fact.id:<10} {fact.category:<11} importance {fact.importance:.1f}")

# %% [markdown]
# ## Masking
#
# Three strategies decide which facts to hide:
#
# - `top_k`: the *k* most important facts (the hardest, most useful gaps to fill),
# - `random_k`: *k* facts at random,
# - `category`: whole kinds of fact, e.g. every budget and timeline fact.
#
# Masking is deterministic for a task, strategy and seed, and it never hides every fact or none.

# %%
partial = mask(task, strategy, seed=seed)
display(HTML(partial_task_html(partial)))

# %%
for name in STRATEGIES:
    p = mask(task, name, seed=seed)
    print(f"{name:<9} hides: {', '.join(f.id for f in p.hidden_facts)}")

# %% [markdown]
# Across the whole corpus, the strategies hide different kinds of fact. `top_k` favours the
# facts the deliverable depends on most, which is what the paper's masking aims for.

# %%
by_strategy = {name: mask_many(tasks, name, seed=seed) for name in STRATEGIES}
hidden_categories_figure(by_strategy).show()

# %% [markdown]
# ## Splits by task
#
# Training, validation and test tasks never overlap: a model must not be tested on a task it was
# trained on with other facts hidden. Within each domain, tasks are ordered by a hash of their id,
# so the splits do not depend on file order and barely move as the corpus grows.

# %%
splits = split_tasks(tasks, seed=config.seed)
for name, members in splits.items():
    print(f"{name:<10} {len(members):>3} tasks")
assert not {t.id for t in splits["train"]} & {t.id for t in splits["test"]}

# %% [markdown]
# ## Try it
#
# Pick a task, a strategy, how many facts to hide, and a seed. (The controls need a live
# kernel; in the static book they show their starting state.)

# %%
masking_explorer(tasks, task_id=task.id)

# %% [markdown]
# ## Hand-off to the next chapters
#
# The masked held-out tasks are written to the run folder; the next chapters read them from
# there rather than from this notebook's memory.

# %%
masked_test = run.held_out(refresh=True)
atomic_write_json(run.path("corpus_stats.json"), stats)
print(f"wrote {len(masked_test)} masked test tasks to {run.masked_test}")
