"""Offline sample quality: a small CNN trained on the dataset stands in for Inception (nothing downloaded).

Run: `python -m gan_tf.evaluate --run=runs/mlp-... [--n=10000 --seed=0]` (or `--model=SAVEDMODEL_DIR`, or
`make eval RUN=...`); prints one JSON line. A dataset's first evaluation trains its evaluator and caches it
in --cache_dir (default $GAN_TF_CACHE, else ~/.cache/gan_tf/evaluators); later ones load it in a second.
Expect: Fashion-MNIST evaluator 92.6% test accuracy (2500 Adam steps = 5.3 epochs; 12 min on 2 CPU cores
shared with another training); MNIST from its test split alone: 99.45% on test[80%:] (10 min).

The figures compare n samples with the evaluator's held-out split, the "reference" (Fashion-MNIST: test;
offline MNIST, where only the test split exists: the evaluator trains on test[:80%], the reference is
test[80%:]):
  classifier_score     exp(E_x KL(p(y|x) || p(y))), the Inception Score's formula: 1 to 10, higher is better
  effective_classes    exp(H(p(y))): classes the samples spread over (10 when balanced); the score is
  classes_per_sample   exp(E_x H(p(y|x))): classes one sample looks like (1: unmistakable); their ratio
  frechet_features     Fréchet distance of Gaussians fitted to the 128-d penultimate features (FID's formula)
  frechet_logits       the same on the 10 logits
  kid_mean, kid_std    KID: unbiased MMD^2 with a cubic polynomial kernel on the features, over subsets
  histogram, coverage  argmax class counts; the number of classes holding >= 2% of the samples
`real_floor` holds the same figures for n real images of the evaluator's training split (what a GAN learns
from) against the reference: what a generator that reproduced its training data would score. At n=10,000
on Fashion-MNIST: classifier score 8.78, FD 0.17 (features) and 0.08 (logits), KID 0.000 +- 0.003, coverage
10. MNIST's floor is higher (FD 2.2, KID 0.02, n=8000): its real images are the evaluator's own training
images, and its reference is the test set's harder last 2000 digits. FD grows as n shrinks (Fashion-MNIST's
floor is 0.56 at n=2000), so compare runs at the same n.
"""
import dataclasses
import hashlib
import itertools
import json
import math
import os
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags, logging
from keras import layers

from gan_tf import data, export, files, generate
from gan_tf.config import Config
from gan_tf.errors import run_main

CACHE_ENV = "GAN_TF_CACHE"
DEFAULT_N = 10_000
SAMPLE_BATCH = 1000     # images per generator call: dcgan's 14x14x128 activations are then 100 MB a layer
COVERAGE_FRACTION = 0.02   # a class "is covered" if it holds 2% of the samples (uniform is 10%)
# Part of the cache key: bump it when build_classifier or train_classifier change what they make.
EVALUATOR_VERSION = 1
_F32 = {"dtype": "float32"}   # the GAN may run under a mixed policy; the evaluator's numbers must not


@dataclasses.dataclass(frozen=True)
class EvaluatorSpec:
  """The evaluator's network and training; part of its cache key, so a change trains a new one."""
  widths: tuple = (32, 64)     # filters of the two conv blocks
  features: int = 128          # the penultimate layer, where FD and KID are measured
  dropout: float = 0.25        # before the logits; 0.5 (+0.25 after the convs, shifts): Fashion 90.4%
  shift: int = 0               # random translation of up to this many pixels
  steps: int = 2500            # Adam steps: 5.3 epochs of Fashion-MNIST, 40 of MNIST's test[:80%]
  batch_size: int = 128
  learning_rate: float = 2e-3  # Adam's peak rate, cosine-decayed to 0 over the steps
  seed: int = 0


# The test-only fallback learns from 8000 images: shifts and stronger dropout stand in for the missing
# data (MNIST: 99.45% on test[80%:]).
SMALL_DATA_SPEC = EvaluatorSpec(dropout=0.5, shift=2)


