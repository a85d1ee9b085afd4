import dataclasses
import json

import pytest

from proactive.advantages import group_advantages
from proactive.cli import main
from proactive.columns import partial_from_columns
from proactive.config import load_profile
from proactive.errors import ProactiveError
from proactive.masking import split_tasks
from proactive.models import cuda_available, load_adapter, load_policy, unsloth_available
from proactive.simulator import REVEALED, Turn
from proactive.task_files import profile_partials
from proactive.tasks import load_tasks
from proactive.training_rows import VAGUE_ANSWER, training_rows


class TemplateTokenizer:
    """A stand-in tokenizer for prompt-building tests: a visible, fake chat template."""

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True):
        return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"


def test_training_rows_cover_dialogue_depths_and_carry_reward_columns():
    profile = load_profile("cpu-smoke")
    partials = profile_partials(profile, "train")
    rows = training_rows(partials, TemplateTokenizer(), profile)
    assert {r["depth"] for r in rows} == set(profile.train.grpo.history_depths)
    for row in rows:
        history = json.loads(row["history"])
        assert len(history) == row["depth"]
        assert row["prompt"].endswith("<assistant>" + profile.question_prefix)
        for turn in history:  # each earlier answer is a hidden fact the user gave, or a vague question's reply
            assert turn["answer"] in row["hidden_facts"] + [VAGUE_ANSWER] and turn["answer"] in row["prompt"]
            # ... and says which fact by its id, so the reward never re-detects it from the wording
            given = [row["fact_ids"][row["hidden_facts"].index(turn["answer"])]] if turn["answer"] != VAGUE_ANSWER else []
            assert turn["revealed"] == given
        partial, turns = partial_from_columns(row)
        assert [f.id for f in partial.hidden_facts] == row["fact_ids"]  # the corpus's own ids, across TRL
        assert [t.revealed for t in turns] == [tuple(t["revealed"]) for t in history]
        assert len(row["importances"]) == len(row["hidden_facts"]) == len(row["categories"])
        assert len(json.loads(row["known_categories"])) == len(json.loads(row["known_facts"]))
    assert any(json.loads(r["history"])[:1] and json.loads(r["history"])[0]["answer"] == VAGUE_ANSWER for r in rows)


def test_a_training_seed_changes_the_run_but_not_the_split_or_the_maskings(tmp_path):
    profile = load_profile("cpu-smoke")
    assert profile.train_seed == profile.seed  # unset: the profile's seed
    (tmp_path / "seeded.yaml").write_text("name: seeded\ntrain:\n  seed: 7\n")
    seeded = load_profile(str(tmp_path / "seeded.yaml"))
    assert (seeded.seed, seeded.train_seed) == (0, 7)
    seeded = dataclasses.replace(profile, train=dataclasses.replace(profile.train, seed=7))
    partials, again = profile_partials(profile, "train"), profile_partials(seeded, "train")
    assert [(p.task_id, p.request) for p in partials] == [(p.task_id, p.request) for p in again]
    rows = training_rows(partials, TemplateTokenizer(), profile)
    assert rows == training_rows(partials, TemplateTokenizer(), profile)  # reproducible
    assert [r["history"] for r in rows] != [r["history"] for r in training_rows(again, TemplateTokenizer(), seeded)]
    from proactive.methods.grpo import grpo_config
    assert grpo_config(seeded, tmp_path / "ck", 1).seed == 7
    (tmp_path / "bad.yaml").write_text("name: bad\ntrain:\n  seed: one\n")
    with pytest.raises(ProactiveError, match="seed"):
        load_profile(str(tmp_path / "bad.yaml"))


def test_deeper_prompts_can_replay_the_models_own_questions():
    import dataclasses

    profile = load_profile("cpu-smoke")
    profile = dataclasses.replace(profile, train=profile.train.with_settings("grpo", own_history=1.0))
    partials = profile_partials(profile, "train")
    own = {p.task_id: [Turn("What is it?", VAGUE_ANSWER), Turn("Who is it for?", p.hidden_facts[0].statement,
                                                                (p.hidden_facts[0].id,), REVEALED)]
           for p in partials}
    rows = training_rows(partials, TemplateTokenizer(), profile, own)
    for row in rows:
        history = [(t["question"], t["answer"], tuple(t["revealed"])) for t in json.loads(row["history"])]
        # replayed verbatim (so repeating it is penalised), with the ids its answers revealed
        assert history == [(t.question, t.answer, t.revealed) for t in own[row["task_id"]][: row["depth"]]]
    assert rows and {r["depth"] for r in rows} == set(profile.train.grpo.history_depths)


