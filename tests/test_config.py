import pytest

from proactive.config import Profile, available_profiles, load_profile
from proactive.errors import ProactiveError
from proactive.reward import RewardConfig


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
    assert profile.train.max_steps > 0 and profile.train.lora_targets == ("q_proj", "k_proj", "v_proj", "o_proj")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  learnin_rate: 0.1\n")
    with pytest.raises(ProactiveError, match=r"unknown train settings \['learnin_rate'\]"):
        load_profile(str(bad))
    bad.write_text("train: 5\n")
    with pytest.raises(ProactiveError, match="train settings must be a YAML mapping"):
        load_profile(str(bad))


def test_reward_weights_come_from_the_profile(tmp_path):
    assert load_profile("cpu").reward_config().elicitation_weight == 3.0  # its reward: section
    custom = tmp_path / "custom.yaml"
    custom.write_text("description: no reward section\n")
    assert load_profile(str(custom)).reward_config() == RewardConfig()  # the defaults
    custom.write_text("reward:\n  elicitation_weight: 3\n  shaping: 0.25\n")
    config = load_profile(str(custom)).reward_config()
    assert (config.elicitation_weight, config.shaping, config.repeat_penalty) == (3, 0.25, 0.3)
    custom.write_text("reward:\n  shapin: 0.1\n")
    with pytest.raises(ProactiveError, match=r"reward settings: unknown reward weights \['shapin'\]"):
        load_profile(str(custom))
    custom.write_text("reward:\n  shaping: -1\n")
    with pytest.raises(ProactiveError, match="RewardConfig.shaping must be a non-negative number"):
        load_profile(str(custom))
    custom.write_text("reward: 3\n")
    with pytest.raises(ProactiveError, match="reward settings must be a YAML mapping"):
        load_profile(str(custom))