@dataclasses.dataclass
class Evaluator:
  """A trained classifier as images -> (features, logits), and its record (splits, test accuracy, ...)."""
  model: keras.Model
  info: dict

  def embed(self, images, batch_size=500):
    """(features, logits) as float64 arrays of uint8 pixels or float images in [-1, 1]."""
    images = np.asarray(images)
    features, logits = [], []
    for start in range(0, len(images), batch_size):
      batch_features, batch_logits = self.model(_to_float(images[start:start + batch_size]), training=False)
      features.append(batch_features.numpy())
      logits.append(batch_logits.numpy())
    return np.concatenate(features).astype(np.float64), np.concatenate(logits).astype(np.float64)


def _to_float(images):
  if images.dtype == np.uint8:
    return images.astype(np.float32) / 127.5 - 1.0   # data.make_dataset's scaling
  return images.astype(np.float32)


# --- metrics: pure functions of arrays, float64 ------------------------------------------------------

def softmax(logits):
  """Row-wise softmax in float64."""
  logits = np.asarray(logits, np.float64)
  e = np.exp(logits - logits.max(axis=1, keepdims=True))
  return e / e.sum(axis=1, keepdims=True)


def _entropy(p):
  """Row-wise entropy in nats of probabilities [..., classes], with 0 log 0 = 0."""
  with np.errstate(divide="ignore", invalid="ignore"):   # 0 log 0 = 0, masked below
    return -np.where(p > 0, p * np.log(p), 0.0).sum(axis=-1)


def classifier_score_factors(probabilities):
  """(effective_classes, classes_per_sample) of class probabilities [N, classes]: exp(H(p(y))), the
  number of equally used classes the samples spread over, and exp(E_x H(p(y|x))), the number of classes
  one sample looks like (1 where each is unmistakable). Their ratio is the classifier score, since
  E_x KL(p(y|x) || p(y)) = H(p(y)) - E_x H(p(y|x)): a low score is told apart as too few classes (the
  first falls) or unclear samples (the second rises)."""
  p = np.asarray(probabilities, np.float64)
  return float(np.exp(_entropy(p.mean(axis=0)))), float(np.exp(_entropy(p).mean()))


def classifier_score(probabilities):
  """exp(E_x[KL(p(y|x) || p(y))]) of class probabilities [N, classes]: 1 (no diversity) to classes."""
  effective_classes, classes_per_sample = classifier_score_factors(probabilities)
  return effective_classes / classes_per_sample


def gaussian_moments(x):
  """(mean, covariance) of the rows of x, in float64."""
  x = np.asarray(x, np.float64)
  if x.ndim != 2 or len(x) < 2:
    raise ValueError(f"need at least 2 row vectors, got shape {x.shape}")
  return x.mean(axis=0), np.cov(x, rowvar=False)


def _psd_sqrt(matrix):
  values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
  return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def gaussian_frechet_distance(mean1, cov1, mean2, cov2):
  """|m1 - m2|^2 + tr(C1 + C2 - 2 (C1^1/2 C2 C1^1/2)^1/2), the Fréchet distance of two Gaussians."""
  mean1, mean2 = np.asarray(mean1, np.float64), np.asarray(mean2, np.float64)
  cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(np.asarray(cov2, np.float64))
  # tr sqrt(C1 C2) = tr sqrt(C1^1/2 C2 C1^1/2): similar matrices, and the latter is symmetric PSD, so eigh
  # gives its square root's trace exactly (scipy's sqrtm on the non-symmetric product is not needed).
  root1 = _psd_sqrt(cov1)
  cross = root1 @ cov2 @ root1
  trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((cross + cross.T) / 2), 0.0, None)).sum()
  diff = mean1 - mean2
  distance = diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * trace_sqrt
  return float(max(distance, 0.0))   # rounding can leave -1e-13 for identical sets


