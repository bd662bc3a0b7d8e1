"""The experiment configuration: one frozen dataclass, validated on creation. Every field is a flag of
`gan_tf.train`, and `replace` refuses names that are not fields: a misspelt override is an error."""
import dataclasses
import json

from gan_tf import data, execution, losses, models, optimizers, sampling
from gan_tf.errors import UserError

# Each choice list is defined beside what it names; the Config checks values against them.
CHOICES = {
    "model": tuple(models.REGISTRY),
    "activation": models.ACTIVATIONS,
    "loss": tuple(losses.LOSSES),
    "noise": sampling.NOISES,
    "d_optimizer": optimizers.OPTIMIZERS,
    "g_optimizer": optimizers.OPTIMIZERS,
    "lr_decay": optimizers.LR_DECAYS,
    "mixed_precision": tuple(execution.PRECISIONS),
    "strategy": tuple(execution.STRATEGIES),
    "dataset": data.DATASETS,
}

# Fields that fix the shape of a network's weights: a resumed run must agree on them.
ARCHITECTURE_FIELDS = ("model", "latent_dim", "activation", "g_batchnorm", "minibatch_stddev")


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
  data_dir: str = ""                   # the dataset's IDX .gz files; "": its offline folder, else tfds
  split: str = "train"                 # tfds split spec, e.g. "train", "test", "train[:80%]"
  # Networks.
  latent_dim: int = 100
  noise: str = "uniform"               # z ~ U(-1, 1) or N(0, 1)
  activation: str = "relu"             # dcgan and mlp: hidden activation
  g_batchnorm: bool = False            # dcgan only: BatchNorm after G's Dense(128*7*7)
  minibatch_stddev: bool = False       # D's last layer also sees the batch's feature spread (ProGAN)
  # Objective and schedule.
  loss: str = "non_saturating"
  gp_weight: float = 10.0              # wasserstein_gp only
  r1_weight: float = 0.0               # gamma of R1 on real images (Mescheder et al. 2018); 0: off
  label_smoothing: float = 0.0         # minimax / non_saturating only: D's target for real images is 1 - this
  d_steps: int = 1                     # k of Goodfellow et al., Algorithm 1
  g_steps: int = 1                     # G updates per train step, after the k D updates, each on fresh z
  batch_size: int = 128
  epochs: int = 10
  # Optimizers: one per network, never shared.
  d_optimizer: str = "adam"
  d_learning_rate: float = 1e-4
  d_beta_1: float = 0.9                # adam only
  d_momentum: float = 0.0              # sgd only
  d_nesterov: bool = False             # sgd only
  g_optimizer: str = "adam"
  g_learning_rate: float = 1e-4
  g_beta_1: float = 0.9
  g_momentum: float = 0.0
  g_nesterov: bool = False
  lr_decay: str = "constant"           # "linear": both rates fall linearly to 0 over the run's epochs
  g_ema: float = 0.0                   # momentum of G's weight average, which samples and exports; 0: off
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
  cpu_devices: int = 0                 # logical CPU devices, so "mirrored" replicates on a CPU (0: as is)

  def __post_init__(self):
    for field in dataclasses.fields(self):
      value = getattr(self, field.name)
      expected = field.type
      if expected is float and isinstance(value, int) and not isinstance(value, bool):
        object.__setattr__(self, field.name, float(value))
      elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(f"{field.name}={value!r}: expected {expected.__name__}, "
                          f"got {type(value).__name__}")
    for name, allowed in CHOICES.items():
      if getattr(self, name) not in allowed:
        raise ConfigError(f"{name}={getattr(self, name)!r}: must be one of {list(allowed)}")
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
    if self.label_smoothing and self.loss not in losses.SMOOTHABLE:
      raise ConfigError(f"label_smoothing={self.label_smoothing!r} needs loss minimax or non_saturating "
                        f"(a real target), not {self.loss!r}; set --label_smoothing=0")
    for name in ("d_learning_rate", "g_learning_rate"):
      if not getattr(self, name) > 0:
        raise ConfigError(f"{name}={getattr(self, name)!r}: must be > 0")
    for name in ("d_beta_1", "g_beta_1", "g_ema"):
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


def _at_least(config, name, low):
  value = getattr(config, name)
  if value < low:
    raise ConfigError(f"{name}={value!r}: must be >= {low}")
