"""Results recorded from one known run, for the chapters to show where they cannot compute them.

A fresh clone has no Qulac file beside it, and the book executes every chapter in the seconds-long
``cpu-smoke`` profile; a reader of either would otherwise see "skipping" or a model trained for two
steps. Each recorded file holds what one run produced, the command that made it, when, and the
versions and commit it ran with (``run_folder.provenance``); a chapter shows it labelled as recorded,
never as its own result. ``benchmarks/record_for_book.py`` writes them into the package's
``data/recorded/``, so an installed wheel (Colab) shows them as a checkout does.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from .errors import ProactiveError
from .files import atomic_write_json

#: Where the package keeps them (package data: in a checkout and in an installed wheel alike).
RECORDED = Path(__file__).resolve().parent / "data" / "recorded"


def record(name: str, payload: Any, command: str, folder: Path | None = None) -> Path:
    """Write ``payload`` as the recorded result ``name`` (``NAME.json``), with how it was made."""
    from .provenance import provenance

    path = (folder or RECORDED) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, {"name": name, "command": command, "recorded_on": datetime.date.today().isoformat(),
                             **provenance(), "payload": payload})
    return path


def recorded(name: str, folder: Path | None = None) -> dict[str, Any] | None:
    """The recorded result ``name`` (its ``payload`` with ``command``, ``recorded_on``, ``versions``,
    ``git_commit``), or None where none is recorded."""
    path = (folder or RECORDED) / f"{name}.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProactiveError(f"{path}: not a recorded result ({exc}); restore it with `git checkout {path}`") from None
    if not isinstance(data, dict) or "payload" not in data or "command" not in data:
        raise ProactiveError(f"{path}: not a recorded result (no payload or command); restore it with git")
    return data


def provenance_line(data: dict[str, Any]) -> str:
    """One line saying where a recorded result came from, for a chapter to print above it."""
    commit = f", commit {data['git_commit'][:10]}" if data.get("git_commit") else ""
    return f"Recorded on {data.get('recorded_on', '?')} by `{data['command']}`{commit}; not computed in this run."
