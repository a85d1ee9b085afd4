"""Shared fixtures. Tests are offline and deterministic; nothing is fetched from a model hub."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Belt and braces: any accidental hub lookup fails fast instead of hanging on a closed network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tasks():
    from proactive.tasks import load_tasks

    return load_tasks()


@pytest.fixture(scope="session")
def qulac_path() -> Path:
    from proactive.data.qulac import default_qulac_path

    path = default_qulac_path()  # ../shared/data/qulac/qulac.json, or $PROACTIVE_QULAC
    if not path.is_file():
        pytest.skip(f"Qulac data not found at {path} (it lives in ../shared, outside the repository)")
    return path


@pytest.fixture(scope="session")
def embedder():
    from proactive.backends import EmbeddingSimilarity

    return EmbeddingSimilarity()


@pytest.fixture(scope="session")
def bundled_chat():
    from proactive.backends import TransformersChat

    return TransformersChat.load("smollm2-135m-instruct")


@pytest.fixture(scope="session")
def matcher(embedder):
    from proactive.matching import FactMatcher

    return FactMatcher(embedder)


@pytest.fixture(scope="session")
def reward(matcher):
    from proactive.reward import ElicitationReward

    return ElicitationReward(matcher)


@pytest.fixture(scope="session")
def task_by_id(tasks):
    return {t.id: t for t in tasks}