def test_history_bank_swaps_in_the_current_policys_own_turns():
    import dataclasses

    from proactive.own_history import OwnHistoryBank

    profile = load_profile("cpu-smoke")
    profile = dataclasses.replace(profile, train=profile.train.with_settings("grpo", own_history=0.5))
    partials = profile_partials(profile, "train")
    start = {p.task_id: [Turn("What is the first question?", VAGUE_ANSWER)] * 2 for p in partials}
    rows = training_rows(partials, TemplateTokenizer(), profile, start)
    assert any(r["own_turns"] for r in rows) and not all(r["own_turns"] for r in rows if r["depth"])
    bank = OwnHistoryBank(partials, None, profile, TemplateTokenizer(), start)
    bank.dialogues = {p.task_id: [Turn("Who will attend?", VAGUE_ANSWER)] * 2 for p in partials}  # as after refresh
    rebuilt = bank.apply_rows(rows)
    for row, new in zip(rows, rebuilt):
        if row["own_turns"]:
            assert "Who will attend?" in new["prompt"] and "first question" not in new["prompt"]
            assert [t["question"] for t in json.loads(new["history"])] == ["Who will attend?"] * row["depth"]
        else:  # template histories stay as they were
            assert new == row and "Who will attend?" not in row["prompt"]
    assert "first question" in rows[[r["own_turns"] for r in rows].index(True)]["prompt"]  # rows are not changed

    class _Trainer:
        def _generate_and_score_completions(self, inputs):
            return [r["prompt"] for r in inputs]

    trainer = _Trainer()
    bank.wrap(trainer)  # the trainer now samples from the bank's rows
    assert trainer._generate_and_score_completions(rows) == [r["prompt"] for r in rebuilt]

    # The hooked method is TRL's private one: a TRL without it is refused in one line, not silently unhooked.
    class _OtherTrainer:
        pass

    with pytest.raises(ProactiveError, match="has no _generate_and_score_completions.*own_history_refresh: 0"):
        bank.wrap(_OtherTrainer())


def test_the_hooked_trl_method_exists_in_the_installed_trl():
    """own_history's refresh wraps GRPOTrainer's private _generate_and_score_completions: this TRL has it."""
    from importlib import metadata

    from trl import GRPOTrainer

    from proactive.own_history import PATCHED_METHOD, TESTED_TRL

    assert callable(getattr(GRPOTrainer, PATCHED_METHOD, None))
    assert metadata.version("trl").startswith(TESTED_TRL)


def test_training_never_sees_test_tasks():
    profile = load_profile("cpu")
    test_ids = {t.id for t in split_tasks(load_tasks(), seed=profile.seed)["test"]}
    assert not {p.task_id for p in profile_partials(profile, "train")} & test_ids


def test_group_advantages_are_relative_to_the_group():
    for scale in ("group", "none"):
        adv = group_advantages([0.2, 0.0, -0.5, 0.3], scale)
        assert abs(sum(adv)) < 1e-9 and adv[3] > adv[0] > adv[1] > adv[2]
        assert group_advantages([0.1, 0.1], scale) == [0.0, 0.0]
    # Dividing by the spread blows a group that differs by crumbs up to full-size advantages;
    # without it, a question that drew out a fact outweighs them.
    crumbs, reveal = [-0.30, -0.29, -0.30, -0.31], [0.0, 0.0, 0.45, 0.0]
    assert max(group_advantages(crumbs, "group")) > 1 and max(group_advantages(crumbs, "none")) < 0.02
    assert max(group_advantages(reveal, "none")) > 10 * max(group_advantages(crumbs, "none"))
    with pytest.raises(ProactiveError, match="unknown advantage scaling 'batch'"):
        group_advantages(reveal, "batch")


def test_grpo_config_carries_the_profiles_advantage_scaling(tmp_path):
    import dataclasses

    from proactive.methods.grpo import grpo_config

    profile = load_profile("cpu-smoke")
    assert profile.train.grpo.scale_rewards == "none"  # the default, Dr. GRPO
    assert grpo_config(profile, tmp_path, 2).scale_rewards == "none"
    # A value other than the default, so the config can only have it from the profile.
    scaled = dataclasses.replace(profile, train=profile.train.with_settings("grpo", scale_rewards="group"))
    config = grpo_config(scaled, tmp_path, 2)
    assert config.scale_rewards == "group" and config.num_generations == profile.train.grpo.num_generations