def frechet_distance(x, y):
  """Fréchet distance between Gaussians fitted to two sets of row vectors (FID's formula)."""
  return gaussian_frechet_distance(*gaussian_moments(x), *gaussian_moments(y))


def kid(x, y, subsets=10, subset_size=1000, seed=0):
  """KID: (mean, std) over random subsets of the unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3."""
  x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
  m = min(subset_size, len(x), len(y))
  if m < 2:
    raise ValueError(f"KID needs subsets of at least 2 vectors; got {len(x)} and {len(y)}")
  rng = np.random.default_rng(seed)
  dim = x.shape[1]
  values = []
  for _ in range(subsets):
    a = x[rng.choice(len(x), m, replace=False)]
    b = y[rng.choice(len(y), m, replace=False)]
    k_aa = (a @ a.T / dim + 1.0) ** 3
    k_bb = (b @ b.T / dim + 1.0) ** 3
    k_ab = (a @ b.T / dim + 1.0) ** 3
    # Unbiased: the within-set sums leave out k(a_i, a_i).
    within = (k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (m * (m - 1))
    values.append(within - 2.0 * k_ab.mean())
  return float(np.mean(values)), float(np.std(values))


def class_histogram(logits, num_classes):
  """Number of rows of logits (or probabilities) whose argmax is each class."""
  return np.bincount(np.argmax(np.asarray(logits), axis=1), minlength=num_classes)


def mode_coverage(histogram, min_fraction=COVERAGE_FRACTION):
  """Number of classes holding at least min_fraction of the samples."""
  histogram = np.asarray(histogram)
  total = histogram.sum()
  return int(np.sum(histogram >= min_fraction * total)) if total else 0


def compare_embeddings(fake, real, kid_subsets=10, kid_subset_size=1000, seed=0):
  """All figures for fake vs real (features, logits) pairs, as a JSON-ready dict."""
  (fake_features, fake_logits), (real_features, real_logits) = fake, real
  histogram = class_histogram(fake_logits, real_logits.shape[1])
  kid_mean, kid_std = kid(fake_features, real_features, kid_subsets, kid_subset_size, seed)
  effective_classes, classes_per_sample = classifier_score_factors(softmax(fake_logits))
  return {
      "n": len(fake_features),
      "n_reference": len(real_features),
      "classifier_score": effective_classes / classes_per_sample,
      "effective_classes": effective_classes,
      "classes_per_sample": classes_per_sample,
      "frechet_features": frechet_distance(fake_features, real_features),
      "frechet_logits": frechet_distance(fake_logits, real_logits),
      "kid_mean": kid_mean,
      "kid_std": kid_std,
      "histogram": histogram.tolist(),
      "coverage": mode_coverage(histogram),
  }


def evaluate_images(evaluator, fake_images, real_images, **kwargs):
  """All figures for fake images (uint8, or float in [-1, 1]) against real ones; kwargs: KID's."""
  return compare_embeddings(evaluator.embed(fake_images), evaluator.embed(real_images), **kwargs)


def reference_embeddings(evaluator, config):
  """The evaluator's (features, logits) of config's dataset's held-out split: what samples are scored
  against."""
  return evaluator.embed(data.load_images(config, evaluator.info["eval_split"])[0])


def real_floor(evaluator, train_images, reference, n, seed=0, **kwargs):
  """The figures of n random real training images against reference, the reference split's (features,
  logits): what a generator that reproduced its training data would score."""
  chosen = np.random.default_rng(seed).choice(len(train_images), min(n, len(train_images)), replace=False)
  return compare_embeddings(evaluator.embed(train_images[np.sort(chosen)]), reference, seed=seed, **kwargs)


# --- the evaluator: training and cache ---------------------------------------------------------------

def default_cache_dir():
  """$GAN_TF_CACHE, else ~/.cache/gan_tf/evaluators."""
  return os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "gan_tf",
                                                   "evaluators")


