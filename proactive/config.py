"""Run profiles: one dataclass, one YAML file per profile in ``configs/``.

A profile says which model to use and how big a run is, so the same notebook or command runs
in seconds on a laptop (``cpu-smoke``), for real on a laptop (``cpu``), or on a Colab GPU.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ProactiveError, shown


@dataclass(frozen=True)
class RewardConfig:
    """Every weight of the reward in one place. Defaults are the weights every profile trains with."""

    #: Multiplies the elicitation term (importance-weighted share of facts newly drawn out). Three times
    #: the penalties, so that facts drawn out, not penalties avoided, decide GRPO's group comparisons.
    elicitation_weight: float = 3.0
    #: Dense credit: this times the best match probability among facts still hidden, revealed or not.
    #: It tells a policy that is getting warmer so (GRPO learns nothing from equal rewards); small
    #: beside a fact drawn out, so warmth never outbids a find.
    shaping: float = 0.25
    #: The completion contains no question at all (an answer, a plan, a refusal ...).
    no_question_penalty: float = 0.5
    #: More than one question, or a list of things to tell ("budget, dates, audience and goals?").
    multi_question_penalty: float = 0.3
    #: Asks for something the request already says.
    restate_penalty: float = 0.3
    #: Asks again what an earlier turn asked or already got an answer to.
    repeat_penalty: float = 0.3
    #: Words allowed before the length penalty starts, and its slope and cap.
    length_budget_words: int = 30
    length_penalty_per_word: float = 0.02
    length_penalty_max: float = 0.5
    #: A question with no content at all ("What?", "What's your question?").
    vacuous_penalty: float = 0.5
    #: A question about something else than the task, cue word or not ("Who painted the Mona Lisa?" on
    #: a party plan): the simulated user refuses it (no fact, no shaping) whatever this is. Without a
    #: penalty GRPO finds that an unrelated question is the safest way never to restate or repeat
    #: anything, and a 135M policy collapses onto one.
    off_topic_penalty: float = 0.3

    def __post_init__(self):
        for name, value in asdict(self).items():
            if (not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value)
                    or value < 0):
                raise ProactiveError(f"RewardConfig.{name} must be a finite, non-negative number (got {value!r})")


#: A layer name LoRA may target (``q_proj``, ``model.layers.0.mlp.up_proj``).
LAYER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")

#: Seeds go to numpy's and torch's generators (32 bits), plus offsets for each round and step.
MAX_SEED = 2**31 - 1
#: The lowest sampling temperature: below it the logits divided by it overflow to infinity and the
#: probabilities are NaN (1e-300 did); greedy decoding is temperature 0 where a command offers it.
MIN_TEMPERATURE = 0.01

#: The range each number a profile sets must lie in, checked when it loads, so that a bad value is one
#: line naming the key, not a traceback from TRL or PEFT minutes into a run: (lowest, highest, whether
#: the lowest itself is allowed); None is unbounded.
RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    "seed": (0, MAX_SEED, True), "n_tasks": (1, None, True), "outline_tokens": (1, None, True),
    "eval_samples": (1, None, True), "eval_batch_size": (1, None, True), "agreement_tasks": (1, None, True),
    "qulac_pairs": (1, None, True), "fidelity_tasks": (1, None, True), "redraws": (0, 10, True),
    "note_samples": (0, 64, True),
    "train.max_completion_length": (1, None, True), "train.lora_r": (1, None, True),
    "train.lora_alpha": (1, None, True), "train.lora_dropout": (0, 0.99, True), "train.train_tasks": (1, None, True),
    "train.in3_tasks": (0, None, True), "in3_held_out": (0, None, True),
    "train.max_seq_length": (16, None, True), "train.seed": (0, MAX_SEED, True),
}


def check_range(where: str, value: object, spec: tuple[float | None, float | None, bool]) -> str | None:
    """Why ``value`` is out of ``spec``'s range (one clause), or None when it fits."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None  # types are checked separately
    low, high, low_inclusive = spec
    high = MAX_SEED if high is None else high  # no count or weight a run can use is larger; TRL's are 64-bit
    if not math.isfinite(value):
        return f"{where} must be a finite number (got {shown(value)})"
    if low is not None and (value < low or (value == low and not low_inclusive)):
        bound = f"at least {low}" if low_inclusive else f"greater than {low}"
        return f"{where} must be {bound}" + (f" and at most {high}" if high is not None else "") + f" (got {shown(value)})"
    if high is not None and value > high:
        return f"{where} must be at most {high} (got {shown(value)})"
    return None


