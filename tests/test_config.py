import dataclasses
import re
import subprocess
import sys

import pytest

from gan_tf import configs
from conftest import smoke
from gan_tf.configs import get_config
from gan_tf import config as config_lib, execution, losses, models
from gan_tf.config import Config, ConfigError


def test_every_experiment_loads_and_names_a_registered_model():
  assert set(configs.EXPERIMENTS) == {"mlp", "mlp_small", "dcgan", "dcgan_tutorial"}
  for name in configs.EXPERIMENTS:
    config = get_config(name)
    assert config.name == name
    assert config.model in models.REGISTRY
    assert config.source


def test_the_registries_implement_exactly_the_configs_choices():
  """config.py lists every choice without importing what implements it; each registry must agree."""
  assert tuple(models.REGISTRY) == config_lib.CHOICES["model"]
  assert tuple(losses.LOSSES) == config_lib.CHOICES["loss"]
  assert tuple(execution.PRECISIONS) == config_lib.CHOICES["mixed_precision"]
  assert tuple(execution.STRATEGIES) == config_lib.CHOICES["strategy"]
  assert set(config_lib.SMOOTHABLE) <= set(losses.LOSSES)


def test_the_configuration_and_metrics_load_no_tensorflow():
  code = "import sys, gan_tf.config, gan_tf.configs, gan_tf.metrics; print('tensorflow' in sys.modules)"
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
  assert out.strip() == "False"


@pytest.mark.parametrize("field,registry", [("model", models.REGISTRY), ("loss", losses.LOSSES)])
def test_a_config_takes_exactly_the_registered_names(field, registry):
  for name in registry:
    assert getattr(smoke(**{field: name}), field) == name
  with pytest.raises(ConfigError, match=re.escape(f"{field}='nope': must be one of {list(registry)}")):
    smoke(**{field: "nope"})


@pytest.mark.parametrize("overrides,words", [
    ({"loss": "hinge", "label_smoothing": 0.1}, "needs loss minimax or non_saturating"),
    ({"label_smoothing": 0.5}, "must be in [0, 0.5)"),
    ({"g_ema": 1.0}, "must be in [0, 1)"),
    ({"d_beta_1": 1.0}, "d_beta_1=1.0: must be in [0, 1)"),
])
def test_smoothing_and_average_out_of_range_are_config_errors(overrides, words):
  with pytest.raises(ConfigError, match=re.escape(words)):
    smoke(**overrides)


def test_overrides_apply_and_keep_types():
  config = get_config("mlp", epochs=3, d_learning_rate=1)
  assert config.epochs == 3
  assert config.d_learning_rate == 1.0 and isinstance(config.d_learning_rate, float)


def test_source_setting_is_the_sources_training_and_overrides_still_win():
  for name in configs.EXPERIMENTS:   # the same networks, trained as SOURCE says
    source = get_config(name, "source")
    assert source.model == get_config(name).model
    settings = configs.source_settings(name)
    assert {field: getattr(source, field) for field in settings} == settings
  # Each source's own training, as its text gives it.
  mlp = get_config("mlp", "source")
  assert (mlp.loss, mlp.d_steps, mlp.d_optimizer, mlp.d_learning_rate, mlp.d_beta_1, mlp.g_beta_1,
          mlp.noise, mlp.g_ema) == ("non_saturating", 1, "adam", 1e-4, 0.9, 0.9, "uniform", 0.0)
  small = get_config("mlp_small", "source", d_learning_rate=0.05)
  assert (small.loss, small.d_optimizer, small.g_optimizer, small.batch_size) == ("minimax", "sgd", "sgd", 64)
  assert small.d_learning_rate == 0.05 and small.g_learning_rate == 0.01   # the override wins
  dcgan = get_config("dcgan", "source")
  assert (dcgan.d_optimizer, dcgan.g_learning_rate, dcgan.d_momentum, dcgan.g_nesterov, dcgan.batch_size,
          dcgan.minibatch_stddev, dcgan.label_smoothing) == ("sgd", 5e-4, 0.9, True, 128, False, 0.0)
  tutorial = get_config("dcgan_tutorial", "source")
  assert (tutorial.d_learning_rate, tutorial.g_beta_1, tutorial.noise, tutorial.loss) == (
      1e-4, 0.9, "normal", "non_saturating")
  with pytest.raises(ConfigError, match="setting='sauce': must be one of"):
    get_config("mlp", "sauce")


def test_a_run_names_where_its_training_leaves_its_source():
  assert configs.against_source(get_config("mlp")) == {
      "d_beta_1": 0.0, "d_learning_rate": 1e-3, "d_steps": 2, "g_beta_1": 0.0, "g_ema": 0.999,
      "g_learning_rate": 1e-3, "loss": "wasserstein_gp"}
  for name in configs.EXPERIMENTS:
    assert configs.against_source(get_config(name, "source")) == {}
  assert configs.against_source(get_config("dcgan_tutorial", "source", g_ema=0.99)) == {"g_ema": 0.99}
  assert configs.against_source(get_config("mlp", "source", epochs=3)) == {}   # not a training setting


def test_misspelt_override_is_an_error():
  with pytest.raises(ConfigError, match="unknown config field.*epochz"):
    get_config("mlp", epochz=3)


@pytest.mark.parametrize("field,value,words", [
    ("batch_size", 0, "batch_size=0: must be >= 1"),
    ("d_learning_rate", 0.0, "d_learning_rate=0.0: must be > 0"),
    ("d_steps", 0, "d_steps=0: must be >= 1"),
    ("latent_dim", -1, "latent_dim=-1: must be >= 1"),
    ("epochs", -1, "epochs=-1: must be >= 0"),
    ("loss", "wgan", "loss='wgan': must be one of"),
    ("noise", "gauss", "noise='gauss': must be one of"),
    ("strategy", "horovod", "strategy='horovod': must be one of"),
    ("lr_decay", "cosine", "lr_decay='cosine': must be one of ['constant', 'linear']"),
    ("dataset", "cifar10", "dataset='cifar10': must be one of"),
    ("batch_size", "64", "batch_size='64': expected int, got str"),
    ("deterministic", 1, "deterministic=1: expected bool, got int"),
])
def test_bad_values_name_field_value_and_what_is_allowed(field, value, words):
  with pytest.raises(ConfigError) as error:
    get_config("mlp", **{field: value})
  assert words in str(error.value)
  assert "\n" not in str(error.value)


def test_unknown_experiment_lists_known_ones():
  with pytest.raises(ConfigError, match="experiment='mpl': unknown; known: .*'mlp'"):
    get_config("mpl")


def test_json_round_trip():
  config = get_config("dcgan", epochs=7)
  assert Config.from_json(config.to_json()) == config


def test_every_field_has_a_help_line_in_a_known_group():
  for field in dataclasses.fields(Config):
    assert field.metadata["group"] in config_lib.GROUPS and field.metadata["help"], field.name
