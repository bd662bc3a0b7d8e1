"""The experiment configuration: one frozen dataclass, validated on creation. Every field is a flag of
`gan_tf.train`, and `replace` refuses names that are not fields: a misspelt override is an error."""
import dataclasses
import json
import math
import os

from gan_tf.errors import UserError

IMAGE_SHAPE = (28, 28, 1)   # every source network is built for 28x28 grey images
# Stacked MNIST: dataset -> the grey dataset whose images it stacks, as many as its channels.
STACKED = {"stacked_mnist": ("mnist", 3)}
NUM_CLASSES = {"mnist": 10, "fashion_mnist": 10, "kmnist": 10, "emnist": 62,   # emnist: tfds's byclass
               "stacked_mnist": 1000}
OPTIMIZERS = ("adam", "sgd")
# The losses whose discriminator loss is a cross-entropy with a real target (label smoothing applies).
SMOOTHABLE = ("minimax", "non_saturating")
# The values each choice field takes; the registries that implement them (models.REGISTRY, losses.LOSSES,
# execution.PRECISIONS and STRATEGIES) are held to these lists by tests/test_config.py.
CHOICES = {
    "model": ("mlp", "mlp_small", "dcgan", "dcgan_tutorial"),
    "activation": ("relu", "tanh", "leaky_relu"),   # mlp's and dcgan's hidden layers
    "loss": ("minimax", "non_saturating", "least_squares", "hinge", "wasserstein_gp"),
    "noise": ("uniform", "normal"),   # z ~ U(-1, 1) or N(0, 1)
    "d_optimizer": OPTIMIZERS,
    "g_optimizer": OPTIMIZERS,
    "lr_decay": ("constant", "linear"),   # linear: the rate falls to 0 over the run, as in WGAN-GP's code
    "mixed_precision": ("auto", "float32", "bfloat16", "float16"),
    "strategy": ("default", "mirrored", "multi_worker", "tpu"),
    "dataset": tuple(NUM_CLASSES),   # tfds's 28x28 grey sets, and Stacked MNIST
}

# Fields that fix the shape of a network's weights: a resumed run must agree on them.
ARCHITECTURE_FIELDS = ("model", "latent_dim", "activation", "g_batchnorm", "minibatch_stddev", "conditional",
                       "num_classes")
# Fields that say what a checkpoint's steps were trained on (the images, their order and batching, the
# generator's input): a resumed run changes them only when told to (--allow_changes).
DATA_FIELDS = ("dataset", "data_dir", "split", "stacked_size", "seed", "batch_size", "d_steps", "noise")


class ConfigError(UserError, ValueError):
  """A configuration value is unknown, of the wrong type or out of range."""


GROUPS = ("experiment", "data", "networks", "loss and training", "stabilisers", "monitoring and checkpoints",
          "speed", "distribution")


def _field(default, group, help):
  """A Config field with its --help group and line: the one place each field is described."""
  return dataclasses.field(default=default, metadata={"group": group, "help": help})