@dataclass(frozen=True)
class TrainSettings:
    """A profile's training settings (``train:`` in its YAML): which methods train the policy, in order,
    and what they share (the LoRA adapter, dtype, seed, question length). Each method's own settings
    sit in its section (``train.rft:``, ``train.grpo:``; :mod:`proactive.methods`) and are read with
    :meth:`settings` or as an attribute (``profile.train.rft.rounds``). Defaults are the CPU recipe."""

    #: The methods that train the policy, in order (``proactive.methods``): ``[grpo]`` (single questions,
    #: group-relative advantages), ``[rft]`` (rejection-sampling fine-tuning over whole dialogues), or
    #: ``[rft, grpo]`` (RFT rounds, then GRPO from the result). ``rft+grpo`` is read as the list.
    method: tuple[str, ...] = ("grpo",)
    #: Tokens a sampled question may have (GRPO's completions, RFT's sampled dialogues).
    max_completion_length: int = 24
    #: Stop each sampled question at its '?' (see ``policy.question_end_ids``), so the update is about
    #: the question, not the text a small model writes after it.
    stop_at_question: bool = True
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    lora_targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    #: Training tasks used (None: the whole train split).
    train_tasks: int | None = None
    #: Tasks from the train side of the bundled IN3 split trained on beside the corpus's (public vague
    #: tasks nobody here wrote, whose details are mostly of no kind a fixed list reaches: only a question
    #: about the request's own content draws them out); 0: the corpus alone. IN3's held-out side is never
    #: trained on (``proactive.data.in3.in3_split``).
    in3_tasks: int = 0
    #: GPU only: load the base model in 4 bit (QLoRA) and the context length Unsloth reserves.
    load_in_4bit: bool = True
    max_seq_length: int = 1024
    #: Weights' dtype: "auto" is float32 on CPU and bfloat16 (float16 where unsupported) on a GPU.
    #: Set by the project, not by the runner: Unsloth would pick bfloat16 on a CPU that has it,
    #: and the loss then departs from the float32 run's from the second step.
    dtype: str = "auto"
    #: The training run's own seed (LoRA init, sampling, prompt rows, own-history dialogues); None:
    #: the profile's ``seed``. Changing it alone retrains on the same split and maskings, which is
    #: how run-to-run variation is measured (benchmarks/recipes/*-seed*.yaml).
    seed: int | None = None
    #: Experiment trackers that receive every training record as it is written (RFT's rounds, GRPO's
    #: steps; :mod:`proactive.tracking`): ``tensorboard``, ``trackio``, ``wandb``, or none (the default).
    #: The YAML takes one name, a list, or ``none``.
    report_to: tuple[str, ...] = ()
    #: Each method's settings by its name (``train.rft:`` ...); a method not given here has its defaults.
    methods: dict[str, Any] = field(default_factory=dict)

    def settings(self, name: str) -> Any:
        """The settings of method ``name``: the profile's, or the method's defaults."""
        if name in self.methods:
            return self.methods[name]
        from . import methods

        return methods.get(name).settings_class()

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not fields: ``train.rft``, ``train.grpo`` (any registered method).
        if name.startswith("_"):
            raise AttributeError(name)
        from . import methods

        if name not in methods.names():
            moved = LEGACY_TRAIN_KEYS.get(name)
            where = f"; it is train.{moved[0]}.{moved[1]} now" if moved else ""
            raise AttributeError(f"TrainSettings has no setting or method {name!r}{where}")
        return self.settings(name)

    def with_method(self, names: Sequence[str] | str) -> TrainSettings:
        """These settings training with other methods (``--method``)."""
        from . import methods

        parsed = methods.parse(names)
        unknown = [n for n in parsed or () if n not in methods.names()]
        if not parsed or unknown:
            raise ProactiveError(f"unknown training method {names!r}; choose from {', '.join(methods.names())} "
                                 "(stages joined by '+': rft+grpo)")
        return dataclasses.replace(self, method=parsed)

    def with_settings(self, name: str, **changes: Any) -> TrainSettings:
        """These settings with some of method ``name``'s changed (``train.with_settings("grpo", max_steps=2)``)."""
        return dataclasses.replace(self, methods={**self.methods, name: dataclasses.replace(self.settings(name), **changes)})


