"""The experiments: one module per reproduction, each with get_config() and, where its source trains
differently from gan_tf's defaults, SOURCE (the fields `--setting=source` changes). `--experiment` takes a
name here or the path of a .py file of the same shape (a changed copy of one of these)."""
import importlib.util
import os

from gan_tf.config import ConfigError, differences
from gan_tf.configs import dcgan, dcgan_tutorial, mlp, mlp_small

EXPERIMENTS = {"mlp": mlp, "mlp_small": mlp_small, "dcgan": dcgan, "dcgan_tutorial": dcgan_tutorial}
SETTINGS = ("default", "source")   # gan_tf's defaults, or training as the source prescribes


def load(experiment):
  """The experiment's module: one of EXPERIMENTS by name, or a .py file that defines get_config()."""
  if not experiment.endswith(".py"):
    if experiment not in EXPERIMENTS:
      raise ConfigError(f"experiment={experiment!r}: unknown; known: {sorted(EXPERIMENTS)}, or a .py file's path")
    return EXPERIMENTS[experiment]
  if not os.path.isfile(experiment):
    raise ConfigError(f"experiment={experiment!r}: no such file")
  spec = importlib.util.spec_from_file_location(os.path.basename(experiment)[:-3], experiment)
  module = importlib.util.module_from_spec(spec)
  try:
    spec.loader.exec_module(module)
  except Exception as e:   # the user's own code: its first error as one line, not a traceback
    raise ConfigError(f"experiment={experiment!r} does not load: {type(e).__name__}: {e}") from e
  if not callable(getattr(module, "get_config", None)):
    raise ConfigError(f"experiment={experiment!r}: the file defines no get_config(); copy one of "
                      f"{os.path.dirname(__file__)}/*.py")
  return module


def source_settings(experiment):
  """The fields where the experiment's source trains differently from gan_tf's defaults ({} when the
  defaults are the source's)."""
  return dict(getattr(load(experiment), "SOURCE", {}))


def get_config(experiment, setting="default", **overrides):
  """The experiment's Config, with gan_tf's defaults or (setting="source") trained as its source
  prescribes, with overrides applied and validated."""
  if setting not in SETTINGS:
    raise ConfigError(f"setting={setting!r}: must be one of {list(SETTINGS)}")
  settings = source_settings(experiment) if setting == "source" else {}
  settings.update(overrides)
  return load(experiment).get_config().replace(**settings)


def against_source(config):
  """{field: config's value} for the training fields where config differs from how its experiment's source
  trains ({} when it trains as the source does, or is no experiment of EXPERIMENTS)."""
  if config.name not in EXPERIMENTS:
    return {}
  source = config.replace(**source_settings(config.name))
  return {k: new for k, (_, new) in sorted(differences(source, config).items())}
