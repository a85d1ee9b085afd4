"""`proactive export`: the trained policy as a merged model, a GGUF file and a Hub repository, each asking
the same first questions as the adapter it came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proactive.cli import main
from proactive.config import load_profile

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run folder holding a LoRA adapter whose B matrices are not zero (so merging changes the weights),
    made in seconds instead of trained, with the config and report a run writes beside it."""
    import torch
    from peft import LoraConfig, get_peft_model

    from proactive.config import profile_record
    from proactive.models import load_model_and_tokenizer

    folder = tmp_path_factory.mktemp("export") / "run"
    profile = load_profile("cpu-smoke")
    model, tokenizer = load_model_and_tokenizer(profile.model, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj",
                                                                                  "o_proj"], task_type="CAUSAL_LM"))
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, weight in model.named_parameters():
            if "lora_B" in name:
                weight.copy_(torch.randn(weight.shape, generator=generator) * 0.02)
    model.save_pretrained(folder / "train" / "adapter")
    tokenizer.save_pretrained(folder / "train" / "adapter")
    (folder / "train" / "config.json").write_text(json.dumps(profile_record(profile)))
    (folder / "report.json").write_text(json.dumps({"held_out_tasks": 3, "headline": {
        "means": {"trained": 0.4, "template": 0.2}, "verdict": "The trained policy draws out 0.400."}}))
    return folder


def _first_questions(model, tokenizer, profile, tasks):
    from proactive.policy import LocalPolicy

    return LocalPolicy(model, tokenizer, profile.question_prefix, 24, name="exported").ask_many(tasks)


def test_merged_and_gguf_exports_ask_what_the_adapter_asks(run, tmp_path, capsys):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from proactive.models import load_adapter
    from proactive.task_files import profile_partials

    profile = load_profile("cpu-smoke")
    tasks = profile_partials(profile, "test")[:3]
    assert main(["export", str(run), "--merged", str(tmp_path / "merged"), "--gguf", str(tmp_path / "q.gguf"),
                 "--gguf-type", "f32"]) == 0
    printed = capsys.readouterr().out
    assert "merged 16-bit model" in printed and "GGUF (f32)" in printed

    adapter, tokenizer = load_adapter(run / "train" / "adapter", dtype=torch.float32)
    expected = _first_questions(adapter, tokenizer, profile, tasks)
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged", dtype=torch.float32)
    assert not hasattr(merged, "peft_config")  # a plain transformers model: no PEFT needed to run it
    assert _first_questions(merged, AutoTokenizer.from_pretrained(tmp_path / "merged"), profile, tasks) == expected
    # The GGUF file, read back by transformers' GGUF loader (as the bundled model itself is).
    gguf_model = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file="q.gguf", dtype=torch.float32)
    gguf_tokenizer = AutoTokenizer.from_pretrained(tmp_path, gguf_file="q.gguf")
    import gguf

    fields = gguf.GGUFReader(str(tmp_path / "q.gguf")).fields
    tokens = fields["tokenizer.ggml.tokens"].contents()
    assert tokens[fields["tokenizer.ggml.eos_token_id"].contents()] == "<|im_end|>"  # llama.cpp stops a turn there
    # transformers' GGUF reader makes <|im_start|> the end token whatever the file says: set it as the project
    # does for the bundled model (models.bundled_model_dir)
    gguf_tokenizer.eos_token = gguf_tokenizer.pad_token = "<|im_end|>"
    assert _first_questions(gguf_model, gguf_tokenizer, profile, tasks) == expected

    card = (tmp_path / "merged" / "README.md").read_text()
    assert "Question: What" in card and "0.400" in card and "base_model: smollm2-135m-instruct" in card
    prompt = json.loads((tmp_path / "merged" / "proactive.json").read_text())
    assert prompt["question_prefix"] == profile.question_prefix and prompt["system_prompt"]
    assert "GGUF, f32" in (tmp_path / "q.md").read_text()


def test_hub_push_uploads_the_merged_folder(run, tmp_path, monkeypatch, capsys):
    """Against a local stand-in for the Hub (no network here): what would be uploaded, and to where."""
    import shutil

    import huggingface_hub

    pushed = {}

    def create_repo(self, repo_id, private=True, exist_ok=False, **kwargs):
        pushed.update(repo=repo_id, private=private)
        return f"https://huggingface.co/{repo_id}"

    def upload_folder(self, folder_path, repo_id, **kwargs):
        shutil.copytree(folder_path, tmp_path / "hub" / repo_id)

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", create_repo)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
    assert main(["export", str(run), "--hub", "me/asker"]) == 0
    assert "pushed to https://huggingface.co/me/asker" in capsys.readouterr().out
    assert pushed == {"repo": "me/asker", "private": True}
    uploaded = tmp_path / "hub" / "me" / "asker"
    assert {"README.md", "proactive.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in uploaded.iterdir()}


def test_export_refuses_bad_requests_in_one_line(run, tmp_path, capsys):
    cases = [
        (["export", str(tmp_path / "nothing-here"), "--merged", str(tmp_path / "m")], "no trained adapter"),
        (["export", str(run)], "say what to export"),
        (["export", str(run), "--gguf", str(tmp_path / "model.bin")], "ends in .gguf"),
        (["export", str(run), "--hub", "no-owner"], "give a repository as OWNER/NAME"),
    ]
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    cases.append((["export", str(run), "--merged", str(tmp_path / "full")], "is not empty"))
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    assert not (tmp_path / "m").exists()


def test_gguf_export_of_a_hub_model_names_the_converter(run, tmp_path, capsys):
    config = json.loads((run / "train" / "config.json").read_text())
    other = tmp_path / "other"
    (other / "train").mkdir(parents=True)
    import shutil

    shutil.copytree(run / "train" / "adapter", other / "train" / "adapter")
    (other / "train" / "config.json").write_text(json.dumps({**config, "model": "Qwen/Qwen2.5-1.5B-Instruct"}))
    assert main(["export", str(other), "--gguf", str(tmp_path / "x.gguf")]) == 2
    assert "convert_hf_to_gguf.py" in capsys.readouterr().err
    assert not Path(tmp_path / "x.gguf").exists()
