"""Which systems to compare, named on the command line: ``base``, an adapter path, ``template``,
``none``, ``oracle``, or ``endpoint:MODEL@URL``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .config import Profile
from .errors import ProactiveError
from .policy import LocalPolicy, System
from .run_folder import find_adapter
from .systems import EndpointPolicy, NoClarification, OracleWriter, TemplateQuestions

SPECS_HELP = ("base (the untrained model), PATH (a trained adapter, or a run folder holding one), template, "
              "none (no clarification), oracle (sees all facts), endpoint:MODEL@URL (an OpenAI-compatible server; "
              "key from $OPENAI_API_KEY)")


def local_policy(profile: Profile, adapter: str | Path | None = None, name: str | None = None) -> LocalPolicy:
    """The profile's model, untrained or with a trained LoRA adapter, as a question-asking system."""
    from .models import load_adapter, load_model_and_tokenizer

    if adapter is None:
        model, tokenizer = load_model_and_tokenizer(profile.model, dtype=profile.eval_dtype)
    else:
        path = find_adapter(adapter)
        if path is None:
            raise ProactiveError(f"{adapter}: no trained adapter there; train one with `proactive train` or pass "
                                 "its run folder")
        model, tokenizer = load_adapter(path, profile.model, dtype=profile.eval_dtype)
    return LocalPolicy(model, tokenizer, profile.question_prefix, profile.train.max_completion_length,
                       name=name or ("untrained" if adapter is None else "trained"),
                       outline_tokens=profile.outline_tokens, batch_size=profile.eval_batch_size,
                       redraws=profile.redraws, note_samples=profile.note_samples)


def attach_writer(profile: Profile, train_dir: str | Path, policies: list[LocalPolicy]) -> Path | None:
    """When the run trained an outline writer (the ``writer`` stage, :mod:`proactive.methods.writer`), load
    it and make it write the outlines of every one of ``policies`` (and of the baselines they write for).
    Returns the writer's adapter folder, or None when the run has none."""
    from .methods.writer import writer_adapter

    path = writer_adapter(train_dir)
    if path is None:
        return None
    writer = load_writer(profile, path)
    for policy in policies:
        policy.writer = writer
    return path


def load_writer(profile: Profile, adapter: str | Path) -> LocalPolicy:
    """A note writer that writer RFT trained, ready to write: its adapter on for the notes it was trained on
    (:mod:`proactive.outline_notes`), off for the plan before them, which it was not."""
    writer = local_policy(profile, adapter, name="writer")
    writer.notes_with_adapter = True
    return writer


def make_system(spec: str, profile: Profile, writer: LocalPolicy | None = None, name: str | None = None) -> System:
    """A system from its spec (see ``SPECS_HELP``). Baselines write their outlines with ``writer``
    (default: the profile's untrained model), so they differ from it only in their questions."""
    from .backends import make_chat_backend

    if spec.startswith("endpoint:"):
        backend = make_chat_backend("openai:" + spec.split(":", 1)[1])
        return EndpointPolicy(backend, name=name or spec.split(":", 1)[1].split("@")[0])
    if spec == "base":
        return writer if writer is not None and name is None else local_policy(profile, name=name)
    if spec in ("template", "none", "oracle"):
        writer = writer or local_policy(profile)
        kind: Any = {"template": TemplateQuestions, "none": NoClarification, "oracle": OracleWriter}[spec]
        return kind(writer, name=name) if name else kind(writer)
    if Path(spec).exists():
        policy = local_policy(profile, spec, name=name)
        adapter = find_adapter(spec)
        if adapter is not None:  # a run that trained an outline writer writes with it, as its demo did
            attach_writer(profile, adapter.parent, [policy])
        return policy
    raise ProactiveError(f"unknown policy {spec!r}: use {SPECS_HELP}")