@pytest.mark.skipif(cuda_available(), reason="checks the CPU machine's refusal")
def test_gpu_profile_without_gpu_is_a_clear_error():
    with pytest.raises(ProactiveError, match="needs a CUDA GPU and none is visible"):
        load_policy(load_profile("colab-t4"))


@pytest.mark.skipif(unsloth_available(), reason="checks the refusal where Unsloth is not installed")
def test_unsloth_on_cpu_without_the_package_is_a_clear_error():
    profile = dataclasses.replace(load_profile("cpu-smoke"), use_unsloth=True)
    with pytest.raises(ProactiveError, match="uses Unsloth, which is not installed; run `make setup-unsloth`"):
        load_policy(profile)


def test_dtype_is_the_profiles_not_the_runners(tmp_path):
    import torch

    from proactive.methods.grpo import grpo_config
    from proactive.models import torch_dtype

    assert torch_dtype("float32") is torch.float32 and torch_dtype("bfloat16") is torch.bfloat16
    if not cuda_available():
        assert torch_dtype("auto") is torch.float32
        assert grpo_config(load_profile("cpu-smoke"), tmp_path, 2).bf16 is False
    with pytest.raises(ProactiveError, match="unknown dtype 'fp8'"):
        torch_dtype("fp8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  dtype: half\n")
    with pytest.raises(ProactiveError, match="train.dtype 'half' is not one of auto, float32"):
        load_profile(str(bad))


def test_bfloat16_only_where_the_cpu_does_it_in_hardware(monkeypatch):
    import torch

    from proactive import models

    x86_old = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw\n"
    x86_bf16 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n"
    arm_bf16 = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"
    assert not models.cpu_has_native_bf16(x86_old) and not models.cpu_has_native_bf16("")
    assert models.cpu_has_native_bf16(x86_bf16) and models.cpu_has_native_bf16(arm_bf16)
    # A flag's name inside another word is not the flag.
    assert not models.cpu_has_native_bf16("flags\t: avx512_bf16x\n")
    if not cuda_available():
        monkeypatch.setattr(models, "cpu_has_native_bf16", lambda cpuinfo=None: False)
        assert models.torch_dtype("bfloat16-if-native") is torch.float32
        monkeypatch.setattr(models, "cpu_has_native_bf16", lambda cpuinfo=None: True)
        assert models.torch_dtype("bfloat16-if-native") is torch.bfloat16


def test_step_line_is_one_readable_line():
    from proactive.methods.grpo import step_line

    line = step_line({"step": 3, "reward": -0.1234, "terms/elicitation": 0.5, "terms/revealed_share": 0.25,
                      "completions/mean_length": 11.6, "step_time": 14.71, "grad_norm": 0.3}, 80)
    assert line == "step 3/80  reward -0.123  elicitation +0.500  revealed +0.250  tokens 12  14.7 s"
    assert step_line({"step": 1}, 2) == "step 1/2"


def test_bad_step_count(tmp_path):
    from proactive.training import train

    with pytest.raises(ProactiveError, match="max_steps must be at least 1"):
        train(load_profile("cpu-smoke"), tmp_path, max_steps=0)


@pytest.mark.slow
def test_train_cpu_smoke_writes_a_loadable_adapter_and_resumes(tmp_path, capsys, caplog):
    run = tmp_path / "run"
    out = run / "train"  # `--out` is a run folder; training goes to its train/
    with caplog.at_level("INFO", logger="proactive"):
        assert main(["train", "--profile", "cpu-smoke", "--out", str(run)]) == 0
    printed = capsys.readouterr()
    assert "trained 2 steps" in printed.out
    # One readable line per step; TRL's raw dict of metrics goes to metrics.jsonl only.
    shown = printed.out + printed.err
    assert "step 1/2  reward " in shown and "step 2/2  reward " in shown and " elicitation " in shown
    assert "'grad_norm'" not in shown and "'completions/mean_length'" not in shown
    # cpu-smoke refreshes its own-history prompts after step 1 (on-policy replay).
    assert "step 1: training prompts now replay the current policy's own questions" in caplog.text
    assert "sampled questions stop at their '?'" in caplog.text  # TRL adopted the question-end stop ids
    metrics = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2]
    assert all("reward" in m and "terms/elicitation" in m and "completions/mean_length" in m for m in metrics)
    config = json.loads((out / "config.json").read_text())
    assert config["name"] == "cpu-smoke" and config["train"]["grpo"]["max_steps"] == 2
    assert (out / "curves.html").stat().st_size > 10_000
    assert json.loads((run / "run.json").read_text())["profile"] == "cpu-smoke"

    # Training moved the weights: every LoRA B matrix starts at zero, so each must now be nonzero
    # (as TRL's own tests check that every trainable parameter changed).
    from safetensors.torch import load_file

    b_matrices = [w for name, w in load_file(str(out / "adapter" / "adapter_model.safetensors")).items()
                  if "lora_B" in name]
    assert b_matrices and all(w.abs().sum() > 0 for w in b_matrices)

    model, tokenizer = load_adapter(out / "adapter")
    assert model.peft_config and tokenizer.eos_token == "<|im_end|>"
    batch = tokenizer("What is", return_tensors="pt")
    assert model.generate(**batch, max_new_tokens=3, do_sample=False).shape[1] > batch["input_ids"].shape[1]

    # A rerun with more steps continues from the last checkpoint instead of starting over.
    assert main(["train", "--profile", "cpu-smoke", "--out", str(run), "--max-steps", "3"]) == 0
    metrics = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2, 3]
    assert json.loads((out / "config.json").read_text())["resumed_from"].endswith("checkpoint-2")

    # Rerunning a finished run changes nothing (the Trainer would otherwise take one extra step).
    capsys.readouterr()
    assert main(["train", "--profile", "cpu-smoke", "--out", str(run), "--max-steps", "3"]) == 0
    assert "trained 3 steps" in capsys.readouterr().out
    assert [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]