#: Keys of the flat ``train:`` section profiles had before each method got its own section, and where
#: they live now: ``rft_rounds`` -> ``train.rft.rounds``, ``max_steps`` -> ``train.grpo.max_steps``.
#: Old profiles and recipes keep loading.
LEGACY_TRAIN_KEYS: dict[str, tuple[str, str]] = {
    **{f"rft_{key}": ("rft", key) for key in (
        "rounds", "hinted_rounds", "kind_openings", "inquiries", "variants", "misses", "plain_questions",
        "samples", "temperature", "turns", "epochs", "learning_rate", "batch_size")},
    **{key: ("grpo", key) for key in (
        "max_steps", "learning_rate", "num_generations", "prompts_per_step", "gradient_accumulation_steps",
        "temperature", "scale_rewards", "beta", "history_depths", "own_history", "own_history_refresh",
        "save_steps", "use_vllm")},
}


@dataclass(frozen=True)
class Profile:
    """Everything a run needs to know about its scale. Fields not set in the YAML keep these defaults."""

    name: str
    description: str = ""
    #: Policy model: the bundled name (offline), a local folder, or a hub name (GPU profiles only).
    model: str = "smollm2-135m-instruct"
    #: Needs CUDA (and Unsloth where ``use_unsloth``); refused on a CPU machine with a clear error.
    requires_gpu: bool = False
    use_unsloth: bool = False
    seed: int = 0
    #: How many tasks notebooks and the demo walk through (None: all of the split).
    n_tasks: int | None = None
    mask_strategy: str = "top_k"
    #: Length budget of the plan a local model writes for the request (the outline before its notes,
    #: evaluation). At 128 tokens 13 of make demo's 24 held-out plans ran out (sections of one sentence
    #: each), at 256 two did; each plan is written once for every system.
    outline_tokens: int = 256
    #: Text the assistant's turn starts with: a label, and the question's first word, so that even
    #: a 135M model's first attempt is a question (the policy writes the rest).
    question_prefix: str = "Question: What"
    #: How many times a local policy redraws (samples again) a question it can tell is wasted from what
    #: it sees: a repeat of one it asked earlier in the dialogue, or a restatement of the request
    #: (``LocalPolicy.stale``). A small model copies questions from its own history; the reward
    #: already gives a repeat nothing, this spends a turn better. 0: ask the first question drawn.
    redraws: int = 0
    #: Notes a local writer samples beside each greedy one, to choose the one that writes the most of the
    #: user's sentence in (``outline_notes.best_note``; evaluation's outlines). 0: the greedy note alone.
    note_samples: int = 8
    train: TrainSettings = field(default_factory=TrainSettings)
    #: Reward weights that differ from ``RewardConfig``'s defaults (``reward:`` in the YAML), used
    #: when training this profile and when its benchmark scores questions.
    reward: dict[str, float] = field(default_factory=dict)
    #: Weights' dtype when a local model asks and writes outlines in evaluation (the demo, chapters 5-6,
    #: `proactive evaluate`); values as ``train.dtype``. "auto" (float32 on CPU) is what the learning
    #: benchmark's figures use; "bfloat16-if-native" generates about 1.4x faster on a CPU with bf16 in
    #: hardware (measured: the same questions and outlines on the first held-out tasks).
    eval_dtype: str = "auto"
    #: Prompts a local model generates for at once in evaluation. Larger batches are faster on CPU
    #: (32 against 16, 2 cores, float32: sampled questions 0.93x, outlines 0.77x the seconds; in the
    #: bfloat16 demo, its evaluation 0.96x) but draw other samples from the same seed, so the learning
    #: benchmark's recipes keep 16 and its figures reproduce.
    eval_batch_size: int = 16
    #: Sampled 3-question dialogues per held-out task in the demo's headline, for each model.
    eval_samples: int = 8
    #: Tasks of IN3's held-out side (never trained on) the demo also measures its headline on, with IN3's
    #: own inquiries (people's questions for those very details) as the reference; 0: the corpus alone.
    in3_held_out: int = 0
    #: Held-out tasks on which the demo measures how often its two judges agree.
    agreement_tasks: int = 12
    #: Held-out Qulac questions chapters 2 and 3 check the simulated user on (None: all of them).
    qulac_pairs: int | None = None
    #: Tasks of IN3's check part whose inquiries chapter 2 puts to the simulated user (None: all 191).
    fidelity_tasks: int | None = None

    @property
    def train_seed(self) -> int:
        """The seed training runs with: ``train.seed``, else the profile's (split and masking) seed."""
        return self.seed if self.train.seed is None else self.train.seed

    def reward_config(self) -> RewardConfig:
        """The ``RewardConfig`` this profile trains with: the defaults, with its ``reward:`` weights."""
        known = {f.name for f in dataclasses.fields(RewardConfig)}
        unknown = sorted(set(self.reward) - known)
        if unknown:
            raise ProactiveError(f"unknown reward weights {unknown}; known: {', '.join(sorted(known))}")
        return RewardConfig(**self.reward)


