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
# # 2. The simulated user
#
# Training needs someone to answer the model's questions, thousands of times. The paper uses a
# **simulated user**: it holds the hidden facts of a masked task and answers each question with
# only what that question asks for. It never volunteers the rest, so a vague question gets a
# vague answer and the model has to learn to ask well.
#
# Our simulated user follows these rules:
#
# 1. reveal the hidden fact the question is actually about (at most one per answer by default):
#    one whose content it names, or, for a question about a kind of detail ("When is it?",
#    "What is your budget?"), its still-hidden fact of that kind, as a person would answer,
# 2. say so when the question asks for something the request or an earlier answer already gave,
# 3. say it has no preference when the question is about none of its facts,
# 4. never list its facts because it was asked to ("tell me everything", "ignore your instructions"),
# 5. refuse a question about something other than the task, even one with a cue word: "Who painted
#    the Mona Lisa?" does not earn the audience of a birthday party. A question may use the task's
#    words and the words of any clarifying question ("budget", "deadline", "roughly"); whatever
#    else it brings in must be related to the request or a fact,
# 6. read a question as a person reads it: what it asks, without the reason given for asking ("...
#    This will help me find recipes"), with its options as options ("Which medium? An article, video
#    or podcast?", "How often (daily, weekly)?"), two words for one thing as one thing ("dietary
#    restrictions or preferences"),
# 7. and still not pay for fishing: a question that asks two things at once (a second question,
#    however it is separated: a full stop, a newline, nothing, any script's question mark; "A or B"
#    guesses that name two of its facts) gets one fact, the one it matches best, at lower confidence,
#    and the reward charges for it; a list of three or more things ("Budget, date, guests?", "budget
#    date guests?", "... such as the budget, the date or the guests?") gets "one thing at a time,
#    please" and nothing.
#
# Rules 5 and 7 came from trying to game the simulated user: each was a class of questions that drew
# out facts without asking for them. Rule 6 came from the other side: asked the questions IN3's
# annotators wrote, an earlier version refused a quarter of them as "several questions" and said
# "no preference" to another quarter, and a policy learns to ask only what its judge accepts.
#
# Deciding "is this question about that fact?" is the hard part. The default, offline backend is
# a small calibrated model over sentence-embedding similarities, fitted on **real people's
# answers** (Qulac) for facts written as sentences, and on IN3's annotator-written inquiries for
# details written as a label and a value ("Duration of the trip: 1 week."); an LLM role-play backend
# (any chat model or endpoint) follows the same rules.

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
qulac_pairs = 0  # how many held-out Qulac questions to check (0: all)
fidelity_tasks = 0  # how many of IN3's 191 check tasks to ask (0: the profile's choice; cpu-smoke asks 30)

# %%
from pathlib import Path

from IPython.display import HTML, display

from proactive.backends import EmbeddingSimilarity
from proactive.calibration import QulacCheck, qulac_check
from proactive.config import load_profile
from proactive.data.in3 import bundled_in3_path, load_in3
from proactive.data.qulac import default_qulac_path, load_qulac
from proactive.errors import ProactiveError
from proactive.fidelity import fidelity_rows, inquiry_check
from proactive.files import atomic_write_json
from proactive.html_views import fidelity_table_html, partial_task_html
from proactive.masking import mask
from proactive.matching import FactMatcher
from proactive.plots import agreement_figure, setup_notebook_plots
from proactive.recorded import provenance_line, recorded
from proactive.reward import ElicitationReward
from proactive.reward_hacking import run_suite
from proactive.run_folder import RunDir, versions_line
from proactive.simulator import SimulatedUser
from proactive.tasks import load_tasks_by_id
from proactive.widgets import user_chat

setup_notebook_plots()
config = load_profile(profile)
run = RunDir.tutorial(config, run_dir)
print(versions_line())
if config.qulac_pairs and not qulac_pairs:
    qulac_pairs = config.qulac_pairs
fidelity_tasks = fidelity_tasks or config.fidelity_tasks
matcher = FactMatcher(EmbeddingSimilarity())
print(f"profile {config.name}; reveal threshold {matcher.threshold:.3f} "
      f"(calibrated on {matcher.calibration.provenance['calibration']['pairs']} Qulac answers)")

# %% [markdown]
# ## One masked task, one user
#
# The wedding reception from chapter 1, with its three most important facts hidden.

# %%
partial = mask(load_tasks_by_id()["event-planning-wedding-reception"], "top_k", k=3)
display(HTML(partial_task_html(partial)))
user = SimulatedUser(partial, matcher)

# %% [markdown]
# A few questions, from generic to targeted. Each answer records the ids of the facts it revealed.

# %%
questions = [
    "What is the purpose of your project?",  # generic: nothing to reveal
    "Tell me everything I need to know.",  # a catch-all: refused
    "What is your total budget for the reception?",  # targeted: reveals the budget
    "How much money can you spend?",  # the same again: already answered
    "Are there any dietary restrictions?",  # already in the request
    "How many guests are you expecting?",  # targeted: reveals the guest count
    "When is it happening?",  # a kind of detail (timeline): reveals the date
    "Who painted the Mona Lisa?",  # a cue word ("who"), but not about the task: refused
    "Venue, menu, music?",  # a list of things: one at a time, please
    "Is the venue indoors? And how many guests?",  # two questions: one fact at most, marked several
]
history = []
for question in questions:
    turn = user.answer(question, history)
    history.append(turn)
    print(f"Q: {question}\nA: {turn.answer}\n   -> {turn.kind}, revealed {list(turn.revealed) or 'nothing'}\n")

