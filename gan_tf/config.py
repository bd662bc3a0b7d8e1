"""The experiment configuration: one frozen dataclass, validated on creation.

Every field can be overridden from the command line (`gan_tf.train` defines one absl flag per field), and
`replace` refuses names that are not fields, so a misspelt override is an error, never silently ignored.
"""
import dataclasses
import importlib
import json
import pkgutil

import experiments
from gan_tf.errors import UserError

MODELS = ("mlp", "mlp_small", "dcgan", "dcgan_tutorial")   # models.REGISTRY
LOSSES = ("minimax", "non_saturating", "least_squares", "hinge", "wasserstein_gp")   # losses.LOSSES
SMOOTHABLE_LOSSES = ("minimax", "non_saturating")                                   # losses.SMOOTHABLE
NOISES = ("uniform", "normal")
OPTIMIZERS = ("adam", "sgd")
LR_DECAYS = ("constant", "linear")
DROPOUT_MODELS = ("mlp", "mlp_small")
AUGMENTS = ("color", "translation", "cutout")                                       # augment.POLICIES
ACTIVATIONS = ("relu", "tanh", "leaky_relu")
STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("float32", "bfloat16", "float16")
DATASETS = ("mnist", "fashion_mnist", "kmnist", "emnist")

# Fields that fix the shape of a network's weights: a resumed run must agree on them.
ARCHITECTURE_FIELDS = ("model", "latent_dim", "activation", "g_batchnorm", "minibatch_stddev",
                       "d_dropout", "image_shape")


class ConfigError(UserError, ValueError):
  """A configuration value is unknown, of the wrong type or out of range."""


