"""Qulac: real clarifying questions asked to real people who held a hidden intent.

Qulac (Aliannejadi et al., SIGIR 2019, MIT licence) pairs 198 short web-search topics with 762
facets, the searcher's hidden intent, and 10,277 crowd-written question/answer pairs, each answer
written by a person who was shown the facet. That is exactly the paper's setting in miniature:
visible request = topic, hidden fact = facet. The file is read from a path (``proactive data fetch
qulac`` downloads it from its public repository); it is not copied into this repository.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ProactiveError
from ..masking import PartialTask
from ..tasks import Fact

_COLUMNS = ("topic_id", "facet_id", "topic_facet_id", "topic", "topic_desc", "facet_desc", "question", "answer")
_README = "fetch it with `proactive data fetch qulac`"


@dataclass(frozen=True)
class QAPair:
    """One human clarifying question and the answer a person holding the facet gave."""

    id: str
    question: str
    answer: str


@dataclass(frozen=True)
class QulacFacet:
    """A Qulac topic+facet as a masked task, with the human question/answer pairs for it."""

    partial: PartialTask
    pairs: tuple[QAPair, ...]

    @property
    def facet(self) -> Fact:
        return self.partial.hidden_facts[0]


def default_qulac_path() -> Path:
    """``$PROACTIVE_QULAC`` if set; else where ``proactive data fetch qulac`` puts it (the cache
    folder); else a ``shared/data/qulac/qulac.json`` beside the repository, if there is one."""
    from .fetch import fetched_path

    env = os.environ.get("PROACTIVE_QULAC")
    if env:
        return Path(env)
    fetched = fetched_path("qulac")
    beside = Path(__file__).resolve().parents[3] / "shared" / "data" / "qulac" / "qulac.json"
    return beside if beside.is_file() and not fetched.is_file() else fetched


def _clean(text: object) -> str:
    # The file escapes quotes inside strings (\\' and \\").
    return str(text).replace("\\'", "'").replace('\\"', '"').strip()


def load_qulac(path: str | os.PathLike | None = None) -> list[QulacFacet]:
    """Read ``qulac.json`` into one :class:`QulacFacet` per topic+facet (762 of them)."""
    path = Path(path) if path is not None else default_qulac_path()
    if not path.is_file():
        raise ProactiveError(f"Qulac file not found at {path}; {_README}, or pass its path (or set $PROACTIVE_QULAC)")
    try:
        columns = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProactiveError(f"{path}: not valid JSON ({exc}); {_README}") from None
    missing = [c for c in _COLUMNS if not isinstance(columns, dict) or not isinstance(columns.get(c), dict)]
    if missing:
        raise ProactiveError(f"{path}: not a Qulac file, columns missing: {', '.join(missing)}; {_README}")

    grouped: dict[str, dict] = {}
    for row in sorted(columns["topic_facet_id"], key=int):
        key = columns["topic_facet_id"][row]
        entry = grouped.setdefault(
            key,
            {
                "topic": _clean(columns["topic"][row]),
                "topic_id": columns["topic_id"][row],
                "facet_id": columns["facet_id"][row],
                "facet_desc": _clean(columns["facet_desc"][row]),
                "topic_desc": _clean(columns["topic_desc"][row]),
                "topic_type": columns.get("topic_type", {}).get(row, ""),
                "facet_type": columns.get("facet_type", {}).get(row, ""),
                "pairs": [],
            },
        )
        question, answer = columns["question"].get(row), columns["answer"].get(row)
        if isinstance(question, str) and isinstance(answer, str) and question.strip():
            qid = columns.get("topic_facet_question_id", {}).get(row, f"{key}-{row}")
            entry["pairs"].append(QAPair(str(qid), _clean(question), _clean(answer)))

    facets = []
    for key, entry in grouped.items():
        # A facet is a specific information need: no kind-of-detail cue reaches it (proactive.intents),
        # so agreement with Qulac's people measures the embedding matcher alone.
        fact = Fact(id=f"facet-{entry['facet_id']}", statement=entry["facet_desc"], category="specifics", importance=1.0)
        partial = PartialTask(
            task_id=f"qulac-{key}",
            domain="web search",
            request=entry["topic"],
            hidden_facts=(fact,),
            strategy="qulac",
            meta={
                "topic_id": entry["topic_id"],
                "topic_desc": entry["topic_desc"],
                "topic_type": entry["topic_type"],
                "facet_type": entry["facet_type"],
            },
        )
        facets.append(QulacFacet(partial, tuple(entry["pairs"])))
    return facets