def profile_record(profile: Profile) -> dict[str, Any]:
    """A profile as a run's ``config.json`` records it, in the YAML's shape (``train.rft: {...}``)."""
    record = asdict(profile)
    train = record["train"]
    for name, settings in train.pop("methods").items():
        train[name] = settings
    train["method"] = list(train["method"])
    return record


def configs_dir() -> Path:
    """``$PROACTIVE_CONFIGS`` or the package's ``configs/`` folder (shipped inside the package, so
    a wheel or git install, as on Colab, has its profiles too)."""
    env = os.environ.get("PROACTIVE_CONFIGS")
    return Path(env) if env else Path(__file__).resolve().parent / "configs"


def available_profiles() -> list[str]:
    folder = configs_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def _profile_path(name_or_path: str, relative_to: Path | None = None) -> Path:
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = configs_dir() / f"{name_or_path}.yaml"
    elif relative_to is not None and not path.is_absolute() and not path.is_file():
        path = relative_to.parent / path
    if not path.is_file():
        known = ", ".join(available_profiles()) or f"none found in {configs_dir()}"
        raise ProactiveError(f"unknown profile {name_or_path!r}; choose one of: {known} (or pass a YAML path)")
    return path


def _profile_data(path: Path, chain: tuple[Path, ...] = ()) -> dict:
    """A profile file's settings with those of its ``base:`` profile (and its base's ...) underneath:
    the file's own keys win, its ``train:`` and ``reward:`` keys one by one (and each method's section
    under ``train:`` key by key)."""
    if path.resolve() in chain:
        raise ProactiveError(f"{path}: base profiles form a loop ({' -> '.join(p.name for p in (*chain, path))})")
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ProactiveError(f"{path}: settings must be a YAML mapping")
    if isinstance(data.get("train"), dict):
        data["train"] = _sectioned(path, data["train"])
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ProactiveError(f"{path}: base must be a profile name or a YAML path (got {base!r})")
    merged = _profile_data(_profile_path(base, relative_to=path), (*chain, path.resolve()))
    merged.pop("name", None)  # a recipe is named after its own file
    for key, value in data.items():
        if key in ("train", "reward") and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **{k: {**merged[key][k], **v} if isinstance(v, dict)
                                             and isinstance(merged[key].get(k), dict) else v
                                             for k, v in value.items()}}
        else:
            merged[key] = value
    return merged


def _sectioned(path: Path, train: dict) -> dict:
    """A ``train:`` mapping with the flat keys of older profiles (``rft_rounds``, ``max_steps``) moved
    into their method's section (:data:`LEGACY_TRAIN_KEYS`); a key given both ways is refused."""
    out = {k: v for k, v in train.items() if k not in LEGACY_TRAIN_KEYS}
    for key, value in train.items():
        if key not in LEGACY_TRAIN_KEYS:
            continue
        section, name = LEGACY_TRAIN_KEYS[key]
        if not isinstance(out.get(section, {}), dict):
            continue  # the section's own check names the problem
        if name in out.get(section, {}):
            raise ProactiveError(f"{path}: train.{key} and train.{section}.{name} are the same setting; "
                                 f"keep train.{section}.{name}")
        out[section] = {**out.get(section, {}), name: value}
    return out


