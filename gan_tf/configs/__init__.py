"""The experiments: one module per reproduction, each with get_config() and, where its source trains
differently from gan_tf's defaults, SOURCE (the fields `--setting=source` changes)."""
from experiments import dcgan, dcgan_tutorial, mlp, mlp_small
from gan_tf.config import ConfigError

EXPERIMENTS = {"mlp": mlp, "mlp_small": mlp_small, "dcgan": dcgan, "dcgan_tutorial": dcgan_tutorial}
SETTINGS = ("default", "source")   # gan_tf's defaults, or training as the source prescribes


def _experiment(name):
  if name not in EXPERIMENTS:
    raise ConfigError(f"experiment={name!r}: unknown; known: {sorted(EXPERIMENTS)}")
  return EXPERIMENTS[name]


def source_settings(name):
  """The fields where the named experiment's source trains differently from gan_tf's defaults ({} when
  the defaults are the source's)."""
  return dict(getattr(_experiment(name), "SOURCE", {}))


def get_config(name, setting="default", **overrides):
  """The named experiment's Config, with gan_tf's defaults or (setting="source") trained as its source
  prescribes, with overrides applied and validated."""
  if setting not in SETTINGS:
    raise ConfigError(f"setting={setting!r}: must be one of {list(SETTINGS)}")
  settings = source_settings(name) if setting == "source" else {}
  settings.update(overrides)
  return _experiment(name).get_config().replace(**settings)


def setting_values(name, setting):
  """{field: value} for the fields `setting` decides in the named experiment (its SOURCE's fields)."""
  config = get_config(name, setting)
  return {k: getattr(config, k) for k in source_settings(name)}


def against_source(config):
  """The training fields where config differs from how its experiment's source trains ({} when it trains
  as the source does)."""
  return {k: getattr(config, k) for k, v in sorted(source_settings(config.name).items())
          if getattr(config, k) != v}
