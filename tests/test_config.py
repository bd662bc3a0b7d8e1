import re

import pytest

from gan_tf import augment, config as config_lib, losses, models
from gan_tf.config import Config, ConfigError, get_config


def test_every_experiment_loads_and_names_a_registered_model():
  names = config_lib.experiment_names()
  assert {"mlp", "mlp_small", "dcgan", "dcgan_tutorial", "smoke"} <= set(names)
  for name in names:
    config = get_config(name)
    assert config.name == name
    assert config.model in models.REGISTRY
    assert config.source


def test_config_model_names_match_the_registry():
  assert set(config_lib.MODELS) == set(models.REGISTRY)
  assert set(config_lib.LOSSES) == set(losses.LOSSES)
  assert set(config_lib.SMOOTHABLE_LOSSES) == set(losses.SMOOTHABLE)
  assert config_lib.AUGMENTS == tuple(augment.POLICIES)


@pytest.mark.parametrize("overrides,words", [
    ({"loss": "hinge", "label_smoothing": 0.1}, "needs loss minimax or non_saturating"),
    ({"label_smoothing": 0.5}, "must be in [0, 0.5)"),
    ({"g_ema": 1.0}, "must be in [0, 1)"),
    ({"g_top_k": 0.0}, "g_top_k=0.0: must be in (0, 1]"),
    ({"g_top_k_decay": 1.5}, "g_top_k_decay=1.5: must be in (0, 1]"),
    ({"d_dropout": 1.0}, "d_dropout=1.0: must be in [0, 1)"),
    ({"model": "dcgan", "d_dropout": 0.3}, "applies to the dense discriminators (mlp, mlp_small), not "
                                           "model='dcgan'"),
    ({"d_augment": "translation,flip"}, "d_augment='translation,flip': unknown flip; known: color, "
                                        "translation, cutout"),
])
def test_smoothing_and_average_out_of_range_are_config_errors(overrides, words):
  with pytest.raises(ConfigError, match=re.escape(words)):
    get_config("smoke", **overrides)


def test_overrides_apply_and_keep_types():
  config = get_config("mlp", epochs=3, d_learning_rate=1)
  assert config.epochs == 3
  assert config.d_learning_rate == 1.0 and isinstance(config.d_learning_rate, float)


def test_source_setting_is_the_sources_training_and_overrides_still_win():
  default, source = get_config("mlp"), get_config("mlp", "source")
  assert (default.loss, default.d_steps) == ("wasserstein_gp", 2)
  assert (source.loss, source.d_steps, source.d_beta_1, source.g_beta_1) == ("non_saturating", 1, 0.9, 0.9)
  assert source.model == default.model and source.batch_size == default.batch_size   # same networks
  small = get_config("mlp_small", "source", d_learning_rate=0.05)
  assert (small.loss, small.d_optimizer, small.g_optimizer) == ("minimax", "sgd", "sgd")
  assert small.d_learning_rate == 0.05 and small.g_learning_rate == 0.01
  # An experiment whose defaults are its source's has no separate setting.
  assert config_lib.source_settings("smoke") == {}
  assert get_config("smoke", "source") == get_config("smoke")
  dcgan = get_config("dcgan", "source")
  assert (dcgan.d_optimizer, dcgan.g_learning_rate, dcgan.d_momentum, dcgan.g_nesterov) == ("sgd", 5e-4, 0.9, True)
  assert get_config("dcgan").g_optimizer == "adam" and dcgan.model == "dcgan"
  assert get_config("dcgan").minibatch_stddev and not dcgan.minibatch_stddev   # the source's D is plain
  assert (dcgan.batch_size, get_config("dcgan").batch_size) == (128, 64)   # the program's batch; the default's
  assert get_config("dcgan").d_learning_rate == get_config("dcgan").g_learning_rate == 4e-4
  tutorial = get_config("dcgan_tutorial", "source")
  assert (tutorial.d_learning_rate, tutorial.g_beta_1, tutorial.batch_size) == (1e-4, 0.9, 128)
  with pytest.raises(ConfigError, match="setting='sauce': must be one of"):
    get_config("mlp", "sauce")


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
