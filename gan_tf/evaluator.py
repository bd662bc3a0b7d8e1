"""The evaluator: a small CNN trained on the real dataset stands in for Inception (nothing downloaded).

Fashion-MNIST's and offline MNIST's ship with the package (gan_tf/evaluators/: weights and a record with
their sha256, checked at load), so every machine scores with the same weights; `make evaluator` rebuilds
one. Other datasets, splits or specs train once and are cached in $GAN_TF_CACHE (default
~/.cache/gan_tf/evaluators). Samples are scored against its held-out split (the test split, or
test[80%:] where only the test split exists: offline MNIST, whose evaluator trains on test[:80%]); a
stacked dataset's evaluator is its grey dataset's. Scoring samples with it is gan_tf.scoring's.
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
from absl import logging
from keras import layers

from gan_tf import data, files
from gan_tf.errors import UserError
from gan_tf.sampling import to_float

CACHE_ENV = "GAN_TF_CACHE"
SHIPPED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "evaluators")
# Part of the cache key: bump it when build_classifier or train_classifier change what they make.
EVALUATOR_VERSION = 1
_F32 = {"dtype": "float32"}   # the GAN may run under a mixed policy; the evaluator's numbers must not


@dataclasses.dataclass(frozen=True)
class EvaluatorSpec:
  """The evaluator's network and training; part of its cache key, so a change trains a new one."""
  widths: tuple = (32, 64)     # filters of the two conv blocks
  features: int = 128          # the penultimate layer, where FD and KID are measured
  dropout: float = 0.25        # before the logits
  shift: int = 0               # random translation of up to this many pixels
  steps: int = 2500            # Adam steps: 5.3 epochs of Fashion-MNIST, 40 of MNIST's test[:80%]
  batch_size: int = 128
  learning_rate: float = 2e-3  # Adam's peak rate, cosine-decayed to 0 over the steps
  seed: int = 0


# For 8,000 training images (MNIST's test[:80%]): shifts and stronger dropout stand in for more data.
SMALL_DATA_SPEC = EvaluatorSpec(dropout=0.5, shift=2)


@dataclasses.dataclass
class Evaluator:
  """A trained classifier as images -> (features, logits), and its record (splits, test accuracy, ...)."""
  model: keras.Model
  info: dict

  def embed(self, images, batch_size=500):
    """(features, logits) as float64 arrays of uint8 pixels or float images in [-1, 1]."""
    images = np.asarray(images)
    images = to_float(images) if images.dtype == np.uint8 else images.astype(np.float32)
    features, logits = [], []
    for start in range(0, len(images), batch_size):
      batch_features, batch_logits = self.model(images[start:start + batch_size], training=False)
      features.append(batch_features.numpy())
      logits.append(batch_logits.numpy())
    return np.concatenate(features).astype(np.float64), np.concatenate(logits).astype(np.float64)


def default_cache_dir():
  """$GAN_TF_CACHE, else ~/.cache/gan_tf/evaluators."""
  return os.environ.get(CACHE_ENV) or os.path.expanduser(os.path.join("~", ".cache", "gan_tf", "evaluators"))


def evaluator_splits(config):
  """(train split, reference split): train/test, or test[:80%]/test[80%:] where only test files exist."""
  folder = data.idx_dir(data.channel_config(config))
  if folder and "train" not in data.available_splits(folder):
    return "test[:80%]", "test[80%:]"
  return "train", "test"


def default_spec(config):
  """SMALL_DATA_SPEC where the evaluator trains on part of the test split, else EvaluatorSpec()."""
  return EvaluatorSpec() if evaluator_splits(config)[0] == "train" else SMALL_DATA_SPEC


class EvaluatorError(UserError, ValueError):
  """An evaluator's weights are not the ones its record names."""


def evaluator_paths(config, cache_dir=None, spec=None):
  """(.keras path, .json path) of config's dataset's evaluator in cache_dir (default: the cache; SHIPPED_DIR
  for the shipped ones), keyed by dataset, splits and spec."""
  config = data.channel_config(config)
  spec = spec or default_spec(config)
  train_split, eval_split = evaluator_splits(config)
  identity = {"dataset": config.dataset, "train_split": train_split, "eval_split": eval_split,
              "spec": dataclasses.asdict(spec), "version": EVALUATOR_VERSION}
  digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
  base = os.path.join(cache_dir or default_cache_dir(), f"{config.dataset}-{digest}")
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
  # BN before this ReLU keeps the units alive: without it most died, leaving FD and KID a handful.
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
             .map(lambda x, y: (to_float(x), y)))
  options = tf.data.Options()
  options.autotune.enabled = False   # its epoch-end back-off stalls (STYLE.md); one iterator runs anyway
  return dataset.with_options(options)


