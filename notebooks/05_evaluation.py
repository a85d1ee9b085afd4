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
# # 5. Evaluation: dialogues, outlines, baselines and judges
#
# The paper evaluates a policy the way it will be used: on **held-out** tasks it talks to the
# simulated user for a few turns, then writes the outline the request asked for. We measure what
# the questions drew out and what the outline made of it, against baselines that bracket the
# problem: no questions at all, the same generic questions on every task, the untrained model, and
# an oracle that is simply handed every hidden fact (the upper bound).

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
run_dir = ""  # the run folder the chapters share ("": ../runs/tutorial-PROFILE; a `make demo` folder works too): chapter 4 trained into RUN_DIR/train
turns = 3  # most questions per dialogue
endpoint = ""  # MODEL@URL of an OpenAI-compatible server to add to the table (e.g. a larger model)

# %%
from IPython.display import HTML, Markdown, display

from proactive.backends import EmbeddingSimilarity
from proactive.config import load_profile
from proactive.evaluation import elicited_by_kind, naming_the_request
from proactive.html_views import dialogues_side_by_side_html
from proactive.human_eval import human_eval_pairs, save_items
from proactive.judges import EmbeddingJudge
from proactive.matching import FactMatcher
from proactive.pipeline import (
    baseline_systems,
    evaluate_all,
    in3_section,
    judge_agreement,
    kind_table_text,
    llm_judge,
)
from proactive.plots import elicitation_by_domain_figure, elicitation_by_turn_figure, setup_notebook_plots
from proactive.results_table import results_table, table_markdown
from proactive.run_folder import RunDir, versions_line
from proactive.system_specs import attach_writer, local_policy
from proactive.task_files import in3_fixed_list_tasks, in3_partials

setup_notebook_plots()
config = load_profile(profile)
run = RunDir.tutorial(config, run_dir)
print(versions_line())
adapter = run.adapter_or_train()  # chapter 4's adapter; trained now if it did not run (seconds in cpu-smoke)
held_out = run.held_out()
print(f"{len(held_out)} held-out tasks; trained adapter: {adapter}")

# %% [markdown]
# ## Run every system
#
# Each system gets the same tasks and the same simulated user, and one writer writes every system's
# outline, so systems differ only in the questions they ask. An outline is the plan for the request
# (written from the request alone, once per task: every system's outline starts from the same plan), then
# one note per answer that gave a detail, each written from that answer alone (`proactive.outline_notes`;
# the writer samples several notes and keeps the one that writes the most of the answer in). The notes are
# the untrained model's, or, where the run trained one (`make demo`'s profile has the `writer` stage: writer
# RFT, chapter 4), the trained note writer's. So an outline changes only by what the questions drew out. Each system's
# dialogues, outlines and judged coverage go to `eval/NAME.json` in the run folder, the format
# `proactive evaluate` writes and `proactive compare` reads.
#
# The template's questions are one weak control. The strong one is the **best fixed list**: three
# questions chosen greedily on the *training* tasks (the one that draws out the most, then the one
# that adds the most after it, ...) and asked unchanged on every held-out task. It reads nothing of
# the request, so a policy that only learned which kinds of detail are usually missing will not beat it.

# %%
similarity = EmbeddingSimilarity()
matcher, judge = FactMatcher(similarity), EmbeddingJudge(similarity)
fixed = run.best_fixed_list(matcher, turns=turns)
print("best fixed list:", " / ".join(fixed.questions),
      f"(draws out {fixed.train_shares[-1]:.3f} on {len(fixed.task_ids)} training tasks)")
base = local_policy(config, name="untrained")
trained = local_policy(config, adapter, name="trained")
writer = attach_writer(config, run.train_dir, [base, trained])  # None: the untrained model writes
print("outlines written by", writer or "the untrained model")
systems = baseline_systems(config, base, trained, endpoint or None, fixed_list=fixed.questions)
results = evaluate_all(systems, held_out, matcher, judge, turns=turns, seed=config.seed,
                       run=run)
by_name = {r.name: r for r in results}

# %% [markdown]
# ## The results table
#
# Laid out like the paper's main table. Each cell is a mean over held-out tasks with its bootstrap
# 95% interval. *Elicited* is the importance-weighted share of hidden facts the questions drew out;
# *revealing nothing new* counts questions whose answer added nothing; *coverage* is the share of
# facts the final outline reflects (judged), and *uses what its dialogue drew out* the share of the
# facts this system's own dialogue revealed that its outline carries: whether the writer used the
# answers at all. Every system's outline is written by the same writer, so only the dialogues
# differ, and a line that pastes the user's own sentence counts for nothing (the judge's
# `own_lines`): an outline earns coverage by writing a detail into the deliverable, not by listing the
# answers. The last two columns are the trained model's pairwise win rate over each row, judged in
# both orders so a judge's taste for the first position cancels.