def test_resume_skips_a_checkpoint_killed_while_saving(tmp_path, caplog):
    import torch
    from safetensors.torch import save_file

    from proactive.training import last_complete_checkpoint

    def checkpoint(step: int, state: str | None = '{"global_step": 1}', weights: bytes | None = None, optimizer=True):
        path = tmp_path / f"checkpoint-{step}"
        path.mkdir()
        if state is not None:
            (path / "trainer_state.json").write_text(state)
        save_file({"w": torch.zeros(2)}, str(path / "adapter_model.safetensors"))
        if weights is not None:
            (path / "adapter_model.safetensors").write_bytes(weights)
        if optimizer:
            torch.save({"state": {}}, path / "optimizer.pt")
        return str(path)

    assert last_complete_checkpoint(tmp_path) is None
    good = checkpoint(2)
    checkpoint(10)  # complete, and the newest: it wins over 2
    assert last_complete_checkpoint(tmp_path).endswith("checkpoint-10")
    checkpoint(12, state='{"global_st')  # cut while writing its state
    checkpoint(14, state=None)  # killed before its state
    checkpoint(16, weights=b"")  # empty weights
    checkpoint(18, optimizer=False)
    assert last_complete_checkpoint(tmp_path).endswith("checkpoint-10")
    assert ("checkpoint-18 (optimizer.pt missing or not a torch archive), checkpoint-16 (adapter_model.safetensors is "
            "damaged), checkpoint-14 (trainer_state.json missing or not JSON), checkpoint-12 (trainer_state.json missing "
            "or not JSON): damaged or not written to the end") in caplog.text
    assert "resuming from checkpoint-10" in caplog.text
    # The broken ones are gone, so the Trainer never meets them; the complete ones stay.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-10", "checkpoint-2"]
    assert good
    caplog.clear()
    for name in ("checkpoint-10", "checkpoint-2"):
        import shutil

        shutil.rmtree(tmp_path / name)
    (tmp_path / "checkpoint-3").mkdir()  # left empty by a kill: there is nothing earlier to resume from
    assert last_complete_checkpoint(tmp_path) is None
    assert "no complete checkpoint is left: starting from step 0" in caplog.text