def two_headed(classifier):
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
  files.atomic_write(info_path, (json.dumps(dict(evaluator.info, sha256=sha256(model_path)), indent=2,
                                            sort_keys=True) + "\n").encode())


def find_evaluator(config, cache_dir=None, spec=None, shipped=True):
  """(.keras path, .json path) of config's evaluator: the shipped one if there is one (and shipped), else the
  cache's, which may not exist yet."""
  if shipped:
    paths = evaluator_paths(config, SHIPPED_DIR, spec)
    if all(os.path.exists(p) for p in paths):
      return paths
  return evaluator_paths(config, cache_dir, spec)


def sha256(path):
  with open(path, "rb") as f:
    return hashlib.sha256(f.read()).hexdigest()


def check_data(config, cache_dir=None, spec=None):
  """Raises DataError now, before a run writes anything, if config's evaluator will lack a split it needs:
  the reference split, and the training split when no evaluator is shipped or cached."""
  config = data.channel_config(config)
  train_split, eval_split = evaluator_splits(config)
  ready = all(os.path.exists(p) for p in find_evaluator(config, cache_dir, spec))
  for split in [eval_split] if ready else [train_split, eval_split]:
    try:
      data.load_images(config, split)
    except data.DataError as e:
      raise data.DataError(f"--eval_every needs the evaluator's {split!r} split: {e}; set --eval_every=0 "
                           "or point --data_dir at a folder that holds it") from e


def load_evaluator(config, cache_dir=None, spec=None, shipped=True):
  """config's (grey) dataset's Evaluator: the shipped one, else the cache's, else one trained, tested and
  cached now. A record's sha256 must be its weights' (EvaluatorError otherwise)."""
  config = data.channel_config(config)
  spec = spec or default_spec(config)
  model_path, info_path = find_evaluator(config, cache_dir, spec, shipped)
  if os.path.exists(info_path) and os.path.exists(model_path):
    with open(info_path) as f:
      info = json.load(f)
    digest = sha256(model_path)
    if info.get("sha256", digest) != digest:
      raise EvaluatorError(f"{model_path}: its sha256 {digest[:12]}... is not the {info['sha256'][:12]}... its "
                           f"record {os.path.basename(info_path)} names: the file is damaged or replaced; restore "
                           "it (git checkout, for a shipped one) or delete both files to train a new one")
    model = keras.models.load_model(model_path, compile=False)
    logging.info("Evaluator %s (sha256 %s): test accuracy %.4f", model_path, digest[:12], info["test_accuracy"])
    return Evaluator(model, dict(info, path=model_path, sha256=digest, trained_now=False,
                                 shipped=os.path.dirname(model_path) == SHIPPED_DIR))
  train_split, eval_split = evaluator_splits(config)
  train_images, train_labels = data.load_images(config, train_split)
  test_images, test_labels = data.load_images(config, eval_split)
  logging.info("Training the evaluator for %s on %s (%d images), testing on %s (%d); cache: %s",
               data.describe(config), train_split, len(train_images), eval_split,
               len(test_images), model_path)
  start = time.perf_counter()
  classifier = train_classifier(train_images, train_labels, spec)
  seconds = time.perf_counter() - start
  # The uncompiled two-output view is what is saved: the same weights, without the optimizer's state.
  evaluator = Evaluator(two_headed(classifier), {})
  evaluator.info = {
      "dataset": config.dataset, "data_files": data_files(config),
      "train_split": train_split, "eval_split": eval_split,
      "train_examples": len(train_images), "eval_examples": len(test_images),
      "num_classes": int(classifier.output_shape[-1]),
      "test_accuracy": accuracy(evaluator, test_images, test_labels),
      "train_seconds": round(seconds, 1), "spec": dataclasses.asdict(spec),
      "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
  }
  save_evaluator(evaluator, model_path, info_path)
  logging.info("Evaluator trained in %.0f s: test accuracy %.4f on %s", seconds,
               evaluator.info["test_accuracy"], eval_split)
  evaluator.info.update(path=model_path, sha256=sha256(model_path), trained_now=True, shipped=False)
  return evaluator


def data_files(config):
  """{file name: sha256} of the IDX files the evaluator's data comes from ({} for tfds)."""
  folder = data.idx_dir(config)
  if not folder:
    return {}
  names = sorted(n for n in os.listdir(folder) if "idx" in n)
  return {name: sha256(os.path.join(folder, name)) for name in names}
