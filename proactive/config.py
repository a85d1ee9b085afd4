"""Run profiles: one dataclass, one YAML file per profile in ``configs/``.

A profile says which model to use and how big a run is, so the same notebook or command runs
in seconds on a laptop (``cpu-smoke``), for real on a laptop (``cpu``), or on a Colab GPU.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ProactiveError


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
    #: Token budget for one generated question.
    max_new_tokens: int = 48
    #: Stage-specific settings (training, evaluation) that later stages read.
    extra: dict[str, Any] = field(default_factory=dict)


def configs_dir() -> Path:
    """``$PROACTIVE_CONFIGS`` or the repository's ``configs/`` folder."""
    env = os.environ.get("PROACTIVE_CONFIGS")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "configs"


def available_profiles() -> list[str]:
    folder = configs_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load_profile(name_or_path: str) -> Profile:
    """Load a profile by name (``configs/NAME.yaml``) or from a YAML file path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = configs_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(available_profiles()) or f"none found in {configs_dir()}"
        raise ProactiveError(f"unknown profile {name_or_path!r}; choose one of: {known} (or pass a YAML path)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProactiveError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ProactiveError(f"{path}: a profile must be a YAML mapping of settings")
    known_fields = {f.name for f in dataclasses.fields(Profile)}
    unknown = sorted(set(data) - known_fields)
    if unknown:
        raise ProactiveError(f"{path}: unknown settings {unknown}; known: {', '.join(sorted(known_fields))}")
    data.setdefault("name", path.stem)
    return Profile(**data)