def evaluator_splits(config):
  """(train split, reference split): train/test, or test[:80%]/test[80%:] where only test files exist."""
  if config.data_dir and "train" not in data.available_splits(config.data_dir):
    return "test[:80%]", "test[80%:]"
  return "train", "test"


def default_spec(config):
  """SMALL_DATA_SPEC where the evaluator trains on part of the test split, else EvaluatorSpec()."""
  return EvaluatorSpec() if evaluator_splits(config)[0] == "train" else SMALL_DATA_SPEC


def evaluator_paths(config, cache_dir=None, spec=None):
  """(.keras path, .json path) of config's dataset's evaluator, keyed by data identity, splits and spec."""
  spec = spec or default_spec(config)
  train_split, eval_split = evaluator_splits(config)
  identity = {"data": os.path.realpath(config.data_dir) if config.data_dir else f"tfds:{config.dataset}",
              "image_shape": list(config.image_shape), "train_split": train_split,
              "eval_split": eval_split, "spec": dataclasses.asdict(spec), "version": EVALUATOR_VERSION}
  digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
  base = os.path.join(cache_dir or default_cache_dir(), f"{data.data_name(config)}-{digest}")
  return base + ".keras", base + ".json"


def build_classifier(spec, image_shape, num_classes):
  """[-1, 1] images -> (Conv-BN-ReLU-MaxPool) x 2 -> Dense-BN-ReLU "features" -> Dense "logits"."""
  # Seeded layers, so training here never draws from (or disturbs) Keras's global seed in a GAN process.
  seeds = itertools.count(spec.seed * 100)
  images = keras.Input(image_shape, name="images")
  x = images
  if spec.shift:
    x = layers.RandomTranslation(spec.shift / image_shape[0], spec.shift / image_shape[1],
                                 fill_mode="constant", fill_value=-1.0, seed=next(seeds), **_F32)(x)
  for width in spec.widths:
    x = layers.Conv2D(width, 3, padding="same", use_bias=False,
                      kernel_initializer=keras.initializers.HeNormal(next(seeds)), **_F32)(x)
    x = layers.BatchNormalization(**_F32)(x)
    x = layers.ReLU(**_F32)(x)
    x = layers.MaxPooling2D(**_F32)(x)
  x = layers.Flatten(**_F32)(x)
  x = layers.Dense(spec.features, use_bias=False,
                   kernel_initializer=keras.initializers.HeNormal(next(seeds)), **_F32)(x)
  # BN before this ReLU keeps about half the units active; without it 95% of them died in training and
  # FD and KID were measured on a handful of features.
  x = layers.BatchNormalization(**_F32)(x)
  x = layers.ReLU(name="features", **_F32)(x)
  x = layers.Dropout(spec.dropout, seed=next(seeds), **_F32)(x)
  logits = layers.Dense(num_classes, name="logits",
                        kernel_initializer=keras.initializers.GlorotUniform(next(seeds)), **_F32)(x)
  return keras.Model(images, logits, name="evaluator")


def train_classifier(images, labels, spec=EvaluatorSpec(), num_classes=None):
  """A classifier (images -> logits) fitted to uint8 images and int labels for spec.steps Adam steps."""
  num_classes = num_classes or int(labels.max()) + 1
  model = build_classifier(spec, images.shape[1:], num_classes)
  log_points = min(10, spec.steps)   # fit's "epochs" are only log lines here: the data repeats
  steps_per_log = math.ceil(spec.steps / log_points)
  schedule = keras.optimizers.schedules.CosineDecay(spec.learning_rate, steps_per_log * log_points)
  model.compile(keras.optimizers.Adam(schedule),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"], jit_compile=False)   # XLA is slower for these convs on CPU

  def log(epoch, logs):
    logging.info("evaluator training: step %d/%d, loss %.4f, accuracy %.4f", (epoch + 1) * steps_per_log,
                 steps_per_log * log_points, logs["loss"], logs["accuracy"])
  # verbose=0: the command line's stdout is one JSON line; progress goes to the log instead.
  model.fit(_training_dataset(images, labels, spec), epochs=log_points, steps_per_epoch=steps_per_log,
            shuffle=False, verbose=0, callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=log)])
  return model


