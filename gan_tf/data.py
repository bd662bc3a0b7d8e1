"""Training data: tfds (online) or IDX .gz files (offline) -> tf.data of float32 [B, 28, 28, C] in [-1, 1];
C is 3 for Stacked MNIST (docs/data.md), else 1. Both sources give uint8 arrays held in memory; each epoch's
order is a stateless permutation seeded by (seed, epoch), a pure function of the step: a resumed run sees
exactly the batches an uninterrupted one would, and no shuffle buffer refills (and stalls) at epoch ends.
"""
import gzip
import os
import types
import zlib

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from absl import logging

from gan_tf.errors import UserError
from gan_tf.config import IMAGE_SHAPE, NUM_CLASSES, STACKED
from gan_tf.sampling import to_float

STACKED_SEED = 0   # the stacked set is one fixed draw, the same for every run seed and machine
# Where a dataset's IDX files are found offline when --data_dir is not given: Debian's package.
OFFLINE_DIRS = {"fashion_mnist": "/usr/share/datasets/fashion-mnist"}
# The first labels of a split's file tell which dataset an IDX folder holds.
FINGERPRINTS = {
    ("train", (5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5)): "mnist",
    ("test", (7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6)): "mnist",
    ("train", (9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9)): "fashion_mnist",
    ("test", (9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5)): "fashion_mnist",
}

IMAGE_MAGIC = 0x00000803    # IDX: unsigned byte, 3 dimensions
LABEL_MAGIC = 0x00000801    # IDX: unsigned byte, 1 dimension
MAX_EXAMPLES = 1_000_000    # refuse headers that claim more, before allocating anything
IDX_PREFIX = {"train": "train", "test": "t10k"}   # split name -> file prefix of the IDX distribution


class DataError(UserError, ValueError):
  """A data file or split is missing, corrupt or not what the pipeline expects."""


def parse_idx(raw, name="<bytes>"):
  """Decodes one uncompressed IDX file (images or labels) into a uint8 array, checking every field."""
  if len(raw) < 8:
    raise DataError(f"{name}: {len(raw)} bytes, too short for an IDX header")
  magic = int.from_bytes(raw[:4], "big")
  if magic not in (IMAGE_MAGIC, LABEL_MAGIC):
    raise DataError(f"{name}: IDX magic number 0x{magic:08x}, expected 0x{IMAGE_MAGIC:08x} (images) "
                    f"or 0x{LABEL_MAGIC:08x} (labels)")
  ndim = magic & 0xFF
  header = 4 + 4 * ndim
  if len(raw) < header:
    raise DataError(f"{name}: truncated IDX header ({len(raw)} of {header} bytes)")
  dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
  if dims[0] > MAX_EXAMPLES:
    raise DataError(f"{name}: header claims {dims[0]} examples, more than the {MAX_EXAMPLES} allowed")
  if ndim == 3 and tuple(dims[1:]) != IMAGE_SHAPE[:2]:
    raise DataError(f"{name}: images are {dims[1]}x{dims[2]}, expected {IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]}")
  expected = int(np.prod(dims))
  if len(raw) - header != expected:
    raise DataError(f"{name}: {len(raw) - header} bytes of data, the header {dims} needs {expected} "
                    "(truncated or corrupt file)")
  return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_idx(path):
  """Reads a .gz (or plain) IDX file; any problem is a DataError naming the file."""
  if not os.path.isfile(path):
    raise DataError(f"{path}: file not found")
  try:
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
      raw = f.read(16 + MAX_EXAMPLES * int(np.prod(IMAGE_SHAPE)) + 1)   # a gzip bomb stops here
  except (OSError, EOFError, zlib.error) as e:   # gzip.BadGzipFile is an OSError
    raise DataError(f"{path}: cannot decompress ({e}); the file is truncated, corrupt or not gzip") from e
  return parse_idx(raw, path)


def _idx_files(data_dir, split):
  prefix = IDX_PREFIX[split]
  paths = []
  for kind in ("images-idx3", "labels-idx1"):
    base = os.path.join(data_dir, f"{prefix}-{kind}-ubyte")
    paths.append(base + ".gz" if os.path.exists(base + ".gz") or not os.path.exists(base) else base)
  return paths


