"""Evaluation like the paper: multi-turn dialogues on held-out tasks, final outlines, metrics with intervals.

A system (see ``proactive.systems``) talks to the simulated user on each held-out PartialTask for
up to T turns (it may stop early), then writes the outline the request asks for. The metrics:
share of hidden facts elicited (importance-weighted), questions that revealed nothing new,
questions asked, outline coverage of the hidden and of the visible facts (judged), and pairwise
win rates between systems by a judge that sees both orders. Every figure carries a bootstrap 95%
interval over tasks.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .dialogues import elicited_share, run_dialogues
from .errors import ProactiveError, shown
from .fixed_list import NAME as FIXED_LIST
from .judges import OUTLINE, QUESTIONS, Judge, PairVerdict, judge_pair
from .masking import PartialTask
from .matching import FactMatcher
from .outlines import is_cut, without_mark
from .policy import LocalPolicy, System
from .reward import ElicitationReward
from .simulator import MAX_TURNS, NO_MATCH, TURN_KINDS, Dialogue, Turn
from .stats import bootstrap_ci
from .tasks import weighted_share

__all__ = ["SystemResult", "evaluate_system", "pairwise", "system_metrics"]


@dataclass(frozen=True)
class QuestionScores:
    """Rewards of questions sampled on each task: ``rewards[task, sample]``, and the elicitation
    term alone (share of hidden facts each question drew out, whatever the reward's weights)."""

    task_ids: tuple[str, ...]
    questions: tuple[tuple[str, ...], ...]
    rewards: np.ndarray
    elicitation: np.ndarray | None = None

    @property
    def per_task(self) -> np.ndarray:
        return self.rewards.mean(axis=1)


def score_questions(
    policy: LocalPolicy, partials: Sequence[PartialTask], reward: ElicitationReward, samples: int = 8,
    temperature: float = 0.7, seed: int = 0,
) -> QuestionScores:
    """Sample ``samples`` first questions per task and score each with the elicitation reward."""
    repeated = [p for p in partials for _ in range(samples)]
    questions = policy.ask_many(repeated, temperature=temperature, seed=seed)
    breakdowns = reward.score_many([(p, q, ()) for p, q in zip(repeated, questions)])
    shape = (len(partials), samples)
    return QuestionScores(tuple(p.task_id for p in partials),
                          tuple(tuple(questions[i * samples:(i + 1) * samples]) for i in range(len(partials))),
                          np.array([b.reward for b in breakdowns]).reshape(shape),
                          np.array([b.elicitation for b in breakdowns]).reshape(shape))


def paired_difference(after: Sequence[float], before: Sequence[float], seed: int = 0) -> dict[str, float]:
    """Mean of ``after - before`` over paired tasks, with a bootstrap 95% interval."""
    diff = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    mean, low, high = bootstrap_ci(diff, seed=seed)
    return {"before": round(float(np.mean(before)), 4), "after": round(float(np.mean(after)), 4),
            "difference": round(mean, 4), "ci_low": round(low, 4), "ci_high": round(high, 4),
            "tasks": len(diff)}


# --- Episodes (proactive.dialogues.run_dialogues with outlines): saved, scored and compared --------------------


def dialogue_to_dict(dialogue: Dialogue) -> dict[str, Any]:
    return {"partial": dialogue.partial.to_dict(), "turns": [t.to_dict() for t in dialogue.turns],
            "outline": dialogue.outline}


def _typed(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):  # True is not a number
        raise ProactiveError(f"{where}: must be {what} (got {type(value).__name__} {str(value)[:40]!r})")
    return value


def _list_of(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> list:
    _typed(value, list, where, f"a list of {what}")
    for i, item in enumerate(value):
        _typed(item, kind, f"{where}[{i}]", what)
    return value


_TURN_FIELDS = {f.name for f in dataclasses.fields(Turn)}


def dialogue_from_dict(data: dict[str, Any], where: str = "task") -> Dialogue:
    """A dialogue as ``dialogue_to_dict`` writes it; a wrong-typed field is an error naming it."""
    _typed(data, dict, where, "an object")
    turns = []
    for i, t in enumerate(_list_of(data.get("turns", []), dict, f"{where}.turns", "turn objects")):
        at = f"{where}.turns[{i}]"
        _typed(t.get("question"), str, f"{at}.question", "text")
        _typed(t.get("answer"), str, f"{at}.answer", "text")
        _list_of(t.get("revealed", []), str, f"{at}.revealed", "fact ids")
        _list_of(t.get("confidence", []), (int, float), f"{at}.confidence", "numbers")
        if any(not math.isfinite(c) for c in t.get("confidence", [])):
            raise ProactiveError(f"{at}.confidence: must be finite numbers (got {shown(t['confidence'])})")
        if any(not 0 <= c <= 1 for c in t.get("confidence", [])):
            raise ProactiveError(f"{at}.confidence: must be probabilities, 0 to 1 (got {shown(t['confidence'])})")
        if len(t.get("confidence", [])) not in (0, len(t.get("revealed", []))):
            raise ProactiveError(f"{at}.confidence: one per revealed fact")
        if t.get("kind", NO_MATCH) not in TURN_KINDS:
            raise ProactiveError(f"{at}.kind: must be one of {', '.join(TURN_KINDS)} (got {shown(t.get('kind'))})")
        _typed(t.get("known_source", ""), str, f"{at}.known_source", "text")
        closest = t.get("closest")
        if closest is not None and not (isinstance(_typed(closest, (int, float), f"{at}.closest", "a number or null"),
                                                   (int, float)) and 0 <= closest <= 1):
            raise ProactiveError(f"{at}.closest: must be a probability, 0 to 1, or null (got {shown(closest)})")
        turns.append(Turn(**{**{k: v for k, v in t.items() if k in _TURN_FIELDS}, "revealed": tuple(t.get("revealed", ())),
                             "confidence": tuple(t.get("confidence", ()))}))
    partial = PartialTask.from_dict(_typed(data.get("partial"), dict, f"{where}.partial", "a masked task object"))
    return Dialogue(partial, turns, _typed(data.get("outline", ""), str, f"{where}.outline", "text"))


@dataclass
class SystemResult:
    """One system on the held-out tasks: its dialogues (with outlines) and the judged coverage."""

    name: str
    dialogues: list[Dialogue]
    covered_hidden: list[list[bool]]
    covered_visible: list[list[bool]]
    judge: str = "embedding"
    turns: int = 3
    sees_all_facts: bool = False

    def elicited(self) -> list[float]:
        """Per task; the oracle is handed every fact, so it gets 1 by construction."""
        return [1.0 if self.sees_all_facts else elicited_share(d) for d in self.dialogues]

    def elicited_by_turn(self) -> np.ndarray:
        """``[task, t]``: share elicited after t questions (t = 0..turns), a task that stopped keeps its share."""
        rows = []
        for d in self.dialogues:
            seen: set[str] = set()
            row = [1.0 if self.sees_all_facts else 0.0]
            for t in range(self.turns):
                if t < len(d.turns):
                    seen.update(d.turns[t].revealed)
                row.append(1.0 if self.sees_all_facts else d.partial.share_of(seen))
            rows.append(row)
        return np.array(rows)

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.name, "judge": self.judge, "turns": self.turns, "sees_all_facts": self.sees_all_facts,
                "metrics": system_metrics(self),
                "tasks": [{**dialogue_to_dict(d), "covered_hidden": h, "covered_visible": v}
                          for d, h, v in zip(self.dialogues, self.covered_hidden, self.covered_visible)]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SystemResult:
        try:
            _typed(data, dict, "the file", "a JSON object")
            name = _typed(data.get("system"), str, "system", "the system's name")
            if not name.strip() or not name.isprintable() or len(name) > 80:
                # the name is printed in tables: terminal escapes or an empty column are not a name
                raise ProactiveError(f"system: {shown(name)} is not a name (printable text, 1 to 80 characters)")
            turns = _typed(data.get("turns", 3), int, "turns", "a whole number")
            if not 1 <= turns <= MAX_TURNS:
                raise ProactiveError(f"turns: must be 1 to {MAX_TURNS} (got {shown(turns)})")
            sees_all = _typed(data.get("sees_all_facts", False), bool, "sees_all_facts", "true/false")
            tasks = _list_of(data.get("tasks"), dict, "tasks", "task objects")
            dialogues, hidden, visible = [], [], []
            if not tasks:
                raise ProactiveError("tasks: the file holds no tasks, so there is nothing to compare")
            seen: set[str] = set()
            for i, t in enumerate(tasks):
                dialogue = dialogue_from_dict(t, f"tasks[{i}]")
                if dialogue.partial.task_id in seen:
                    raise ProactiveError(f"tasks[{i}]: task {dialogue.partial.task_id!r} appears twice")
                seen.add(dialogue.partial.task_id)
                if len(dialogue.turns) > turns:
                    raise ProactiveError(f"tasks[{i}]: {len(dialogue.turns)} questions in a file of {turns}-question "
                                         "dialogues")
                if sees_all and dialogue.turns:
                    # a system handed every fact is scored 1 without asking; one that asked was not handed them
                    raise ProactiveError(f"tasks[{i}]: sees_all_facts is true, yet the system asked questions; "
                                         "only the oracle is handed every fact")
                hidden_ids = {f.id for f in dialogue.partial.hidden_facts}
                for k, turn in enumerate(dialogue.turns):
                    stray = [fid for fid in turn.revealed if fid not in hidden_ids]
                    if stray:  # a count of facts drawn out must be of this task's hidden facts
                        raise ProactiveError(f"tasks[{i}].turns[{k}].revealed: {stray[0]!r} is not one of the "
                                             "task's hidden facts")
                for key, facts, out in (("covered_hidden", dialogue.partial.hidden_facts, hidden),
                                        ("covered_visible", dialogue.partial.visible_facts, visible)):
                    flags = _list_of(t.get(key), bool, f"tasks[{i}].{key}", "true/false")
                    if len(flags) != len(facts):
                        raise ProactiveError(f"tasks[{i}].{key}: {len(flags)} flags for {len(facts)} facts")
                    out.append(list(flags))
                dialogues.append(dialogue)
            judge = _typed(data.get("judge", "embedding"), str, "judge", "the judge's name")
            return cls(name, dialogues, hidden, visible, judge, turns, sees_all)
        except (KeyError, TypeError, ValueError, ProactiveError) as exc:
            raise ProactiveError(f"not an evaluation file as `proactive evaluate` writes it: {exc}") from None


def evaluate_system(
    system: System, partials: Sequence[PartialTask], matcher: FactMatcher, judge: Judge, turns: int = 3,
    temperature: float = 0.0, seed: int = 0, progress: bool = True,
) -> SystemResult:
    """Run the episodes and judge each outline's coverage of the hidden and of the visible facts."""
    dialogues = run_dialogues(system, partials, matcher, turns=turns, temperature=temperature, seed=seed,
                              progress=progress, outlines=True)
    hidden = [judge.covered(without_mark(d.outline), d.partial.hidden_facts) for d in dialogues]
    visible = [judge.covered(without_mark(d.outline), d.partial.visible_facts) for d in dialogues]
    return SystemResult(system.name, dialogues, hidden, visible, judge.name, turns, system.sees_all_facts)


def _interval(values: Sequence[float], seed: int = 0) -> dict[str, float] | None:
    values = [v for v in values if v is not None and not np.isnan(v)]
    if not values:
        return None
    mean, low, high = bootstrap_ci(values, seed=seed)
    return {"mean": round(mean, 4), "ci_low": round(low, 4), "ci_high": round(high, 4), "n": len(values)}


def redundant_share(dialogue: Dialogue) -> float:
    """Share of the dialogue's questions that revealed nothing new (NaN when it asked none)."""
    if not dialogue.turns:
        return float("nan")
    return sum(not t.revealed for t in dialogue.turns) / len(dialogue.turns)


def drawn_coverage(covered_hidden: Sequence[bool], dialogue: Dialogue, sees_all_facts: bool = False) -> float | None:
    """Does the writer use what its own dialogue drew out? The importance-weighted share of the hidden facts
    the dialogue revealed (all of them for a system handed every fact) that the outline covers; None when
    it drew out nothing, so there was nothing to use."""
    revealed = set(dialogue.revealed_ids)
    pairs = [(flag, fact) for flag, fact in zip(covered_hidden, dialogue.partial.hidden_facts)
             if sees_all_facts or fact.id in revealed]
    if not pairs:
        return None
    return weighted_share([flag for flag, _ in pairs], [fact for _, fact in pairs])


def system_metrics(result: SystemResult) -> dict[str, dict[str, float] | None]:
    """Each metric's mean over tasks with its bootstrap 95% interval (None where it does not apply)."""
    dialogues = result.dialogues
    # An outline the writer did not finish (outlines.CUT_MARK) says nothing about what the dialogue
    # gathered for its missing end: coverage is over finished outlines, with the count left out.
    finished = [not is_cut(d.outline) for d in dialogues]
    return {
        "elicited_share": _interval(result.elicited()),
        "redundant_share": _interval([redundant_share(d) for d in dialogues]),
        "questions_asked": _interval([float(len(d.turns)) for d in dialogues]),
        "coverage_drawn": _interval([drawn_coverage(c, d, result.sees_all_facts)
                                     for c, d, ok in zip(result.covered_hidden, dialogues, finished) if ok]),
        "coverage_hidden": _interval([weighted_share(c, d.partial.hidden_facts)
                                      for c, d, ok in zip(result.covered_hidden, dialogues, finished) if ok]),
        "coverage_visible": _interval([weighted_share(c, d.partial.visible_facts)
                                       for c, d, ok in zip(result.covered_visible, dialogues, finished)
                                       if ok and d.partial.visible_facts]),
        "outlines_cut": {"count": finished.count(False), "of": len(dialogues)},
    }


def questions_text(dialogue: Dialogue) -> str:
    return "\n".join(t.question for t in dialogue.turns)


def paired_texts(a: SystemResult, b: SystemResult, kind: str) -> list[tuple[PartialTask, str, str]]:
    """The task and both systems' texts of one ``kind`` (``outline``, or ``questions`` on the tasks
    where both asked something), for every task both ran: what a judge or a person compares."""
    if kind not in (OUTLINE, QUESTIONS):
        raise ProactiveError(f"unknown comparison {kind!r}; use {OUTLINE!r} or {QUESTIONS!r}")
    theirs = {d.partial.task_id: d for d in b.dialogues}
    pairs = []
    for mine in a.dialogues:
        other = theirs.get(mine.partial.task_id)
        if other is None or (kind == QUESTIONS and (not mine.turns or not other.turns)):
            continue
        texts = ((questions_text(mine), questions_text(other)) if kind == QUESTIONS
                 else (without_mark(mine.outline), without_mark(other.outline)))
        pairs.append((mine.partial, *texts))
    return pairs


def pairwise(a: SystemResult, b: SystemResult, judge: Judge, kind: str = OUTLINE, seed: int = 0,
             progress: bool = False) -> dict[str, Any]:
    """A's win rate over B on the tasks both ran (a win 1, a tie 0.5), judged in both orders per task,
    with a bootstrap 95% interval. ``kind`` is ``outline`` or ``questions`` (then only tasks on which
    both asked something); ``progress`` shows a bar (an LLM judge takes seconds a pair)."""
    from tqdm.auto import tqdm

    pairs = paired_texts(a, b, kind)
    verdicts: list[tuple[str, PairVerdict]] = [
        (partial.task_id, judge_pair(judge, kind, partial, mine, theirs))
        for partial, mine, theirs in tqdm(pairs, desc=f"{judge.name}: {a.name} vs {b.name}, {kind}s judged",
                                          unit="pair", leave=False, disable=not progress)]
    result: dict[str, Any] = {"a": a.name, "b": b.name, "kind": kind, "judge": judge.name, "tasks": len(verdicts),
                              "wins": sum(v.winner == "a" for _, v in verdicts),
                              "ties": sum(v.winner == "tie" for _, v in verdicts),
                              "losses": sum(v.winner == "b" for _, v in verdicts),
                              "verdicts": [{"task_id": t, **asdict(v)} for t, v in verdicts]}
    result["win_rate"] = _interval([v.score for _, v in verdicts], seed=seed)
    return result


def elicited_by_kind(results: Sequence[SystemResult]) -> dict[str, dict[str, Any]]:
    """Per kind of hidden detail (``specifics``, ``audience`` ...): how many such facts the held-out tasks
    hide and the share of them each system's dialogues drew out. A kind prior shows here: a list of
    kind questions reaches the named kinds and not ``specifics``, which only a question about the
    request's own content draws out. Systems handed every fact (the oracle) are left out."""
    return kind_shares({r.name: r.dialogues for r in results if not r.sees_all_facts})


def kind_shares(dialogues: dict[str, Sequence[Dialogue]]) -> dict[str, dict[str, Any]]:
    """:func:`elicited_by_kind` for any named dialogues (a system's greedy ones, or the headline's
    samples, :func:`headline_dialogues`): per kind, the facts the tasks hide (counted once per task
    of the first system) and the share of them each system drew out."""
    table: dict[str, dict[str, Any]] = {}
    for name, held in dialogues.items():
        counts: dict[str, list[int]] = {}
        facts: dict[str, set[tuple[str, str]]] = {}  # a task sampled 4 times still hides each fact once
        for dialogue in held:
            got = set(dialogue.revealed_ids)
            for fact in dialogue.partial.hidden_facts:
                kind = fact.category or "other"
                seen = counts.setdefault(kind, [0, 0])
                seen[0] += fact.id in got
                seen[1] += 1
                facts.setdefault(kind, set()).add((dialogue.partial.task_id, fact.id))
        for kind, (drawn, total) in counts.items():
            row = table.setdefault(kind, {"facts": len(facts[kind])})
            row[name] = round(drawn / total, 4)
    return dict(sorted(table.items(), key=lambda item: -item[1]["facts"]))


def naming_the_request(results: Sequence[SystemResult]) -> dict[str, float]:
    """Per system: the share of its questions that name the request's own subject (a content word of
    the request that is not a generic or kind word: ``questions.names_request_subject``). A fixed list
    names none; a policy that reads the request names it where the detail it asks about is particular."""
    return naming_shares({r.name: r.dialogues for r in results})


def naming_shares(dialogues: dict[str, Sequence[Dialogue]]) -> dict[str, float]:
    """:func:`naming_the_request` for any named dialogues."""
    from .questions import names_request_subject

    shares = {}
    for name, held in dialogues.items():
        asked = [(t.question, d.partial.request) for d in held for t in d.turns if t.question.strip()]
        if asked:
            shares[name] = round(sum(names_request_subject(q, r) for q, r in asked) / len(asked), 4)
    return shares


# --- The headline: does the trained policy ask better than the alternatives? ------------------------

#: Sampled dialogues per held-out task in the headline comparison, and their temperature.
HEADLINE_SAMPLES = 4
HEADLINE_TEMPERATURE = 0.7


def sampled_dialogues(system: Any, partials: Sequence[PartialTask], matcher: FactMatcher, turns: int = 3,
                      samples: int = HEADLINE_SAMPLES, temperature: float = HEADLINE_TEMPERATURE,
                      seed: int = 1000) -> list[Dialogue]:
    """``samples`` sampled dialogues of ``turns`` questions per task, task by task (all generated in one
    batch per turn). A system that does not sample (the template) gives the same dialogue each time."""
    repeated = [p for p in partials for _ in range(samples)]
    return run_dialogues(system, repeated, matcher, turns=turns, temperature=temperature, seed=seed, progress=False)


def per_task_shares(dialogues: Sequence[Dialogue], tasks: int) -> np.ndarray:
    """Per task: the mean share of hidden facts drawn out over its dialogues (``sampled_dialogues``'
    order: each task's samples together)."""
    return np.array([elicited_share(d) for d in dialogues]).reshape(tasks, -1).mean(axis=1)


def sampled_shares(system: Any, partials: Sequence[PartialTask], matcher: FactMatcher, turns: int = 3,
                   samples: int = HEADLINE_SAMPLES, temperature: float = HEADLINE_TEMPERATURE,
                   seed: int = 1000) -> np.ndarray:
    """Per task: the share of hidden facts drawn out, averaged over ``samples`` sampled dialogues of
    ``turns`` questions (:func:`sampled_dialogues`)."""
    return per_task_shares(sampled_dialogues(system, partials, matcher, turns, samples, temperature, seed), len(partials))


def ceiling_shares(partials: Sequence[PartialTask], turns: int = 3) -> np.ndarray:
    """Per task: what an oracle interviewer that asks one perfect question per hidden fact, most
    important first, draws out in ``turns`` questions: the best any questioner can do here."""
    shares = []
    for p in partials:
        weights = sorted((f.importance for f in p.hidden_facts), reverse=True)
        shares.append(sum(weights[:turns]) / (sum(weights) or 1.0))
    return np.array(shares)


#: The headline's name for a task file's own example questions (IN3's annotator-written inquiries).
INQUIRIES = "dataset's inquiries"


def headline_dialogues(trained: Any, untrained: Any, partials: Sequence[PartialTask], matcher: FactMatcher,
                       turns: int = 3, samples: int = HEADLINE_SAMPLES, seed: int = 1000,
                       fixed_list: Sequence[str] | None = None) -> dict[str, list[Dialogue]]:
    """The headline comparison's dialogues, task by task: the trained and untrained policies sampled
    (``samples`` per task, same seeds, so paired), the template's fixed questions (asked through the
    untrained model's writer), the best fixed list's (``fixed_list``: :mod:`proactive.fixed_list`,
    chosen on the training tasks) and, where every task has them, the task file's own example
    inquiries (IN3's, :func:`proactive.fidelity.inquiry_dialogue`): one dialogue per task each."""
    from .fidelity import inquiry_dialogue
    from .fixed_list import fixed_list_system
    from .systems import TemplateQuestions

    found = {"trained": sampled_dialogues(trained, partials, matcher, turns, samples=samples, seed=seed),
             "untrained": sampled_dialogues(untrained, partials, matcher, turns, samples=samples, seed=seed),
             "template": sampled_dialogues(TemplateQuestions(untrained), partials, matcher, turns, samples=1)}
    if fixed_list is not None:
        found[FIXED_LIST] = sampled_dialogues(fixed_list_system(untrained, fixed_list), partials, matcher, turns,
                                              samples=1)
    if partials and all(p.inquiries() for p in partials):
        found[INQUIRIES] = [inquiry_dialogue(p, matcher, turns) for p in partials]
    return found


def headline_shares(trained: Any, untrained: Any, partials: Sequence[PartialTask], matcher: FactMatcher,
                    turns: int = 3, samples: int = HEADLINE_SAMPLES, seed: int = 1000,
                    fixed_list: Sequence[str] | None = None,
                    dialogues: dict[str, list[Dialogue]] | None = None) -> dict[str, np.ndarray]:
    """The headline comparison's per-task shares (:func:`headline_dialogues`' systems, and the ceiling).
    The demo, chapter 5 and benchmarks/headline.py all measure here. Pass ``dialogues`` (an empty dict)
    to keep the dialogues too."""
    found = headline_dialogues(trained, untrained, partials, matcher, turns, samples, seed, fixed_list)
    if dialogues is not None:
        dialogues.update(found)
    shares = {name: per_task_shares(held, len(partials)) for name, held in found.items()}
    shares["ceiling"] = ceiling_shares(partials, turns)
    return shares


def headline(shares: dict[str, Sequence[float]], reference: str = "trained",
             against: Sequence[str] = (FIXED_LIST, "template", "untrained")) -> dict[str, Any]:
    """Each system's mean share of hidden facts drawn out (per-task ``shares``, paired by task), and
    ``reference`` minus each of ``against`` with a bootstrap 95% interval, plus a one-sentence verdict
    computed from those intervals."""
    means = {name: round(float(np.mean(v)), 4) for name, v in shares.items()}
    diffs = {name: paired_difference(shares[reference], shares[name]) for name in against if name in shares}
    parts = []
    for name, d in diffs.items():
        if d["ci_low"] > 0:
            word = "more than"
        elif d["ci_high"] < 0:
            word = "less than"
        else:
            word = "not significantly different from"
        parts.append(f"{word} {name} ({d['difference']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}])")
    verdict = (f"The {reference} policy draws out {means[reference]:.3f} of the hidden facts: "
               + "; ".join(parts) + "." if reference in means else "")
    reached = share_of(shares[reference], shares[INQUIRIES]) if reference in means and INQUIRIES in means else None
    if reached is not None:
        verdict += (f" The {INQUIRIES} (people's questions for these very details) draw out {means[INQUIRIES]:.3f}: "
                    f"the {reference} policy reaches {reached['share']:.2f} of that [{reached['ci_low']:.2f}, "
                    f"{reached['ci_high']:.2f}].")
    if "ceiling" in means:
        verdict += f" The best possible in these turns is {means['ceiling']:.3f}."
    report = {"means": means, "differences": diffs, "verdict": verdict,
              "tasks": len(next(iter(shares.values()))) if shares else 0}
    if reached is not None:
        report["share_of_inquiries"] = reached
    return report


def pooled_headline(runs: Sequence[dict[str, Sequence[float]]], names: Sequence[str],
                    against: Sequence[str] = (FIXED_LIST, "template", "untrained")) -> dict[str, Any]:
    """The headline over several training seeds of one recipe: ``runs`` are each seed's per-task shares
    (:func:`headline_shares`, the same held-out tasks in the same order), ``names`` the runs' names.
    Trained minus each of ``against`` per run and pooled with runs and tasks resampled
    (:func:`proactive.stats.pooled_difference`), each system's mean over runs, and what share of the
    task file's own inquiries the trained policy reaches (its per-task share averaged over runs)."""
    from .stats import pooled_difference

    if not runs:
        raise ValueError("pooled_headline: no runs to pool")
    lengths = {len(r["trained"]) for r in runs}
    if len(lengths) != 1:
        raise ValueError(f"pooled_headline: the runs were measured on different numbers of tasks ({sorted(lengths)})")
    report: dict[str, Any] = {"runs": list(names)}
    for other in (o for o in against if all(o in r for r in runs)):
        matrix = np.array([np.asarray(r["trained"], dtype=float) - np.asarray(r[other], dtype=float) for r in runs])
        report[f"trained - {other}"] = pooled_difference(matrix, list(names))
    report["means"] = {k: round(float(np.mean([np.mean(r[k]) for r in runs])), 4) for k in runs[0]
                       if all(k in r for r in runs)}
    if all(INQUIRIES in r for r in runs):
        mine = np.mean([np.asarray(r["trained"], dtype=float) for r in runs], axis=0)
        report["trained share of inquiries"] = share_of(mine, runs[0][INQUIRIES])
    return report


def share_of(mine: Sequence[float], reference: Sequence[float], seed: int = 0) -> dict[str, float] | None:
    """What share of ``reference``'s mean ``mine``'s reaches (ratio of means over paired tasks), with a
    bootstrap 95% interval over tasks; None where the reference draws out nothing."""
    pairs = np.column_stack([np.asarray(mine, dtype=float), np.asarray(reference, dtype=float)])
    if not len(pairs) or pairs[:, 1].mean() <= 0:
        return None

    def ratio(rows: np.ndarray) -> float:
        return float(rows[:, 0].mean() / rows[:, 1].mean()) if rows[:, 1].mean() > 0 else 0.0

    value, low, high = bootstrap_ci(pairs, statistic=ratio, seed=seed)
    return {"share": round(value, 4), "ci_low": round(low, 4), "ci_high": round(high, 4), "tasks": len(pairs)}