def load_profile(name_or_path: str) -> Profile:
    """Load a profile by name (``configs/NAME.yaml``) or from a YAML file path. A profile may start
    from another (``base: cpu``, a name or a path relative to it) and set only the keys it changes."""
    from . import methods

    path = _profile_path(name_or_path)
    data = _profile_data(path)
    _check_settings(path, data, Profile, "settings")
    data.setdefault("name", path.stem)
    train = data.pop("train", None) or {}
    if isinstance(train, dict) and "report_to" in train:  # one name, a list, or none
        from .tracking import parse_report_to

        try:
            train["report_to"] = list(parse_report_to(train["report_to"]))
        except ProactiveError as exc:
            raise ProactiveError(f"{path}: train.report_to: {exc}") from None
    _check_settings(path, train, TrainSettings, "train settings", extra=methods.names(), prefix="train.")
    stages = methods.parse(train.get("method", TrainSettings.method))
    unknown = [name for name in stages or () if name not in methods.names()]
    if not stages or unknown or len(set(stages)) != len(stages):
        raise ProactiveError(f"{path}: train.method {shown(train.get('method'))} is not a list of training methods "
                             f"({', '.join(methods.names())}), each at most once: e.g. [rft, grpo] or rft")
    train["method"] = stages
    sections = {}
    for name in methods.names():
        section = train.pop(name, None)
        if section is None:
            continue
        cls = methods.get(name).settings_class
        _check_settings(path, section, cls, f"train.{name} settings", prefix=f"train.{name}.")
        section = {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}
        _check_values(path, section, cls, f"train.{name}.")
        sections[name] = cls(**section)
    train = {k: tuple(v) if isinstance(v, list) else v for k, v in train.items()}
    from .models import DTYPES

    for where, dtype in (("train.dtype", train.get("dtype", "auto")), ("eval_dtype", data.get("eval_dtype", "auto"))):
        if dtype not in DTYPES:
            raise ProactiveError(f"{path}: {where} {dtype!r} is not one of {', '.join(DTYPES)}")
    for where, spec in RANGES.items():
        section, key = ("train", where[6:]) if where.startswith("train.") else ("settings", where)
        source = train if section == "train" else data
        problem = check_range(where, source.get(key), spec) if key in source else None
        if problem:
            raise ProactiveError(f"{path}: {problem}")
    targets = train.get("lora_targets", ("q_proj",))
    if not targets or any(not isinstance(t, str) or not LAYER_NAME.match(t) for t in targets):
        raise ProactiveError(f"{path}: train.lora_targets must be a non-empty list of layer names such as q_proj "
                             f"(got {shown(list(targets))})")
    if isinstance(data.get("model"), str) and not data["model"].strip():
        raise ProactiveError(f"{path}: model is empty; give the bundled name (smollm2-135m-instruct), a model "
                             "folder, or a hub name (GPU profiles)")
    if not isinstance(data.get("reward", {}), dict):
        raise ProactiveError(f"{path}: reward settings must be a YAML mapping of weights")
    profile = Profile(train=TrainSettings(**train, methods=sections), **data)
    try:
        profile.reward_config()
    except (ProactiveError, TypeError) as exc:
        raise ProactiveError(f"{path}: reward settings: {exc}") from None
    return profile


def _check_values(path: Path, section: dict, cls: type, where: str) -> None:
    """A method's settings within their ranges and choices (``RANGES``, ``CHOICES`` on its settings class),
    and its own cross-checks (``problem(values)``), or a one-line error naming the key."""
    for key, spec in getattr(cls, "RANGES", {}).items():
        problem = check_range(where + key, section.get(key), spec) if key in section else None
        if problem:
            raise ProactiveError(f"{path}: {problem}")
    for key, options in getattr(cls, "CHOICES", {}).items():
        if key in section and section[key] not in options:
            raise ProactiveError(f"{path}: {where}{key} {shown(section[key])} is not one of {', '.join(options)}")
    check = getattr(cls, "problem", None)
    problem = check(section) if check is not None else None
    if problem:
        raise ProactiveError(f"{path}: {where}{problem}")


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (plain YAML keeps the last one,
    so a recipe that sets ``learning_rate`` twice would silently train with the second)."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} is given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