def available_splits(data_dir):
  """The splits whose image file is present in data_dir."""
  if not os.path.isdir(data_dir):
    raise DataError(f"data_dir {data_dir!r} is not a folder; point --data_dir at the IDX .gz files "
                    "(e.g. /usr/share/datasets/fashion-mnist from the dataset-fashion-mnist package)")
  splits = [s for s in IDX_PREFIX if os.path.exists(_idx_files(data_dir, s)[0])]
  if not splits:
    raise DataError(f"{data_dir}: no IDX files found (expected train-images-idx3-ubyte.gz and/or "
                    "t10k-images-idx3-ubyte.gz)")
  return splits


def _read_idx_split(data_dir, split):
  images_path, labels_path = _idx_files(data_dir, split)
  images, labels = read_idx(images_path), read_idx(labels_path)
  if images.ndim != 3 or labels.ndim != 1:
    raise DataError(f"{images_path} / {labels_path}: expected an image file and a label file")
  if len(images) != len(labels):
    raise DataError(f"{images_path}: {len(images)} images but {labels_path} has {len(labels)} labels")
  return images, labels


def _load_idx(data_dir, split, dataset):
  available = available_splits(data_dir)
  try:
    infos = {s: types.SimpleNamespace(num_examples=len(read_idx(_idx_files(data_dir, s)[1])))
             for s in available}
    instructions = tfds.core.ReadInstruction.from_spec(split).to_absolute(infos)
  except (ValueError, AssertionError) as e:
    raise DataError(f"split {split!r} for {data_dir}: {str(e).splitlines()[0]} "
                    f"(files here give splits {available})") from e
  parts = {s: _read_idx_split(data_dir, s) for s in {i.splitname for i in instructions}}
  for name, (_, labels) in parts.items():
    found = FINGERPRINTS.get((name, tuple(labels[:12].tolist())))
    if found and found != dataset:
      raise DataError(f"{data_dir} holds {found} (by its {name} labels), not dataset={dataset!r}: pass "
                      f"--dataset={found}, or --data_dir=<a folder of {dataset}'s IDX files>")
  images = np.concatenate([parts[i.splitname][0][i.from_:i.to] for i in instructions])
  labels = np.concatenate([parts[i.splitname][1][i.from_:i.to] for i in instructions])
  return images, labels


def idx_dir(config):
  """config's IDX folder: data_dir, else the dataset's OFFLINE_DIRS folder where present; "": tfds.load."""
  if config.data_dir:
    return config.data_dir
  folder = OFFLINE_DIRS.get(config.dataset, "")
  return folder if os.path.isdir(folder) else ""


def channel_config(config):
  """The config of the grey dataset a stacked dataset's channels come from (config itself otherwise): its
  evaluator reads each channel."""
  return config.replace(dataset=STACKED[config.dataset][0]) if config.dataset in STACKED else config


def describe(config):
  """Where config's images come from, in words, for logs."""
  folder = idx_dir(config)
  base = channel_config(config).dataset
  source = f"{base} from the IDX files in {folder}" if folder else f"{base} from tfds"
  if config.dataset in STACKED:
    return f"{config.dataset} ({config.stacked_size:,} stacks of {STACKED[config.dataset][1]} digits of {source})"
  return source


def _stacked(config, split):
  """(images [N, 28, 28, C], modes [N]): stacked_size stacks of grey images drawn with replacement from all
  splits to hand (PacGAN draws from MNIST's train and test), labelled the number their labels spell."""
  base = channel_config(config)
  folder = idx_dir(base)
  splits = available_splits(folder) if folder else ["train", "test"]
  digits, digit_labels = load_images(base, "+".join(splits))
  channels = STACKED[config.dataset][1]
  picks = np.random.default_rng(STACKED_SEED).integers(0, len(digits), (config.stacked_size, channels))
  try:
    chosen, = tfds.core.ReadInstruction.from_spec(split).to_absolute(
        {"train": types.SimpleNamespace(num_examples=config.stacked_size)})
  except (ValueError, AssertionError) as e:
    raise DataError(f"split {split!r} of {config.dataset}: {str(e).splitlines()[0]} (its one split is "
                    f"'train', {config.stacked_size:,} stacks; e.g. train[:90%])") from e
  picks = picks[chosen.from_:chosen.to]
  images = np.moveaxis(digits[picks, ..., 0], 1, -1)   # [N, C, 28, 28] -> [N, 28, 28, C]
  modes = (digit_labels[picks] * 10 ** np.arange(channels - 1, -1, -1)).sum(axis=1)
  return images, modes


