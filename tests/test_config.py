from pathlib import Path

import pytest

from proactive.config import Profile, RewardConfig, available_profiles, load_profile
from proactive.errors import ProactiveError


def test_every_profile_loads():
    names = available_profiles()
    assert {"cpu-smoke", "cpu", "colab-t4", "paper", "multi-gpu"} <= set(names)
    for name in names:
        profile = load_profile(name)
        assert isinstance(profile, Profile) and profile.name == name


def test_cpu_profiles_are_offline_and_gpu_profiles_say_so():
    assert load_profile("cpu-smoke").model == load_profile("cpu").model == "smollm2-135m-instruct"
    assert not load_profile("cpu").requires_gpu
    assert load_profile("colab-t4").requires_gpu and load_profile("colab-t4").use_unsloth


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(ProactiveError, match=r"unknown profile 'gpu-huge'; choose one of: .*cpu-smoke"):
        load_profile("gpu-huge")


def test_bad_profile_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: x\nlearning_rat: 0.1\n")
    with pytest.raises(ProactiveError, match=r"unknown settings \['learning_rat'\]"):
        load_profile(str(bad))
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ProactiveError, match="not valid YAML"):
        load_profile(str(bad))


def test_train_settings_are_typed_and_checked(tmp_path):
    profile = load_profile("cpu")
    assert profile.train.grpo.max_steps > 0 and profile.train.lora_targets == ("q_proj", "k_proj", "v_proj", "o_proj")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  learnin_rate: 0.1\n")
    with pytest.raises(ProactiveError, match=r"unknown train settings \['learnin_rate'\]"):
        load_profile(str(bad))
    bad.write_text("train: 5\n")
    with pytest.raises(ProactiveError, match="train settings must be a YAML mapping"):
        load_profile(str(bad))


