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
                       redraws=profile.redraws)


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
        return local_policy(profile, spec, name=name)
    raise ProactiveError(f"unknown policy {spec!r}: use {SPECS_HELP}")