def load_images(config, split=None):
  """The split as (uint8 images [N, 28, 28, C], int64 labels [N]), from IDX files or tfds."""
  split = split or config.split
  folder = idx_dir(config)
  if config.dataset in STACKED:
    images, labels = _stacked(config, split)
  elif folder:
    images, labels = _load_idx(folder, split, config.dataset)
  else:
    images, labels = _load_tfds(config.dataset, split)
  images = np.asarray(images, np.uint8).reshape((-1,) + config.image_shape)
  if len(images) == 0:
    raise DataError(f"split {split!r} of {folder or config.dataset} selects no images")
  labels = np.asarray(labels, np.int64)
  classes = NUM_CLASSES[config.dataset]
  if labels.min() < 0 or labels.max() >= classes:
    raise DataError(f"{folder or config.dataset}: label {int(labels.max())} outside {config.dataset}'s "
                    f"{classes} classes (0 to {classes - 1}); is --dataset right?")
  return images, labels


def _load_tfds(dataset, split):
  builder = tfds.builder(dataset)
  if not builder.is_prepared():
    logging.warning("tfds downloads %s to %s now; without network that fails after some minutes of retries "
                    "(--data_dir=<a folder of IDX .gz files> reads local files instead)", dataset,
                    builder.data_dir)
  try:
    loaded = tfds.load(dataset, split=split, as_supervised=True)
  except OSError as e:   # requests' ConnectionError among them: tfds could not download it
    raise DataError(
        f"tfds.load({dataset!r}) failed ({type(e).__name__}: no network?); offline, pass --data_dir=<a "
        f"folder of {dataset}'s IDX .gz files>, install Debian's dataset-fashion-mnist for fashion_mnist, "
        "or set TFDS_DATA_DIR to a tfds data dir prepared elsewhere") from e
  batches = list(tfds.as_numpy(loaded.batch(10_000)))   # not batch_size=-1: needs a known size
  if not batches:
    return np.zeros((0,), np.uint8), np.zeros((0,), np.int64)
  return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])


def _full_steps(config, num_images):
  per_step = config.batch_size * config.d_steps
  if num_images < per_step:
    raise DataError(f"the split has {num_images} images, fewer than one step needs "
                    f"(batch_size {config.batch_size} x d_steps {config.d_steps})")
  return num_images // per_step


def steps_per_execution(config, num_images):
  """Of [S/2, S] (S = config.steps_per_execution), the count that divides an epoch best: Keras runs whole
  executions, so an epoch is made a multiple of it, skipping a batch or two at most (468 steps -> 78)."""
  steps = _full_steps(config, num_images)
  high = min(config.steps_per_execution, steps)
  return min(range((high + 1) // 2, high + 1), key=lambda s: (steps % s, -s))


def steps_per_epoch(config, num_images):
  """Train steps (of d_steps real batches each) in one pass over num_images, in whole executions."""
  steps = _full_steps(config, num_images)
  return steps - steps % steps_per_execution(config, num_images)


def make_dataset(config, images, start_step=0, labels=None):
  """tf.data of the run's batches, float32 [d_steps * batch_size, 28, 28, C] in [-1, 1], from start_step;
  for a conditional config, (images, int32 labels [d_steps * batch_size]) pairs."""
  per_step = config.batch_size * config.d_steps
  steps = steps_per_epoch(config, len(images))
  pixels = tf.constant(images)
  classes = tf.constant(np.asarray(labels, np.int32)) if config.conditional else None

  def batch(indices):
    real = to_float(tf.gather(pixels, indices))
    return (real, tf.gather(classes, indices)) if config.conditional else real

  def epoch_batches(epoch):
    keys = tf.random.stateless_uniform([len(images)], seed=tf.stack([tf.cast(config.seed, tf.int64),
                                                                     epoch]))
    order = tf.argsort(keys)[:steps * per_step]
    return tf.data.Dataset.from_tensor_slices(tf.reshape(order, [steps, per_step]))

  dataset = (tf.data.Dataset.range(start_step // steps, config.epochs)
             .flat_map(epoch_batches)
             .skip(start_step % steps)
             # Sequential: a gather and a scale per batch is too little work to hand to other threads.
             .map(batch)
             .prefetch(tf.data.AUTOTUNE))
  options = tf.data.Options()
  options.deterministic = True
  return dataset.with_options(options)