def _bounded_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    # A whole number of thousands of digits is no setting, and Python refuses to read one past 4,300
    # with a ValueError of its own.
    if len(str(node.value)) > 30:
        raise yaml.constructor.ConstructorError(None, None, f"a number of {len(str(node.value)):,} digits",
                                                node.start_mark)
    return loader.construct_yaml_int(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _bounded_int)


#: What a profile file may be: its size, and how many YAML aliases it may use (each alias repeats what
#: its anchor holds, so a few dozen nested ones make a "billion laughs" of memory).
MAX_PROFILE_BYTES = 1_000_000
MAX_ALIASES = 20


def read_yaml(path: Path) -> object:
    """A YAML file's content (empty: {}), or a one-line error: not UTF-8, not YAML, a key given twice."""
    try:
        if path.stat().st_size > MAX_PROFILE_BYTES:
            raise ProactiveError(f"{path}: {path.stat().st_size:,} bytes; a profile is a few hundred (at most "
                                 f"{MAX_PROFILE_BYTES:,} are read): is this the right file?")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProactiveError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise ProactiveError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        aliases = sum(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader))
        if aliases > MAX_ALIASES:
            # Each alias may repeat a list of aliases: 9 levels of 9 make 387 million items from 81 aliases.
            raise ProactiveError(f"{path}: {aliases} YAML aliases (*name); a profile needs at most {MAX_ALIASES}: "
                                 "write the values out")
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except RecursionError:
        raise ProactiveError(f"{path}: nested too deeply to read; a profile is a flat mapping with train: and "
                             "reward: sections") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or " ".join(str(exc).split())[:200]
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ProactiveError(f"{path}: not valid YAML ({where}{problem})") from None
    return {} if data is None else data


def _check_settings(path: Path, data: object, cls: type, what: str, extra: Sequence[str] = (), prefix: str = "") -> None:
    """A YAML mapping whose keys are all fields of ``cls`` (or ``extra``: the methods' sections), or a
    one-line error naming the strays."""
    if not isinstance(data, dict):
        raise ProactiveError(f"{path}: {what} must be a YAML mapping")
    known = {f.name for f in dataclasses.fields(cls)} - {"methods"} | set(extra)
    unknown = sorted((set(data) - known), key=str)
    if unknown:
        raise ProactiveError(f"{path}: unknown {what} {shown(unknown, 120)}; known: {', '.join(sorted(known))}")
    for name in extra:
        if name in data and not isinstance(data[name], dict):
            raise ProactiveError(f"{path}: train.{name} must be a YAML mapping of that method's settings")
    for setting in dataclasses.fields(cls):
        if setting.name == "method" or setting.name in data and setting.name == "methods":
            continue  # checked by load_profile
        if setting.name in data and not _fits(data[setting.name], str(setting.type)):
            if str(setting.type).startswith("dict"):
                raise ProactiveError(f"{path}: {setting.name} settings must be a YAML mapping of names to values")
            example = "" if setting.default is dataclasses.MISSING else f" (the default is {setting.name}: {setting.default!r})"
            value = data[setting.name]
            if isinstance(value, float) and not math.isfinite(value):
                raise ProactiveError(f"{path}: {prefix}{setting.name} must be a finite number (got {shown(value)}){example}")
            raise ProactiveError(f"{path}: {prefix}{setting.name}: {shown(value)} is not a valid {setting.type}{example}")


def _fits(value: object, annotation: str) -> bool:
    """Whether a YAML value suits a settings field's annotation (the simple types profiles use)."""
    options = [a.strip() for a in annotation.split("|")]
    if "None" in options and value is None:
        return True
    checks = {
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
        "bool": lambda v: isinstance(v, bool),
        "str": lambda v: isinstance(v, str),
    }
    for option in options:
        base = option.split("[")[0]
        if base in checks and checks[base](value):
            return True
        if base == "tuple" and isinstance(value, (list, tuple)):
            item = option[len("tuple["):].split(",")[0].strip()  # "tuple[str, ...]" -> "str"
            return item not in checks or all(checks[item](v) for v in value)
        if base == "dict" and isinstance(value, dict):
            return True
        if base not in checks and base not in ("tuple", "dict", "None"):
            return True  # nested settings (TrainSettings) are checked on their own
    return False