def _training_dataset(images, labels, spec):
  dataset = (tf.data.Dataset.from_tensor_slices((images, labels))
             .shuffle(len(images), seed=spec.seed, reshuffle_each_iteration=True)
             .repeat()
             .batch(spec.batch_size, drop_remainder=True)
             .map(lambda x, y: (tf.cast(x, tf.float32) / 127.5 - 1.0, y)))
  options = tf.data.Options()
  options.autotune.enabled = False   # its epoch-end back-off stalls (STYLE.md); one iterator runs anyway
  return dataset.with_options(options)


def _two_headed(classifier):
  return keras.Model(classifier.input,
                     [classifier.get_layer("features").output, classifier.outputs[0]])


def accuracy(evaluator, images, labels):
  """Fraction of images whose argmax class is their label."""
  _, logits = evaluator.embed(images)
  return float(np.mean(np.argmax(logits, axis=1) == np.asarray(labels)))


def save_evaluator(evaluator, model_path, info_path):
  """Writes the model and then its record, each atomically: a record means a complete cache entry."""
  with tempfile.TemporaryDirectory(prefix="gan_tf-evaluator-") as tmp:
    path = os.path.join(tmp, "evaluator.keras")   # Keras wants the suffix; the bytes then move atomically
    evaluator.model.save(path)
    with open(path, "rb") as f:
      files.atomic_write(model_path, f.read())
  files.atomic_write(info_path, (json.dumps(evaluator.info, indent=2, sort_keys=True) + "\n").encode())


def load_evaluator(config, cache_dir=None, spec=None):
  """config's dataset's Evaluator from the cache; trains, tests and caches it first if there is none."""
  spec = spec or default_spec(config)
  model_path, info_path = evaluator_paths(config, cache_dir, spec)
  if os.path.exists(info_path) and os.path.exists(model_path):
    with open(info_path) as f:
      info = json.load(f)
    model = keras.models.load_model(model_path, compile=False)
    logging.info("Evaluator %s: test accuracy %.4f on %s", model_path, info["test_accuracy"],
                 info["eval_split"])
    return Evaluator(model, dict(info, path=model_path, trained_now=False))
  train_split, eval_split = evaluator_splits(config)
  train_images, train_labels = data.load_images(config, train_split)
  test_images, test_labels = data.load_images(config, eval_split)
  logging.info("Training the evaluator for %s on %s (%d images), testing on %s (%d); cache: %s",
               config.data_dir or config.dataset, train_split, len(train_images), eval_split,
               len(test_images), model_path)
  start = time.perf_counter()
  classifier = train_classifier(train_images, train_labels, spec)
  seconds = time.perf_counter() - start
  # The uncompiled two-output view is what is saved: the same weights, without the optimizer's state.
  evaluator = Evaluator(_two_headed(classifier), {})
  evaluator.info = {
      "dataset": data.data_name(config),
      "data_dir": config.data_dir,
      "train_split": train_split,
      "eval_split": eval_split,
      "train_examples": len(train_images),
      "eval_examples": len(test_images),
      "num_classes": int(classifier.output_shape[-1]),
      "test_accuracy": accuracy(evaluator, test_images, test_labels),
      "train_seconds": round(seconds, 1),
      "spec": dataclasses.asdict(spec),
      "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
  }
  save_evaluator(evaluator, model_path, info_path)
  logging.info("Evaluator trained in %.0f s: test accuracy %.4f on %s", seconds,
               evaluator.info["test_accuracy"], eval_split)
  evaluator.info.update(path=model_path, trained_now=True)
  return evaluator