# %%
table = results_table(results, judge, reference="trained")
display(Markdown(table_markdown(table)))

# %% [markdown]
# ## What kind of detail each system reaches
#
# Hidden facts come in kinds (audience, budget, timeline, ... and *specifics*: the request's own
# content). A kind question reaches its kind; only a question that names the request's content
# reaches specifics. The last row: how many of each system's questions name the request's own subject.

# %%
print(kind_table_text(elicited_by_kind(results), naming_the_request(results)))

# %% [markdown]
# ## On public tasks nobody here wrote
#
# The corpus's tasks were written here, and most of their hidden facts are of a kind a list can name.
# IN3's are not: people typed the requests and annotators listed what each leaves open ("Type of
# pizza", "Which directory"), with a question of their own for each detail. On IN3's held-out side
# (never trained on) the same headline runs again, with those people's questions as the reference:
# how much of what *they* draw out does the trained policy reach, and which kinds of detail? Its best
# fixed list is chosen on IN3's own training tasks: a list chosen on the corpus's tasks would be a weak
# control on IN3 ("Do you have any preferences?" alone reaches most of IN3's preference details).

# %%
in3_held_out = in3_partials("test", config.in3_held_out or 4)
# Its fixed list is chosen on IN3's training side: one chosen on the corpus's tasks is a weak control here.
fixed_in3 = run.best_fixed_list(matcher, in3_fixed_list_tasks(config, len(in3_held_out)), turns=turns,
                                name="best_fixed_list_in3")
print("best fixed list for IN3:", " / ".join(fixed_in3.questions))
in3 = in3_section(trained, base, in3_held_out, matcher, fixed_in3, samples=config.eval_samples, seed=config.seed + 1000)
print(in3["headline"]["verdict"])
print(kind_table_text(in3["elicited_by_kind"], in3["questions_naming_the_request"]))
for example in in3["examples"][:3]:
    print(f"\n{example['request']}")
    for name in ("untrained", "trained", "dataset's inquiries"):
        print(f"  {name:20s} " + " / ".join(example[name]))

# %% [markdown]
# ## Question by question, and domain by domain

# %%
elicitation_by_turn_figure(results).show()

# %%
elicitation_by_domain_figure(results).show()

# %% [markdown]
# ## One dialogue, side by side
#
# The same held-out task, the untrained model on the left and the trained one on the right: the
# questions, what the simulated user answered, and the outline each wrote afterwards.

# %%
task_id = held_out[0].task_id
display(HTML(dialogues_side_by_side_html([by_name["untrained"], by_name["trained"]], task_id)))

# %% [markdown]
# ## Do two judges agree?
#
# The embedding judge is cheap and offline; an LLM judge reads the outlines. Every LLM-judge prompt
# lives in `proactive.judges.PROMPTS`. Here the LLM judge is the bundled 135M model: expect it to be
# a poor judge (agreement near chance); point `LLMJudge` at a served model for a meaningful check.

# %%
agreement = judge_agreement(by_name["trained"], by_name["untrained"], [judge, llm_judge(config, base)],
                            n=min(len(held_out), config.agreement_tasks))
print(f"{agreement['judges'][0]} and {agreement['judges'][1]} agree on {agreement['agreement']:.0%} of "
      f"{agreement['tasks']} outline comparisons (trained vs untrained)")
for name, count in agreement["unreadable_replies"].items():
    print(f"{name}: {count} of its {2 * agreement['tasks']} replies named neither outline (counted as ties)")

# %% [markdown]
# ## Hand over to people
#
# The paper's human study compares two systems' questions and outlines blind. These are the pairs
# chapter 6 shows to a human rater: the trained system's questions and outlines against the untrained
# model's, and its outlines against no clarification's (does asking make the deliverable better?).

# %%
items = human_eval_pairs(by_name)
save_items(run.human_eval_items, items)
print(f"{len(items)} comparisons saved for chapter 6")

# %% [markdown]
# ## The full recipe, recorded
#
# With `cpu-smoke` every number above comes from a model trained for seconds on 3 tasks. Here is the
# same evaluation from one full `make demo` run, recorded: the headline first (sampled 3-question
# dialogues, 4 per held-out task, paired bootstrap 95% intervals), then its results table.

# %%
from proactive.html_views import recorded_demo_html
from proactive.recorded import recorded

demo = recorded("demo")
display(HTML(recorded_demo_html(demo, table=True)) if demo else "No recorded demo run in this checkout: run `make demo`.")

