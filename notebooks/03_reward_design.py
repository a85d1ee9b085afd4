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
# # 3. Reward design: pay for new information, nothing else
#
# GRPO will push the model toward whatever the reward pays for, so the reward must pay for
# exactly what we want: **genuinely new hidden information** drawn out of the user. The paper's
# reward counts the implicit knowledge a question elicits; asking what was already said, not
# asking, or trying to extract everything at once must earn nothing.
#
# Our reward, term by term (weights in `RewardConfig`):
#
# | term | why it exists |
# |---|---|
# | **elicitation** | the importance-weighted share of hidden facts the simulated user *newly* reveals, each weighted by how clearly the question asked for it. Facts already known earn 0. |
# | **shaping** | a small credit for the closest miss when nothing is revealed, so a policy that gets warmer sees a gradient (GRPO learns nothing from groups whose rewards are all equal). |
# | **no question** | an answer, a plan or a refusal instead of a question. |
# | **several questions** | two things at once ("What is the budget? When is it?", "Is it $5,000 or June 14?" when both are its facts): the simulated user answers the one it matches best at lower confidence and the reward charges for it, so two questions in one always earn less than one asked well; a list of three or more things ("Budget, date, guests?", a keyword string) gets nothing. A question with options, with the reason it is asked, or with two words for one detail is one question. |
# | **restated** | asks for what the request already says. |
# | **repeated** | asks again what an earlier turn asked or already got an answer to. |
# | **too long** | questions past the word budget. |
# | **off topic** | (training profiles only) a question that brings in words unrelated to the request and its facts, cue word or not ("Who painted the Mona Lisa?"). The simulated user refuses it in every profile; the penalty makes it cost something, because GRPO found that an unrelated question ("What's the best way to prepare for a job interview?") is the safest way never to restate or repeat anything, and the 135M policy collapsed onto one. |
#
# Training profiles may also weigh the terms differently (`reward:` in their YAML); the training
# profiles count the elicitation term three times and shaping half, so that facts drawn out, not
# penalties avoided, decide which questions in a GRPO group win.
#
# Facts revealed earlier travel as **fact ids** (each `history` turn's `revealed`), never re-detected
# from the answer's wording; a history given as text only is settled by asking its questions again,
# so a re-ask earns nothing however the earlier answer was phrased.
#
# Garbage input (None, empty, huge strings) scores exactly 0 with a logged warning: one broken
# completion must never crash a training run.

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
qulac_path = ""  # qulac.json; empty: $PROACTIVE_QULAC, or where `proactive data fetch qulac` puts it
qulac_pairs = 0  # held-out Qulac questions for the ROC curve (0: all)

# %%
from dataclasses import fields
from pathlib import Path

from IPython.display import HTML, display

from proactive.backends import EmbeddingSimilarity
from proactive.calibration import QulacCheck, qulac_check
from proactive.config import load_profile
from proactive.data.qulac import default_qulac_path, load_qulac
from proactive.errors import ProactiveError
from proactive.files import atomic_write_json, atomic_write_jsonl
from proactive.html_views import suite_table_html
from proactive.matching import FactMatcher
from proactive.plots import reward_terms_figure, roc_figure, setup_notebook_plots
from proactive.recorded import provenance_line, recorded
from proactive.reward import ElicitationReward, RewardConfig
from proactive.reward_hacking import run_suite
from proactive.run_folder import RunDir, versions_line
from proactive.tasks import load_tasks_by_id

setup_notebook_plots()
config = load_profile(profile)
run = RunDir.tutorial(config, run_dir)
print(versions_line())
if config.qulac_pairs and not qulac_pairs:
    qulac_pairs = config.qulac_pairs
reward = ElicitationReward(FactMatcher(EmbeddingSimilarity()))
for f in fields(RewardConfig):
    print(f"{f.name:<26} {getattr(reward.config, f.name)}")
print(f"\ntraining the {config.name!r} profile changes: {config.reward or 'nothing'}")

# %% [markdown]
# ## The reward-hacking suite
#
# For each task: one plain, targeted question, and the tricks a policy might learn, each a class
# with several phrasings: everything at once, two questions, restating the request, injection, no
# question, padding, cue-word stuffing, an off-topic question with a cue word, a comma list, a
# keyword string, an "A or B or C" chain of guesses, full-width punctuation, look-alike letters, a
# list of options that fishes for several facts, "X or Y" across two facts, a second question however
# it is separated, and re-asking what an earlier answer gave in other words. Every phrasing must score
# *below* the plain question. (The test suite runs the same cases, under these weights and under the
# training profiles'.)
#
# **What changed, and why.** The suite used to hold by refusing: any question with an "or" between
# two kinds of detail, with a second question mark, or with more than four options got "one thing at
# a time" and nothing. Put to the questions IN3's annotators wrote (chapter 2), that judge refused 27%
# of them and drew out 0.48 of what three turns can: a policy trained against it learns to ask only
# plain kind questions ("What is your budget?"), never the targeted ones the paper is about. Now the
# simulated user reads a question as a person does (its reason and its examples aside, its options as
# options) and decides "several" by the facts its parts point at; what keeps fishing from paying is
# the reward: a second question costs the penalty and the fact counts at 0.4 confidence. On IN3's check
# part (never tuned on) 0.92 of inquiries asked alone draw out their own detail, 1% are refused, and
# the dialogues reach 0.90 of the ceiling; every phrasing below still scores under the plain question.

# %%
results = run_suite(reward, load_tasks_by_id())
display(HTML(suite_table_html(results)))
atomic_write_jsonl(run.path("reward_suite.jsonl"), [r.to_dict() for r in results])
print(f"{sum(r.holds for r in results)} of {len(results)} cases hold")
print({kind: sum(r.kind == kind for r in results) for kind in dict.fromkeys(r.kind for r in results)})

# %% [markdown]
# The same suite as a picture: credit goes up, penalties go down, the diamond is the reward.

# %%
first_task = list({r.kind: r for r in results if r.task_id == results[0].task_id}.values())  # one per kind
reward_terms_figure([r.kind for r in first_task], [r.breakdown for r in first_task]).show()

# %% [markdown]
# ## Does the reward rank questions the way people do?
#
# On Qulac, the reward of a question that a real person affirmed should be higher than that of
# one they rejected. The ROC curve shows how well it separates the two on held-out topics, next
# to the plain cosine similarity between question and hidden facet.

# %%
saved = None
try:
    facets = load_qulac(Path(qulac_path) if qulac_path else default_qulac_path())
    check = qulac_check(facets, reward, limit=qulac_pairs or None)
except ProactiveError as exc:  # no Qulac file here: show the check as recorded from one full run
    saved = recorded("qulac_check")
    check = QulacCheck.from_dict(saved["payload"]) if saved else None
    print(f"No Qulac file ({exc}).\n" + (provenance_line(saved) if saved else "Skipping the Qulac check."))

if check is not None:
    summary = check.summary()
    roc_figure({"elicitation reward": (check.labels, check.rewards),
                "cosine(question, facet)": (check.labels, check.cosines)},
               title=f"Reward vs people's yes/no on {summary['pairs']} held-out Qulac questions").show()
    print(f"reward AUC {summary['reward_auc']:.3f} vs cosine AUC {summary['cosine_auc']:.3f}")
    if saved is None:  # this run's own check, not the recorded one
        atomic_write_json(run.path("reward_auc.json"), summary)