# --- sources of samples ------------------------------------------------------------------------------

def _chunks(n, seed, batch_size):
  """(size, seed) per generator call; the seeds are a pure function of seed, distinct per chunk."""
  count = math.ceil(n / batch_size)
  seeds = np.random.default_rng(seed).integers(0, 2**62, size=count)
  return [(min(batch_size, n - i * batch_size), int(s)) for i, s in enumerate(seeds)]


def sample_generator(generator, config, n=DEFAULT_N, seed=0, batch_size=SAMPLE_BATCH):
  """n uint8 samples of a Keras generator with z per config.noise: what its SavedModel's `sample` gives."""
  images = []
  for size, chunk_seed in _chunks(n, seed, batch_size):
    z = export.sample_noise(size, chunk_seed, config.latent_dim, config.noise)
    images.append(export.to_uint8(tf.cast(generator(z, training=False), tf.float32)).numpy())
  return np.concatenate(images)


def sample_saved_model(path, n=DEFAULT_N, seed=0, batch_size=SAMPLE_BATCH):
  """n uint8 samples from an exported SavedModel's `sample` signature."""
  sample = generate.load_sampler(path)
  return np.concatenate([
      sample(n=tf.constant(size, tf.int32), seed=tf.constant(chunk_seed, tf.int64))["images"].numpy()
      for size, chunk_seed in _chunks(n, seed, batch_size)])


def saved_model_config(path):
  """The Config a SavedModel was exported with (its assets.extra/gan_tf_config.json)."""
  config_path = os.path.join(path, "assets.extra", "gan_tf_config.json")
  if not os.path.isfile(os.path.join(path, "saved_model.pb")):
    raise generate.ModelError(f"{path}: no saved_model.pb; pass --model=<run>/saved_model or --run=<run>")
  if not os.path.isfile(config_path):
    raise generate.ModelError(f"{path}: no assets.extra/gan_tf_config.json; was it written by gan_tf.export?")
  with open(config_path) as f:
    return Config.from_json(f.read())


# --- during training ---------------------------------------------------------------------------------

_SCALARS = {"eval/classifier_score": "classifier_score", "eval/frechet_features": "frechet_features",
            "eval/frechet_logits": "frechet_logits", "eval/kid": "kid_mean", "eval/kid_std": "kid_std",
            "eval/coverage": "coverage", "eval/effective_classes": "effective_classes",
            "eval/classes_per_sample": "classes_per_sample"}


class EvaluationCallback(keras.callbacks.Callback):
  """Every `every_epochs` epochs, scores n samples of model.sampler against the reference split as
  eval/* scalars at step epoch + 1, and warns when fewer than min_coverage classes are covered (collapse)."""

  def __init__(self, config, every_epochs, n=2000, writer=None, cache_dir=None, min_coverage=8, seed=0,
               spec=None):
    super().__init__()
    self.config, self.every_epochs, self.n, self.writer = config, every_epochs, n, writer
    self.cache_dir, self.min_coverage, self.seed, self.spec = cache_dir, min_coverage, seed, spec
    self.evaluator, self.reference = None, None
    self.results = {}   # epoch -> figures

  def on_train_begin(self, logs=None):
    if self.evaluator is None:   # once per callback: a resumed fit reuses it
      self.evaluator = load_evaluator(self.config, self.cache_dir, self.spec)
      self.reference = reference_embeddings(self.evaluator, self.config)

  def on_epoch_end(self, epoch, logs=None):
    if (epoch + 1) % self.every_epochs == 0:
      self.evaluate(epoch + 1)

  def evaluate(self, epoch):
    """Scores the generator now, logs the figures at step `epoch` and returns them."""
    # The same seed every time: the curves then compare one fixed set of z across epochs.
    fakes = sample_generator(self.model.sampler, self.config, self.n, self.seed)
    figures = compare_embeddings(self.evaluator.embed(fakes), self.reference, seed=self.seed)
    self.results[epoch] = figures
    if self.writer is not None:
      with self.writer.as_default(step=epoch):
        for tag, key in _SCALARS.items():
          tf.summary.scalar(tag, figures[key])
        tf.summary.scalar("eval/max_class_fraction", max(figures["histogram"]) / figures["n"])
      self.writer.flush()
    logging.info("Epoch %d: classifier score %.3f (%.2f effective classes / %.3f classes per sample), "
                 "FD features %.3f, KID %.5f, coverage %d, histogram %s", epoch, figures["classifier_score"],
                 figures["effective_classes"], figures["classes_per_sample"], figures["frechet_features"],
                 figures["kid_mean"], figures["coverage"], figures["histogram"])
    if figures["coverage"] < self.min_coverage:
      logging.warning("Epoch %d: samples cover only %d classes (>= %.0f%% of samples each; histogram %s): "
                      "mode collapse?", epoch, figures["coverage"], 100 * COVERAGE_FRACTION,
                      figures["histogram"])
    return figures


