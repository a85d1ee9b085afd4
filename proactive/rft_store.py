"""Where RFT's rounds live on disk, so that a run resumes after its last complete round.

``rft/round-N/`` holds the adapter after round N, the buffer of kept dialogues (``buffer.json``) and
every sampled group (``groups.jsonl``, for chapter 4 to show). A round is written to
``.round-N.tmp/`` and renamed when whole, so a killed run leaves either the round or nothing.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .dialogues import elicited_share
from .files import append_jsonl, atomic_write_json, atomic_write_jsonl, is_main_process, iter_jsonl, read_json
from .masking import PartialTask
from .rft_sampling import DialogueGroup
from .simulator import Dialogue, turn_from_dict

log = logging.getLogger(__name__)


def group_to_dict(group: DialogueGroup) -> dict[str, Any]:
    """A group as ``groups.jsonl`` stores it: every dialogue's turns, its score, and which was kept."""
    return {"task_id": group.partial.task_id, "request": group.partial.request, "kept": group.kept,
            "scores": group.scores,
            "dialogues": [{"share": round(elicited_share(d), 4),
                           "turns": [{"question": t.question, "answer": t.answer, "revealed": list(t.revealed),
                                      "kind": t.kind} for t in d.turns]} for d in group.dialogues]}


def read_groups(path: str | Path) -> list[dict[str, Any]]:
    """The groups an RFT round stored (``groups.jsonl``), for chapter 4 to show."""
    path = Path(path)
    return [record for _, record in iter_jsonl(path)] if path.is_file() else []


def _round_dirs(root: Path) -> list[Path]:
    """Completed rounds (``round-N/`` with its adapter and buffer), oldest first."""
    done = [p for p in root.glob("round-*") if p.name.split("-")[-1].isdigit()
            and (p / "buffer.json").is_file() and (p / "adapter" / "adapter_config.json").is_file()]
    return sorted(done, key=lambda p: int(p.name.split("-")[-1]))


def rounds_done(root: str | Path) -> int:
    """How many RFT rounds under ``root`` were written to the end (0 for none)."""
    done = _round_dirs(Path(root))
    return int(done[-1].name.split("-")[-1]) if done else 0


class RoundStore:
    """An RFT run's rounds under ``root`` (the run's ``train/rft/``)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def rounds_done(self) -> int:
        return rounds_done(self.root)

    def resume(self, model: Any, partials: Sequence[PartialTask]) -> tuple[int, dict[str, Dialogue]]:
        """Load the last complete round's adapter into ``model`` (a PEFT model) and return how many rounds
        are done and the buffer of kept dialogues they left (0 and an empty buffer for a new run)."""
        start, buffer = self.buffer(partials)
        if not start:
            return 0, {}
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        last = self.root / f"round-{start}"
        set_peft_model_state_dict(model, load_file(str(last / "adapter" / "adapter_model.safetensors")))
        log.info("RFT: resuming after round %d (%s)", start, last)
        return start, buffer

    def buffer(self, partials: Sequence[PartialTask]) -> tuple[int, dict[str, Dialogue]]:
        """How many rounds are done and the kept dialogues the last one left, on ``partials`` (0 and an empty
        buffer for a new run); no model is touched."""
        start = self.rounds_done()
        if not start:
            return 0, {}
        by_id = {p.task_id: p for p in partials}
        stored = read_json(self.root / f"round-{start}" / "buffer.json")
        return start, {tid: Dialogue(by_id[tid], [turn_from_dict(t) for t in turns])
                       for tid, turns in stored.items() if tid in by_id}

    def save(self, number: int, model: Any, groups: Sequence[DialogueGroup], buffer: Mapping[str, Dialogue],
             record: Mapping[str, Any], metrics_path: str | Path) -> None:
        """Write round ``number`` whole (adapter, groups, buffer) and append its record to the metrics."""
        if not is_main_process():
            return
        final = self.root / f"round-{number}"
        partial_dir = self.root / f".round-{number}.tmp"
        shutil.rmtree(partial_dir, ignore_errors=True)
        model.save_pretrained(str(partial_dir / "adapter"))
        atomic_write_jsonl(partial_dir / "groups.jsonl", [group_to_dict(g) for g in groups])
        atomic_write_json(partial_dir / "buffer.json", {tid: [t.to_dict() for t in d.turns] for tid, d in buffer.items()})
        shutil.rmtree(final, ignore_errors=True)
        partial_dir.rename(final)  # a round is on disk whole or not at all
        append_jsonl(metrics_path, dict(record))

    def remove_unfinished(self) -> None:
        """Remove a round that was being written when the run stopped (``.round-N.tmp/``)."""
        for partial_round in self.root.glob(".round-*.tmp"):
            shutil.rmtree(partial_round, ignore_errors=True)

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