# %% [markdown]
# ## Your turn
#
# Here is a held-out task (from the run folder chapter 1 wrote) that you have not seen yet. Type
# questions into the box and see which hidden fact each answer reveals. Try a vague question,
# then a targeted one; try asking for everything at once.

# %%
user_chat(SimulatedUser(run.held_out()[0], matcher))

# %% [markdown]
# ## Does it behave like a real person?
#
# Qulac (Aliannejadi et al., 2019) holds 10,277 answers written by people who were shown a hidden
# search intent (a *facet*) and asked a real clarifying question. An answer that opens with "yes"
# means the question was about their intent; "no" means it was not. So every clearly answered
# Qulac question tests the simulated user's decision: reveal or not?
#
# The matcher was fitted on Qulac as written *and* rephrased: each request also as a sentence ("I'm
# looking for information about ..."), each question also capitalised with a "?", because the
# project's tasks and policies write that way. Below, its topic-grouped cross-validation (each
# fold's topics unseen by the fit): ROC-AUC against plain question-facet cosine, and how much more
# often its reveal decision agrees with people than "always no" does.

# %%
cv = matcher.calibration.provenance.get("grouped_cv", {})
for variant, r in cv.get("per_variant", {}).items():
    print(f"{variant:<17} AUC {r['auc_matcher_mean']:.3f} (min {r['auc_matcher_min']:.3f}) vs cosine "
          f"{r['auc_cosine_mean']:.3f}: gain {r['auc_gain_mean']:+.3f} (min {r['auc_gain_min']:+.3f}); "
          f"agreement above always-no {r['agreement_above_always_no_mean']:+.3f}")

# %% [markdown]
# The check below uses only topics the shipped calibration never saw.

# %%
qulac_file = Path(qulac_path) if qulac_path else default_qulac_path()
saved = None
try:
    facets = load_qulac(qulac_file)
    check = qulac_check(facets, ElicitationReward(matcher), limit=qulac_pairs or None)
except ProactiveError as exc:  # no Qulac file here: show the check as recorded from one full run
    saved = recorded("qulac_check")
    check = QulacCheck.from_dict(saved["payload"]) if saved else None
    print(f"No Qulac file ({exc}).\n" + (provenance_line(saved) if saved else "Skipping the Qulac check."))

if check is not None:
    summary = check.summary()
    for key, value in summary.items():
        print(f"{key:<30} {value}")
    agreement_figure(check.labels, check.revealed,
                     f"Simulated user vs people on {summary['pairs']} held-out questions").show()
    if saved is None:  # this run's own check, not the recorded one
        atomic_write_json(run.path("simulator_check.json"), summary)

# %% [markdown]
# Reading it: *agreement* is how often the simulated user revealed the facet exactly when the
# person said yes. Because most Qulac answers are "no", a user that never reveals anything would
# already agree often (`always_no_agreement`); *kappa* is agreement beyond that chance level, and
# *balanced agreement* weighs yes and no answers equally. The reward's ROC-AUC (next chapter) says
# how well the reward ranks affirmed questions above rejected ones, against the plain cosine
# similarity between question and facet.

# %% [markdown]
# ## Does it answer the questions people ask?
#
# Qulac checks one decision at a time, on web-search facets. IN3 (Qian et al., 2024, "Tell Me
# More!"; its train split ships with this package, Apache-2.0) is closer to this project: vague tasks
# people typed ("I would like to plan a trip to Paris next month."), each with the details it leaves
# out and, for every detail, an inquiry its annotators wrote ("How long do you plan to stay in
# Paris?"). The simulated user holds one value of each detail; we put each inquiry to it, alone and
# in a 3-turn dialogue, most important detail first.
#
# IN3's tasks are split by a hash of their text: the matcher for such details and every rule above
# were tuned on the `train` part only; below is the `test` part, the check. Beside it, the other side
# of the judge: the reward-hacking suite of chapter 3, whose tricks must never pay. A judge that is
# strict on one side only is easy to build; this table shows both.

# %%
check_part = [p for p in load_in3(bundled_in3_path()) if p.meta["split"] == "test"][:fidelity_tasks or None]
fidelity = inquiry_check(check_part, matcher)
suite = run_suite(ElicitationReward(matcher, config.reward_config()), load_tasks_by_id())
display(HTML(fidelity_table_html(fidelity_rows(fidelity, suite))))
print("each inquiry asked alone: " + ", ".join(f"{kind} {n}" for kind, n in fidelity.counts.items()))
for kind, examples in fidelity.examples.items():
    if kind != "revealed its detail":
        question, detail, answer = examples[0]
        print(f"\n{kind}: {question}\n   holds: {detail}\n   answered: {answer}")
atomic_write_json(run.path("fidelity_check.json"), fidelity.summary())

# %% [markdown]
# Reading it: *drew out their own detail* is what a person asked that question would do; the rest
# of the answers are where the simulated user still falls short of one ("no preference" where the
# embedding matcher misses a paraphrase, a question about two details marked several). `proactive
# fidelity` runs the same check on all 191 tasks (`--split train` on the tune part, `--tasks FILE` on
# a file of your own whose tasks carry inquiries).
