"""GRPO's advantage, written out for reading: what TRL computes for one group of completions."""

from __future__ import annotations

from collections.abc import Sequence

from .errors import ProactiveError


def group_advantages(rewards: Sequence[float], scale: str = "none") -> list[float]:
    """GRPO's advantage of each completion in one group, as TRL computes it: reward minus the group
    mean, divided by the group's standard deviation when ``scale`` is ``"group"`` (TRL's default),
    not divided when it is ``"none"`` (Dr. GRPO; the project's default, see ``TrainSettings.scale_rewards``).

    A group whose rewards are all equal teaches nothing (every advantage is 0)."""
    if scale not in ("group", "none"):
        raise ProactiveError(f"unknown advantage scaling {scale!r}; use 'group' or 'none'")
    n = len(rewards)
    mean = sum(rewards) / n
    if scale == "none":
        return [r - mean for r in rewards]
    std = (sum((r - mean) ** 2 for r in rewards) / max(n - 1, 1)) ** 0.5
    return [0.0 if std < 1e-8 else (r - mean) / std for r in rewards]