@dataclasses.dataclass(frozen=True)
class Config:
  """One experiment. See experiments/*.py for the values each reproduction uses."""
  name: str = "custom"                 # experiment name; run folders are named after it
  source: str = ""                     # what this experiment reproduces (shown in logs and exports)
  model: str = "mlp"                   # key in models.REGISTRY
  # Data.
  dataset: str = "fashion_mnist"       # tfds name (28x28 grey sets)
  data_dir: str = ""                   # a folder of IDX .gz files: read offline instead of tfds.load
  split: str = "train"                 # tfds split spec, e.g. "train", "test", "train[:80%]"
  image_shape: tuple = (28, 28, 1)
  # Networks.
  latent_dim: int = 100
  noise: str = "uniform"               # z ~ U(-1, 1) or N(0, 1)
  activation: str = "relu"             # dcgan and mlp: hidden activation
  g_batchnorm: bool = False            # dcgan only: BatchNorm after G's Dense(128*7*7)
  minibatch_stddev: bool = False       # D's last layer also sees the batch's feature spread (ProGAN)
  d_dropout: float = 0.0               # mlp and mlp_small: dropout rate after each of D's hidden layers
  # Objective and schedule.
  loss: str = "non_saturating"
  gp_weight: float = 10.0              # wasserstein_gp only
  r1_weight: float = 0.0               # gamma of the R1 penalty on real images (Mescheder et al. 2018); 0: off
  label_smoothing: float = 0.0         # minimax / non_saturating only: D's target for real images is 1 - this
  d_steps: int = 1                     # k of Goodfellow et al., Algorithm 1
  g_steps: int = 1                     # G updates per train step, after the k D updates, each on fresh z
  g_top_k: float = 1.0                 # G's loss over the top fraction of each fake batch by D's score,
                                       # falling from 1 to this (Sinha et al. 2020's nu); 1: all of it
  g_top_k_decay: float = 0.99          # that fraction's factor per epoch (their gamma)
  d_augment: str = ""                  # DiffAugment policies on every image D sees, e.g. "translation,cutout"
  batch_size: int = 128
  epochs: int = 10
  # Optimizers: one per network, never shared.
  d_optimizer: str = "adam"
  d_learning_rate: float = 1e-4
  d_beta_1: float = 0.9
  d_beta_2: float = 0.999              # adam only
  d_momentum: float = 0.0              # sgd only
  d_nesterov: bool = False             # sgd only
  g_optimizer: str = "adam"
  g_learning_rate: float = 1e-4
  g_beta_1: float = 0.9
  g_beta_2: float = 0.999
  g_momentum: float = 0.0
  g_nesterov: bool = False
  lr_decay: str = "constant"           # "linear": both rates fall linearly to 0 over the run's epochs
  g_ema: float = 0.0                   # momentum of the moving average of G's weights that samples, the
                                       # evaluation and the export use (0: the live weights)
  # Stopping rule of mlp_small's source: stop when both losses have stabilised (0 = off).
  plateau_patience: int = 0            # epochs without a change above plateau_min_delta, for both losses
  plateau_min_delta: float = 0.01
  # Outputs.
  sample_every: int = 1                # epochs between fixed-z sample grids
  sample_grid: int = 8                 # grid is sample_grid x sample_grid images
  checkpoint_every: int = 500          # steps between checkpoints (and one at each epoch end)
  checkpoints_to_keep: int = 3
  log_every: int = 100                 # steps between TensorBoard scalar points
  eval_every: int = 0                  # epochs between sample-quality figures in TensorBoard (0 = off)
  eval_n: int = 2000                   # samples scored each time
  eval_min_coverage: int = 8           # warn (collapse watchdog) when fewer classes hold >= 2% of samples
  # Execution.
  seed: int = 0
  deterministic: bool = False          # op determinism: bit-identical runs on CPU
  jit_compile: bool = False            # XLA; off by default, it is slower on CPU for the conv nets
  steps_per_execution: int = 1
  mixed_precision: str = "float32"
  strategy: str = "default"
  sync_batchnorm: bool = False
  cpu_devices: int = 0                 # split the CPU into this many logical devices (0: as is), so
                                       # "mirrored" replicates on a CPU-only host

  def __post_init__(self):
    for field in dataclasses.fields(self):
      value = getattr(self, field.name)
      expected = field.type
      if expected is float and isinstance(value, int) and not isinstance(value, bool):
        object.__setattr__(self, field.name, float(value))
      elif expected is tuple and isinstance(value, list):
        object.__setattr__(self, field.name, tuple(value))
      elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(f"{field.name}={value!r}: expected {expected.__name__}, "
                          f"got {type(value).__name__}")
    _choice(self, "model", MODELS)
    _choice(self, "loss", LOSSES)
    _choice(self, "noise", NOISES)
    _choice(self, "d_optimizer", OPTIMIZERS)
    _choice(self, "g_optimizer", OPTIMIZERS)
    _choice(self, "lr_decay", LR_DECAYS)
    _choice(self, "activation", ACTIVATIONS)
    _choice(self, "strategy", STRATEGIES)
    _choice(self, "mixed_precision", PRECISIONS)
    if not self.data_dir:
      _choice(self, "dataset", DATASETS)
    for name in ("batch_size", "latent_dim", "d_steps", "g_steps", "sample_every", "sample_grid",
                 "checkpoint_every", "checkpoints_to_keep", "log_every", "steps_per_execution"):
      _at_least(self, name, 1)
    for name in ("epochs", "plateau_patience", "plateau_min_delta", "gp_weight", "r1_weight",
                 "d_momentum", "g_momentum", "cpu_devices",
                 "eval_every", "eval_min_coverage"):
      _at_least(self, name, 0)
    _at_least(self, "eval_n", 2)
    if not 0 <= self.label_smoothing < 0.5:
      raise ConfigError(f"label_smoothing={self.label_smoothing!r}: must be in [0, 0.5)")
    if self.label_smoothing and self.loss not in SMOOTHABLE_LOSSES:
      raise ConfigError(f"label_smoothing={self.label_smoothing!r} needs loss minimax or non_saturating "
                        f"(a real target), not {self.loss!r}; set --label_smoothing=0")
    for name in ("d_learning_rate", "g_learning_rate"):
      if not getattr(self, name) > 0:
        raise ConfigError(f"{name}={getattr(self, name)!r}: must be > 0")
    if not 0 <= self.d_dropout < 1:
      raise ConfigError(f"d_dropout={self.d_dropout!r}: must be in [0, 1)")
    if self.d_dropout and self.model not in DROPOUT_MODELS:
      raise ConfigError(f"d_dropout={self.d_dropout!r} applies to the dense discriminators "
                        f"({', '.join(DROPOUT_MODELS)}), not model={self.model!r}")
    unknown = [name for name in self.d_augment.split(",") if name.strip() not in AUGMENTS + ("",)]
    if unknown:
      raise ConfigError(f"d_augment={self.d_augment!r}: unknown {', '.join(unknown)}; known: "
                        f"{', '.join(AUGMENTS)} (comma-separated)")
    for name in ("g_top_k", "g_top_k_decay"):
      if not 0 < getattr(self, name) <= 1:
        raise ConfigError(f"{name}={getattr(self, name)!r}: must be in (0, 1]")
    for name in ("d_beta_1", "d_beta_2", "g_beta_1", "g_beta_2", "g_ema"):
      if not 0 <= getattr(self, name) < 1:
        raise ConfigError(f"{name}={getattr(self, name)!r}: must be in [0, 1)")

  def replace(self, **overrides):
    """A copy with some fields changed; unknown field names are an error."""
    known = {f.name for f in dataclasses.fields(self)}
    unknown = sorted(set(overrides) - known)
    if unknown:
      raise ConfigError(f"unknown config field(s) {unknown}; known: {sorted(known)}")
    return dataclasses.replace(self, **overrides)

  def to_json(self):
    return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

  @classmethod
  def from_json(cls, text):
    return cls().replace(**json.loads(text))


def _choice(config, name, allowed):
  value = getattr(config, name)
  if value not in allowed:
    raise ConfigError(f"{name}={value!r}: must be one of {list(allowed)}")


def _at_least(config, name, low):
  value = getattr(config, name)
  if value < low:
    raise ConfigError(f"{name}={value!r}: must be >= {low}")


def experiment_names():
  """The experiments under experiments/ (each a module with get_config())."""
  names = (m.name for m in pkgutil.iter_modules(experiments.__path__))
  return sorted(n for n in names if n != "results")   # results.py makes RESULTS.md, it is no experiment


def _experiment(name):
  if name not in experiment_names():
    raise ConfigError(f"experiment={name!r}: unknown; known: {experiment_names()}")
  return importlib.import_module(f"experiments.{name}")


def source_settings(name):
  """The fields where the named experiment's source trains differently from gan_tf's defaults ({} when
  the defaults are the source's): the module's SOURCE dict."""
  return dict(getattr(_experiment(name), "SOURCE", {}))


SETTINGS = ("default", "source")


def get_config(name, setting="default", **overrides):
  """The named experiment's Config, with gan_tf's defaults or (setting="source") trained as its source
  prescribes, with overrides applied and validated."""
  if setting not in SETTINGS:
    raise ConfigError(f"setting={setting!r}: must be one of {list(SETTINGS)}")
  settings = source_settings(name) if setting == "source" else {}
  config = _experiment(name).get_config()
  settings.update(overrides)
  return config.replace(**settings) if settings else config