def test_a_broken_adapter_is_a_one_line_error(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"r": 16, "base_model_na')
    with pytest.raises(ProactiveError, match="adapter_config.json: not valid JSON"):
        load_adapter(adapter)
    (adapter / "adapter_config.json").write_text('{"r": 16}')
    with pytest.raises(ProactiveError, match="has an adapter_config.json but no weights"):
        load_adapter(adapter)


@pytest.mark.slow
def test_cut_adapter_weights_are_a_one_line_error(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj"],
        "base_model_name_or_path": "smollm2-135m-instruct"}))
    (adapter / "adapter_model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":")  # cut short
    with pytest.raises(ProactiveError, match="the adapter does not load on smollm2-135m-instruct"):
        load_adapter(adapter)


@pytest.mark.slow
def test_the_starting_models_own_dialogues_are_cached_per_recipe(tmp_path, monkeypatch, bundled_chat, matcher):
    from proactive.own_history import own_dialogues

    monkeypatch.setenv("PROACTIVE_CACHE", str(tmp_path))
    profile = load_profile("cpu-smoke")
    partials = profile_partials(profile, "train")[:2]
    model, tokenizer = bundled_chat.model, bundled_chat.tokenizer
    first = own_dialogues(model, tokenizer, partials, matcher, profile)
    assert [len(turns) for turns in first.values()] == [2, 2] and len(list(tmp_path.glob("own_history/*.json"))) == 1
    # The same recipe again: read back (no model needed), turn for turn.
    assert own_dialogues(None, None, partials, matcher, profile) == first
    # Another seed is another key, so it samples (and a model is needed).
    with pytest.raises(AttributeError):
        own_dialogues(None, None, partials, matcher, profile, seed=profile.seed + 1)
    # A refreshed policy is never read from, nor written to, the cache.
    again = own_dialogues(model, tokenizer, partials, matcher, profile, seed=profile.seed + 1, cache=False)
    assert len(again) == 2 and len(list(tmp_path.glob("own_history/*.json"))) == 1


def _train_process(run, *extra):
    import subprocess
    import sys

    code = "import sys; from proactive.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, "train", "--profile", "cpu-smoke", "--out", str(run), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _steps(run):
    timing = ("step_time", "train_runtime", "train_samples_per_second", "train_steps_per_second", "epoch")
    return [{k: v for k, v in json.loads(line).items() if not k.startswith("profiling/") and k not in timing}
            for line in (run / "train" / "metrics.jsonl").read_text().splitlines() if line.strip()]


@pytest.mark.slow
def test_a_run_killed_mid_step_resumes_to_the_uninterrupted_runs_metrics_and_adapter(tmp_path):
    """kill -9 once checkpoint-1 is whole (during step 2), rerun: step for step the same run."""
    import signal
    import time

    from safetensors.torch import load_file

    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert _train_process(whole).wait(timeout=900) == 0
    process = _train_process(killed)
    checkpoint = killed / "train" / "checkpoints" / "checkpoint-1"
    deadline = time.time() + 900
    while not (checkpoint / "trainer_state.json").is_file() or not (checkpoint / "rng_state.pth").is_file():
        assert process.poll() is None and time.time() < deadline, "the run ended before its first checkpoint"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert not (killed / "train" / "adapter" / "adapter_config.json").is_file()  # it really died mid-run
    resumed = _train_process(killed)
    assert resumed.wait(timeout=900) == 0, resumed.stderr.read()
    ours, theirs = _steps(killed), _steps(whole)
    assert [m["step"] for m in ours] == [m["step"] for m in theirs] == [1, 2]
    for mine, other in zip(ours, theirs):
        assert mine.keys() == other.keys()
        for key in mine:
            assert mine[key] == pytest.approx(other[key], rel=1e-5, abs=1e-6), (mine["step"], key)
    a = load_file(str(whole / "train" / "adapter" / "adapter_model.safetensors"))
    b = load_file(str(killed / "train" / "adapter" / "adapter_model.safetensors"))
    assert a.keys() == b.keys()
    for name in a:
        assert (a[name] - b[name]).abs().max().item() < 1e-6, name


@pytest.mark.parametrize("where", ["terminal", "notebook"])
def test_one_progress_display_per_training_run(where, capsys):
    """transformers' bar stays; what it logs per step (the terminal's raw metrics dict, the notebook's
    "Training Loss" table) goes, since the project prints one line per step and draws the live curve."""
    from transformers.trainer_callback import CallbackHandler, ProgressCallback, TrainerControl, TrainerState
    from transformers.training_args import TrainingArguments
    from transformers.utils.notebook import NotebookProgressCallback

    from proactive.training import quiet_progress

    base = ProgressCallback if where == "terminal" else NotebookProgressCallback
    handler = CallbackHandler([base], None, None, None, None)
    assert quiet_progress(handler) == 1
    [callback] = handler.callbacks
    assert isinstance(callback, base) and type(callback) is not base
    args = TrainingArguments(output_dir="unused", report_to="none", use_cpu=True)
    logs = {"loss": 0.123456, "reward": 0.1, "kl": 0.0}

    def logged(cb) -> str:
        state = TrainerState(max_steps=2, global_step=1)
        cb.on_train_begin(args, state, TrainerControl())
        capsys.readouterr()
        cb.on_log(args, state, TrainerControl(), logs=dict(logs))
        if where == "notebook":
            return repr(cb.training_tracker.inner_table)
        seen = capsys.readouterr()
        return seen.out + seen.err

    assert "0.123456" in logged(base()) or "0.123" in logged(base())  # what the original writes per step
    assert "0.123" not in logged(callback)
    assert quiet_progress(CallbackHandler([], None, None, None, None)) == 0
