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

# %%

# %% [markdown]
# # 6. Human evaluation: blind A/B preferences
#
# Automatic metrics say how much a dialogue drew out; people say whether the questions were the
# ones they would want asked. The paper's human study showed raters two systems' clarifying
# questions, and separately their final outlines, and asked which was better (its trained model's
# questions were preferred 42% and its outlines 28% more often than o3-mini's; the paper's figures).
#
# This widget runs that study: for each task, two responses in a random order ("Response 1" and
# "Response 2"; which system is which stays hidden), a choice of 1, 2 or tie, and the next item.
# Every judgment is written to a JSONL file the moment it is made, so closing the notebook or a
# dead kernel loses nothing, and reopening it continues where you stopped.

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
run_dir = ""  # the run folder the chapters share ("": ../runs/tutorial-PROFILE; a `make demo` folder works too)
rater = "me"  # your name or initials: judgments are stored per rater
seed = 0  # which response is shown first, per item

# %%
from IPython.display import Markdown, display

from proactive.config import load_profile
from proactive.human_eval import (
    HumanEvalSession,
    demo_items_path,
    human_win_rates,
    load_items,
    load_judgments,
    win_rates_markdown,
)
from proactive.run_folder import RunDir, versions_line
from proactive.widgets import human_eval_widget

config = load_profile(profile)
run = RunDir.tutorial(config, run_dir)
print(versions_line())
items_path = run.human_eval_items  # written by chapter 5 (or `make demo`)
if not items_path.is_file():
    items_path = demo_items_path()  # pairs from a real run, bundled so this chapter also runs on its own
items = load_items(items_path)
judgments_path = run.path("human_judgments.jsonl")
print(f"{len(items)} comparisons from {items_path}; judgments go to {judgments_path}")

# %% [markdown]
# ## Judge
#
# Click a button, or click into the key box and type `1`, `2`, `t` (tie) or `s` (skip).

# %%
session = HumanEvalSession(items, judgments_path, rater=rater, seed=seed)
human_eval_widget(session)

# %% [markdown]
# ## Win rates
#
# Run this cell whenever you like: it reads the file, so it counts every judgment made so far, by
# every rater. A tie counts as half a win; intervals are bootstrap 95% over judgments.

# %%
judgments = load_judgments(judgments_path)
if judgments:
    display(Markdown(win_rates_markdown(human_win_rates(judgments))))
else:
    print("no judgments yet: use the widget above")

# %% [markdown]
# ## What the analysis looks like with judgments in it
#
# So that this page shows a filled-in table without a person at the keyboard, the cell below runs
# the same session and file format with the **embedding judge** in the rater's seat, into a
# separate file. These are automatic judgments, not human ones; they only show the analysis.

# %%
from proactive.backends import EmbeddingSimilarity
from proactive.human_eval import judge_items
from proactive.judges import EmbeddingJudge

auto_path = run.path("judgments-by-embedding-judge.jsonl")
auto = HumanEvalSession(items, auto_path, rater="embedding judge (automatic, not human)", seed=seed)
judge_items(auto, EmbeddingJudge(EmbeddingSimilarity()))
display(Markdown(win_rates_markdown(human_win_rates(load_judgments(auto_path)))))