# --- command line ------------------------------------------------------------------------------------

def _samples(run, model, n, seed, live=False):
  """(config, uint8 samples, source) for --run or --model."""
  if run:
    path = os.path.join(run, export.EXPORT_DIR)
    if live or not os.path.exists(path):
      from gan_tf import train   # the run's config and checkpoint rebuild the generator
      config, generator = train.restore_generator(run, live)
      weights = ", live weights" if live else ""
      return config, sample_generator(generator, config, n, seed), f"{run} (latest checkpoint{weights})"
    model = path
  return saved_model_config(model), sample_saved_model(model, n, seed), model


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  f = flags.FLAGS
  if f.live and not f.run:
    raise app.UsageError("--live needs --run: a SavedModel holds only the weights it was exported with")
  config, fakes, source = _samples(f.run, f.model, f.n, f.seed, f.live)
  if f.data_dir is not None:
    config = config.replace(data_dir=f.data_dir)
  evaluator = load_evaluator(config, f.cache_dir)
  info = evaluator.info
  reference = reference_embeddings(evaluator, config)
  train_images, _ = data.load_images(config, info["train_split"])
  result = {"source": source, "experiment": config.name, "dataset": data.data_name(config),
            "data_dir": config.data_dir, "seed": f.seed,
            **compare_embeddings(evaluator.embed(fakes), reference, seed=f.seed),
            "reference_split": info["eval_split"],
            "real_floor": dict(real_floor(evaluator, train_images, reference, f.n, f.seed),
                               real_split=info["train_split"]),
            "evaluator": {k: info[k] for k in ("path", "test_accuracy", "train_split", "eval_split",
                                                "train_examples", "eval_examples", "trained_now",
                                                "train_seconds")}}
  print(json.dumps(result))


if __name__ == "__main__":
  flags.DEFINE_string("run", None, "A run's work dir: its saved_model/, else its latest checkpoint.")
  flags.DEFINE_string("model", None, "A SavedModel folder written by gan_tf.export.")
  flags.mark_flags_as_mutual_exclusive(["run", "model"], required=True)
  flags.DEFINE_integer("n", DEFAULT_N, "Samples to score (and real images for the floor).", lower_bound=2)
  flags.DEFINE_string("data_dir", None, "IDX folder of the real data; default: the one the run trained on.")
  flags.DEFINE_string("cache_dir", None, f"Evaluators' folder; default ${CACHE_ENV}, else "
                      "~/.cache/gan_tf/evaluators.")
  flags.DEFINE_integer("seed", 0, "Seed of the samples' z and of the real and KID subsets.")
  flags.DEFINE_bool("live", False, "With --run: score G's trained weights from the checkpoint, not the "
                    "weight average (--g_ema) the run samples and exports with.")
  run_main(main)