@dataclasses.dataclass(frozen=True)
class Config:
  """One experiment. See experiments/*.py for the values each reproduction uses."""
  name: str = _field("custom", "experiment", "experiment name; run folders are named after it")
  source: str = _field("", "experiment", "what the experiment reproduces (shown in logs and exports)")
  dataset: str = _field("fashion_mnist", "data", "which 28x28 dataset: a tfds grey one, or stacked_mnist (3 digits)")
  data_dir: str = _field("", "data", "a folder of its IDX .gz files; empty: Debian's folder, else tfds")
  split: str = _field("train", "data", "tfds split spec, e.g. train, test, train[:80%]")
  stacked_size: int = _field(128_000, "data", "stacked_mnist: stacks in the set (PacGAN's 128,000)")
  model: str = _field("mlp", "networks", "the networks (models.REGISTRY)")
  latent_dim: int = _field(100, "networks", "size of z")
  noise: str = _field("uniform", "networks", "z ~ U(-1, 1) or N(0, 1)")
  activation: str = _field("relu", "networks", "hidden activation of mlp and dcgan")
  g_batchnorm: bool = _field(False, "networks", "dcgan: BatchNorm after G's Dense(128*7*7)")
  conditional: bool = _field(False, "networks", "G and D take the class label: ask G for a class "
                             "(docs/conditional.md)")
  loss: str = _field("non_saturating", "loss and training", "the GAN loss (losses.LOSSES)")
  d_steps: int = _field(1, "loss and training", "k: D updates per train step (Algorithm 1)")
  g_steps: int = _field(1, "loss and training", "G updates per train step, after the k D updates")
  batch_size: int = _field(128, "loss and training", "images per D update (the global batch)")
  epochs: int = _field(10, "loss and training", "passes over the split")
  d_optimizer: str = _field("adam", "loss and training", "D's optimizer")
  d_learning_rate: float = _field(1e-4, "loss and training", "D's learning rate")
  d_beta_1: float = _field(0.9, "loss and training", "D's Adam beta_1")
  d_momentum: float = _field(0.0, "loss and training", "D's SGD momentum")
  d_nesterov: bool = _field(False, "loss and training", "D's SGD with Nesterov momentum")
  g_optimizer: str = _field("adam", "loss and training", "G's optimizer")
  g_learning_rate: float = _field(1e-4, "loss and training", "G's learning rate")
  g_beta_1: float = _field(0.9, "loss and training", "G's Adam beta_1")
  g_momentum: float = _field(0.0, "loss and training", "G's SGD momentum")
  g_nesterov: bool = _field(False, "loss and training", "G's SGD with Nesterov momentum")
  lr_decay: str = _field("constant", "loss and training", "linear: both rates fall to 0 over the run")
  plateau_patience: int = _field(0, "loss and training", "stop after this many epochs of both losses "
                                 "moving < plateau_min_delta (mlp_small's source's rule); 0: off")
  plateau_min_delta: float = _field(0.01, "loss and training", "see plateau_patience")
  seed: int = _field(0, "loss and training", "seed of weights, noise and data order")
  gp_weight: float = _field(10.0, "stabilisers", "WGAN-GP's penalty weight (wasserstein_gp only)")
  r1_weight: float = _field(0.0, "stabilisers", "R1 penalty gamma on real images (Mescheder et al. 2018)")
  label_smoothing: float = _field(0.0, "stabilisers", "D's real target is 1 - this (cross-entropy losses)")
  minibatch_stddev: bool = _field(False, "stabilisers", "D's last layer sees the batch's spread (ProGAN)")
  g_ema: float = _field(0.0, "stabilisers", "momentum of G's weight average, which samples and exports")
  sample_every: int = _field(1, "monitoring and checkpoints", "epochs between fixed-z sample grids")
  sample_grid: int = _field(8, "monitoring and checkpoints", "a grid is sample_grid x sample_grid images")
  checkpoint_every: int = _field(500, "monitoring and checkpoints", "steps between checkpoints")
  checkpoints_to_keep: int = _field(3, "monitoring and checkpoints", "checkpoints kept")
  log_every: int = _field(100, "monitoring and checkpoints", "steps between TensorBoard scalar points")
  eval_every: int = _field(0, "monitoring and checkpoints", "epochs between sample-quality figures; 0: off")
  eval_n: int = _field(2000, "monitoring and checkpoints", "samples scored each time")
  eval_min_classes: int = _field(8, "monitoring and checkpoints", "warn when fewer classes hold >= 2%")
  jit_compile: bool = _field(False, "speed", "XLA (helps the dense nets; not the conv nets on CPU)")
  steps_per_execution: int = _field(1, "speed", "train steps per call into the compiled step")
  mixed_precision: str = _field("float32", "speed", "compute precision (variables stay float32); auto: "
                                "bfloat16 on native-bf16 CPUs and TPUs, float16 on GPUs with tensor cores, "
                                "else float32")
  deterministic: bool = _field(False, "speed", "op determinism: bit-identical runs, slower")
  strategy: str = _field("default", "distribution", "tf.distribute strategy (docs/scale.md)")
  sync_batchnorm: bool = _field(False, "distribution", "BatchNorm statistics over all replicas")
  cpu_devices: int = _field(0, "distribution", "split the CPU into this many devices (0: as is)")

  def __post_init__(self):
    for field in dataclasses.fields(self):
      value = getattr(self, field.name)
      expected = field.type
      if expected is float and isinstance(value, int) and not isinstance(value, bool):
        object.__setattr__(self, field.name, float(value))
      elif not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(f"{field.name}={value!r}: expected {expected.__name__}, "
                          f"got {type(value).__name__}")
      if expected is float and not math.isfinite(getattr(self, field.name)):   # nan < 0 is False: ranges pass it
        raise ConfigError(f"{field.name}={value!r}: must be a finite number")
    for name, allowed in CHOICES.items():
      if getattr(self, name) not in allowed:
        raise ConfigError(f"{name}={getattr(self, name)!r}: must be one of {list(allowed)}")
    for name in ("batch_size", "latent_dim", "d_steps", "g_steps", "sample_every", "sample_grid",
                 "checkpoint_every", "checkpoints_to_keep", "log_every", "steps_per_execution", "stacked_size"):
      _at_least(self, name, 1)
    for name in ("epochs", "plateau_patience", "plateau_min_delta", "gp_weight", "r1_weight", "d_momentum",
                 "g_momentum", "cpu_devices", "eval_every", "eval_min_classes"):
      _at_least(self, name, 0)
    _at_least(self, "eval_n", 2)
    if self.conditional and self.dataset in STACKED:
      raise ConfigError(f"conditional=True with dataset={self.dataset!r}: a stacked set counts the modes an "
                        "unconditional generator finds; drop --conditional")
    if not 0 <= self.label_smoothing < 0.5:
      raise ConfigError(f"label_smoothing={self.label_smoothing!r}: must be in [0, 0.5)")
    if self.label_smoothing and self.loss not in SMOOTHABLE:
      raise ConfigError(f"label_smoothing={self.label_smoothing!r} needs loss minimax or non_saturating "
                        f"(a real target), not {self.loss!r}; set --label_smoothing=0")
    for name in ("d_learning_rate", "g_learning_rate"):
      if not getattr(self, name) > 0:
        raise ConfigError(f"{name}={getattr(self, name)!r}: must be > 0")
    for name in ("d_beta_1", "g_beta_1", "g_ema"):
      if not 0 <= getattr(self, name) < 1:
        raise ConfigError(f"{name}={getattr(self, name)!r}: must be in [0, 1)")

  @property
  def image_shape(self):
    """[H, W, C] of the dataset's images, which every network takes or makes."""
    channels = STACKED[self.dataset][1] if self.dataset in STACKED else IMAGE_SHAPE[2]
    return IMAGE_SHAPE[:2] + (channels,)

  @property
  def num_classes(self):
    """The classes a conditional model's networks take; 0 for an unconditional one."""
    return NUM_CLASSES[self.dataset] if self.conditional else 0

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


def differences(old, new, ignore=()):
  """{field: (old's value, new's value)} for every field but `ignore` where Config new differs from old: the
  one comparison of configs (a resume's changes, a run against its source, a record against its row). A
  data_dir is compared as the folder it names."""
  def value(config, name):
    v = getattr(config, name)
    return os.path.realpath(v) if name == "data_dir" and v else v
  return {f.name: (getattr(old, f.name), getattr(new, f.name)) for f in dataclasses.fields(Config)
          if f.name not in ignore and value(old, f.name) != value(new, f.name)}