@pytest.mark.parametrize("yaml_text, message", [
    ("train:\n  max_steps: two\n", "max_steps: 'two' is not a valid int (the default is max_steps: "),
    ("train:\n  learning_rate: fast\n", "learning_rate: 'fast' is not a valid float"),
    ("train:\n  load_in_4bit: maybe\n", "load_in_4bit: 'maybe' is not a valid bool"),
    ("train:\n  max_steps: true\n", "max_steps: True is not a valid int"),
    ("train:\n  rft:\n    rounds: 1.5\n", "train.rft.rounds: 1.5 is not a valid int (the default is rounds: 3)"),
    ("train:\n  grpo:\n    use_vllm: 1\n", "train.grpo.use_vllm: 1 is not a valid bool"),
    ("train:\n  lora_targets: q_proj\n", "lora_targets: 'q_proj' is not a valid tuple"),
    ("n_tasks: many\n", "n_tasks: 'many' is not a valid int | None"),
    ("use_unsloth: 1\n", "use_unsloth: 1 is not a valid bool"),
    ("model: 7\n", "model: 7 is not a valid str"),
])
def test_wrong_typed_settings_are_one_line_errors(tmp_path, yaml_text, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml_text)
    with pytest.raises(ProactiveError) as caught:
        load_profile(str(bad))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_right_typed_settings_load(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("n_tasks: null\ntrain:\n  learning_rate: 1\n  max_steps: 3\n  lora_targets: [q_proj]\n")
    profile = load_profile(str(good))
    assert profile.train.grpo.learning_rate == 1 and profile.train.lora_targets == ("q_proj",)
    assert profile.train.grpo.max_steps == 3  # the flat keys of older profiles land in their method's section


def test_reward_weights_come_from_the_profile(tmp_path):
    # The defaults are the trained weights: no bundled profile needs a reward: section to train with them.
    for name in available_profiles():
        assert load_profile(name).reward_config() == RewardConfig(), name
    assert (RewardConfig().elicitation_weight, RewardConfig().shaping, RewardConfig().off_topic_penalty) == (3, 0.25, 0.3)
    custom = tmp_path / "custom.yaml"
    custom.write_text("reward:\n  elicitation_weight: 1\n  shaping: 0.5\n")
    config = load_profile(str(custom)).reward_config()
    assert (config.elicitation_weight, config.shaping, config.repeat_penalty) == (1, 0.5, 0.3)
    custom.write_text("reward:\n  shapin: 0.1\n")
    with pytest.raises(ProactiveError, match=r"reward settings: unknown reward weights \['shapin'\]"):
        load_profile(str(custom))
    custom.write_text("reward:\n  shaping: -1\n")
    with pytest.raises(ProactiveError, match="RewardConfig.shaping must be a finite, non-negative number"):
        load_profile(str(custom))
    custom.write_text("reward: 3\n")
    with pytest.raises(ProactiveError, match="reward settings must be a YAML mapping"):
        load_profile(str(custom))


@pytest.mark.parametrize("setting", ["eval_batch_size: 0", "eval_samples: -2", "eval_dtype: half"])
def test_evaluation_settings_are_checked(tmp_path, setting):
    bad = tmp_path / "bad.yaml"
    bad.write_text(setting + "\n")
    with pytest.raises(ProactiveError, match=f"bad.yaml: {setting.split(':')[0]} "):
        load_profile(str(bad))


def test_the_demo_profile_generates_in_larger_batches_than_the_benchmarks():
    from proactive.system_specs import local_policy

    assert load_profile("cpu").eval_batch_size == 16  # the learning benchmark's figures reproduce
    assert local_policy(load_profile("cpu-smoke")).batch_size == load_profile("cpu-smoke").eval_batch_size
    assert load_profile("cpu-unsloth").eval_batch_size == 32


def test_a_profile_starts_from_its_base_and_sets_only_what_it_changes(tmp_path):
    (tmp_path / "mine.yaml").write_text("base: cpu\ntrain:\n  max_steps: 5\nreward:\n  shaping: 0.1\n")
    (tmp_path / "deeper.yaml").write_text("base: mine.yaml\ndescription: two levels\n")
    cpu, mine, deeper = load_profile("cpu"), load_profile(str(tmp_path / "mine.yaml")), load_profile(str(tmp_path / "deeper.yaml"))
    assert (mine.name, mine.train.grpo.max_steps, mine.train.grpo.num_generations) == ("mine", 5, cpu.train.grpo.num_generations)
    assert mine.reward == {**cpu.reward, "shaping": 0.1}
    assert deeper.train == mine.train and deeper.description == "two levels" and deeper.name == "deeper"
    # A method's section is merged key by key too, whichever shape (flat or sectioned) each file uses.
    (tmp_path / "rft.yaml").write_text("base: cpu-unsloth\ntrain:\n  rft:\n    rounds: 2\n  rft_samples: 5\n")
    rft, unsloth = load_profile(str(tmp_path / "rft.yaml")), load_profile("cpu-unsloth")
    assert (rft.train.rft.rounds, rft.train.rft.samples, rft.train.rft.variants) == (2, 5, unsloth.train.rft.variants)
    assert rft.train.grpo == unsloth.train.grpo and rft.train.method == ("rft", "writer")
    (tmp_path / "loop.yaml").write_text("base: loop.yaml\n")
    with pytest.raises(ProactiveError, match="base profiles form a loop"):
        load_profile(str(tmp_path / "loop.yaml"))
    (tmp_path / "bad.yaml").write_text("base: nosuch\n")
    with pytest.raises(ProactiveError, match="unknown profile 'nosuch'"):
        load_profile(str(tmp_path / "bad.yaml"))


def test_every_benchmark_recipe_loads_and_starts_from_a_profile():
    import yaml

    recipes = sorted((Path(__file__).parent.parent / "benchmarks" / "recipes").glob("*.yaml"))
    assert recipes
    for path in recipes:
        assert yaml.safe_load(path.read_text())["base"], path
        assert load_profile(str(path)).name == path.stem


def test_the_method_is_a_list_of_stages_and_old_spellings_still_load(tmp_path):
    for text, stages in (("rft+grpo", ("rft", "grpo")), ("[rft, grpo]", ("rft", "grpo")), ("grpo", ("grpo",)),
                         ("[rft]", ("rft",))):
        (tmp_path / "p.yaml").write_text(f"train:\n  method: {text}\n")
        assert load_profile(str(tmp_path / "p.yaml")).train.method == stages
    profile = load_profile("cpu-unsloth")
    assert profile.train.settings("rft") is profile.train.rft and profile.train.rft.rounds == 1
    assert load_profile("cpu").train.rft == type(profile.train.rft)()  # not set: the method's defaults
    with pytest.raises(AttributeError, match="it is train.grpo.max_steps now"):
        profile.train.max_steps  # noqa: B018 (the old attribute names where it went)
    changed = profile.train.with_settings("grpo", max_steps=7).with_method("rft+grpo")
    assert (changed.grpo.max_steps, changed.method, changed.rft) == (7, ("rft", "grpo"), profile.train.rft)
    with pytest.raises(ProactiveError, match="unknown training method"):
        profile.train.with_method("dpo")


def test_the_plain_fallback_runs_make_demo_s_recipe():
    """``make demo`` falls back to cpu-rft where Unsloth's CPU backend does not import: the same stages,
    settings, tasks and evaluation, so its report measures the same thing (the two files drifted once)."""
    plain, unsloth = load_profile("cpu-rft"), load_profile("cpu-unsloth")
    assert plain.train.method == unsloth.train.method
    for name in unsloth.train.method:
        assert plain.train.settings(name) == unsloth.train.settings(name), name
    for key in ("train_tasks", "in3_tasks", "max_completion_length", "lora_r", "lora_alpha", "dtype"):
        assert getattr(plain.train, key) == getattr(unsloth.train, key), key
    for key in ("n_tasks", "in3_held_out", "eval_samples", "eval_batch_size", "eval_dtype", "redraws", "question_prefix"):
        assert getattr(plain, key) == getattr(unsloth, key), key
    assert not plain.use_unsloth and unsloth.use_unsloth
