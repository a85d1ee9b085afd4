"""Take the trained policy out of its run folder, in the forms people use it in.

A run keeps a LoRA adapter (``train/adapter/``). ``proactive export RUN`` turns it into what Unsloth's
notebooks offer (``save_pretrained_merged``, ``save_pretrained_gguf``, ``push_to_hub_merged``): a merged
16-bit model folder that transformers loads without PEFT, a GGUF file for llama.cpp and Ollama, or a
Hub repository. Each carries a model card saying how to prompt the policy (its system prompt and the
``Question: What`` prefix it was trained to continue), what it was trained on, and its headline figures.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .errors import ProactiveError
from .files import atomic_write_text, read_json

log = logging.getLogger(__name__)

#: What a GGUF file's weights may be stored as (llama.cpp reads both; quantize further with its tools).
GGUF_TYPES = ("f16", "f32")


def run_parts(run: str | Path) -> tuple[Path, dict[str, Any], dict[str, Any] | None]:
    """A run folder's adapter, its resolved training config and its report (None if it has none), or one
    line saying what is missing. ``run`` is the run folder (``runs/demo``) or its ``train/`` folder."""
    run = Path(run)
    train = run / "train" if (run / "train").is_dir() else run
    adapter = train / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise ProactiveError(f"{run}: no trained adapter ({adapter}/adapter_config.json missing); train one first "
                             "(`make demo`, or `proactive train --out RUN`)")
    config = read_json(train / "config.json") if (train / "config.json").is_file() else {}
    report_path = train.parent / "report.json"
    report = read_json(report_path) if report_path.is_file() else None
    return adapter, config if isinstance(config, dict) else {}, report if isinstance(report, dict) else None


def merged_model(adapter: Path) -> tuple[Any, Any]:
    """The base model with the adapter merged into its weights (float32, so nothing is rounded twice)."""
    import torch

    from .models import load_adapter

    model, tokenizer = load_adapter(adapter, dtype=torch.float32)
    return model.merge_and_unload(), tokenizer


def model_card(config: dict[str, Any], report: dict[str, Any] | None, base: str, form: str) -> str:
    """The README.md that travels with an export: how to prompt it, what trained it, what it measured."""
    from .policy import SYSTEM_PROMPT

    prefix = config.get("question_prefix", "Question: What")
    train = config.get("train", {}) if isinstance(config.get("train"), dict) else {}
    stages = " then ".join(train.get("method", [])) or "unknown"
    lines = [
        "---", "library_name: transformers", "tags: [proactive, clarifying-questions, lora, rft, grpo]",
        f"base_model: {base}", "---", "",
        f"# Proactive question asker ({form})", "",
        "A policy trained to ask one targeted clarifying question about what an under-specified request leaves",
        "open, after Huang et al. (2025), \"Teaching Language Models To Gather Information Proactively\"",
        "(arXiv 2507.21389), with the `proactive` pipeline.", "",
        "## How to prompt it", "",
        "Chat format. The system turn holds the rules it was trained with; the user turn holds the request (and",
        "earlier questions with their answers); the assistant turn is opened with the prefix, which the model",
        "continues to the question's end (`?`).", "",
        "```text", f"system: {SYSTEM_PROMPT}", "user: <the request>", f"assistant: {prefix}", "```", "",
        "## What trained it", "",
        f"- base model: `{base}`; profile `{config.get('name', '?')}`; methods: {stages}",
        f"- training seed: {train.get('seed') if train.get('seed') is not None else config.get('seed', '?')}",
    ]
    if report:
        lead = report.get("headline", {})
        means = lead.get("means", {}) if isinstance(lead, dict) else {}
        lines += ["", "## What it measured (the run's report)", "",
                  (f"{report.get('held_out_tasks', '?')} held-out tasks; share of hidden facts drawn out in sampled "
                  "3-question dialogues with the simulated user:"), ""]
        lines += [f"- {name}: {value:.3f}" for name, value in means.items() if isinstance(value, (int, float))]
        if isinstance(lead, dict) and lead.get("verdict"):
            lines += ["", str(lead["verdict"])]
    return "\n".join(lines) + "\n"


def _card_config(config: dict[str, Any]) -> dict[str, Any]:
    from .policy import SYSTEM_PROMPT

    return {"system_prompt": SYSTEM_PROMPT, "question_prefix": config.get("question_prefix", "Question: What"),
            "profile": config.get("name"), "train": config.get("train")}


def export_merged(run: str | Path, out: str | Path) -> Path:
    """Write the merged model (16-bit safetensors), its tokenizer, ``proactive.json`` (the prompt it needs)
    and a model card into ``out``, through a temporary folder renamed into place."""
    import torch

    adapter, config, report = run_parts(run)
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ProactiveError(f"{out} exists and is not empty; choose a new folder for the merged model")
    model, tokenizer = merged_model(adapter)
    # bfloat16 where the weights came from; float16 is what llama.cpp and most runtimes read everywhere
    model = model.to(torch.float16)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        (tmp / "proactive.json").write_text(json.dumps(_card_config(config), indent=2), encoding="utf-8")
        (tmp / "README.md").write_text(model_card(config, report, config.get("model", "?"), "merged 16-bit"),
                                       encoding="utf-8")
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def export_gguf(run: str | Path, out: str | Path, dtype: str = "f16") -> Path:
    """Write the merged model as one GGUF file (llama.cpp, Ollama): the bundled model's own GGUF metadata
    (architecture, tokenizer, chat template) with the merged weights, unquantized (``f16`` or ``f32``).

    Models other than the bundled one need llama.cpp's converter (``convert_hf_to_gguf.py``) on the
    ``--merged`` folder: refused in one line that says so."""
    import gguf
    import numpy as np

    from .models import bundled_gguf_path, is_bundled

    if dtype not in GGUF_TYPES:
        raise ProactiveError(f"GGUF weights {dtype!r}: choose one of {', '.join(GGUF_TYPES)}")
    adapter, config, report = run_parts(run)
    if not is_bundled(str(config.get("model", "smollm2-135m-instruct"))):
        raise ProactiveError(f"GGUF export writes the bundled model's architecture only (this run trained "
                             f"{config.get('model')}): export --merged DIR, then llama.cpp's convert_hf_to_gguf.py DIR")
    out = Path(out)
    if out.suffix != ".gguf":
        raise ProactiveError(f"{out}: a GGUF file's name ends in .gguf")
    model, tokenizer = merged_model(adapter)
    reader = gguf.GGUFReader(str(bundled_gguf_path()))
    blocks = model.config.num_hidden_layers
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, blocks)
    heads, kv_heads = model.config.num_attention_heads, model.config.num_key_value_heads
    weights = {}
    for hf_name, tensor in model.state_dict().items():
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            continue
        array = tensor.detach().float().numpy()
        if name.endswith("attn_q.weight"):
            array = _permute(array, heads)
        elif name.endswith("attn_k.weight"):
            array = _permute(array, kv_heads)
        weights[name] = array
    wanted = [t.name for t in reader.tensors]
    missing = [n for n in wanted if n not in weights]
    if missing:
        raise ProactiveError(f"the merged model has no weights for {missing[:3]} (of {len(missing)}); the GGUF "
                             "template and the model disagree")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        writer = gguf.GGUFWriter(str(tmp), "llama")
        file_type = gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16" else gguf.LlamaFileType.ALL_F32
        # <|im_end|>: a chat turn ends there (llama.cpp stops on it), whatever the template file said
        eos = tokenizer.convert_tokens_to_ids(tokenizer.eos_token)
        for key, field in reader.fields.items():
            if key.startswith("GGUF.") or key in ("general.architecture", "general.name"):
                continue  # the writer writes its own header and architecture; the name is ours
            value = field.contents()
            if key == "general.file_type":
                value = int(file_type)
            elif key == "tokenizer.ggml.eos_token_id":
                value = int(eos)
            kind = field.types[0]
            sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
            writer.add_key_value(key, value, kind, sub_type=sub)
        writer.add_string("general.name", "proactive question asker (merged)")
        for name in wanted:
            array = weights[name]
            # norms stay float32, as llama.cpp's converter keeps one-dimensional tensors
            array = array.astype(np.float16) if dtype == "f16" and array.ndim > 1 else array.astype(np.float32)
            writer.add_tensor(name, array)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    atomic_write_text(out.with_suffix(".md"), model_card(config, report, config.get("model", "?"), f"GGUF, {dtype}"))
    return out


def _permute(weights: Any, n_head: int) -> Any:
    """llama.cpp's rotary layout of a q/k projection (the inverse of what transformers undoes on loading)."""
    rest = weights.shape[1:]
    return weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *rest).swapaxes(1, 2).reshape(weights.shape)


def push_merged(run: str | Path, repo: str, private: bool = True, token: str | None = None) -> str:
    """Merge the adapter and upload the folder (weights, tokenizer, ``proactive.json``, model card) to the
    Hugging Face Hub repository ``repo`` (created if missing, private by default). Needs the network and
    a token (``huggingface-cli login`` or ``$HF_TOKEN``); returns the repository's URL."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ProactiveError(f"--hub {repo!r}: give a repository as OWNER/NAME")
    with tempfile.TemporaryDirectory() as tmp:
        folder = export_merged(run, Path(tmp) / "merged")
        api = HfApi(token=token)
        try:
            url = api.create_repo(repo, private=private, exist_ok=True)
            api.upload_folder(folder_path=str(folder), repo_id=repo, commit_message="proactive export")
        except (HfHubHTTPError, OSError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            raise ProactiveError(f"pushing to the Hub repository {repo} failed ({first}); check the network and "
                                 "your token (`huggingface-cli login`), or export --merged DIR and upload it later") from None
    return str(url)
