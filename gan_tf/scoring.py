"""Scoring samples against a Reference, the evaluator's held-out split of the run's dataset embedded once:
`make eval`, the in-training evaluation, CAS, the copy check and the results tool all score through it. A
stacked dataset's images are read channel by channel by its grey dataset's evaluator.
"""
import dataclasses
import time

import numpy as np

from gan_tf import data, evaluator as evaluator_lib, images as images_lib, metrics, sampling
from gan_tf.config import STACKED
from gan_tf.sampling import to_float

STACKED_N = 26_000   # PacGAN's and VEEGAN's samples for counting Stacked MNIST's modes


@dataclasses.dataclass(frozen=True)
class Reference:
  """What a run is scored against: its dataset's evaluator, and the evaluator's held-out split as images,
  labels and (features, logits)."""
  evaluator: evaluator_lib.Evaluator
  images: np.ndarray
  labels: np.ndarray
  embeddings: tuple

  @property
  def sha256(self):
    return self.evaluator.info["sha256"]


def reference(config, cache_dir=None, spec=None):
  """config's Reference: its (grey) dataset's evaluator (shipped, cached or trained now) and held-out split."""
  evaluator = evaluator_lib.load_evaluator(config, cache_dir, spec)
  images, labels = data.load_images(data.channel_config(config), evaluator.info["eval_split"])
  return Reference(evaluator, images, labels, evaluator.embed(images))


def floor_images(reference, config):
  """(images, labels) a perfect generator would draw: the evaluator's training split, or a stacked run's
  own split of stacks."""
  if config.dataset in STACKED:
    return data.load_images(config)
  return data.load_images(config, reference.evaluator.info["train_split"])


def figures_of(reference, images, seed=0, fake_labels=None, bootstrap=0):
  """metrics.compare_embeddings' figures of uint8 images (with the labels asked for, the conditional ones too)
  and with bootstrap > 0 their 95% intervals; several channels are scored as grey images, and their modes."""
  images = np.asarray(images)
  channels = images.shape[-1]
  embedded = reference.evaluator.embed(images_lib.channels_side_by_side(images) if channels > 1 else images)
  real_labels = None if fake_labels is None else reference.labels
  figures = metrics.compare_embeddings(embedded, reference.embeddings, seed=seed, fake_labels=fake_labels,
                                       real_labels=real_labels)
  intervals = (metrics.bootstrap_intervals(embedded, reference.embeddings, bootstrap, seed=seed,
                                           fake_labels=fake_labels, real_labels=real_labels) if bootstrap else {})
  if channels > 1:
    classes = embedded[1].shape[1]
    modes, confident = metrics.stacked_modes(embedded[1].reshape(len(images), channels, classes))
    figures.update(metrics.mode_figures(modes, confident, classes ** channels), n=len(images),
                   channels_scored=len(images) * channels)
    if bootstrap:
      intervals.update(metrics.mode_intervals(confident, bootstrap, seed=seed))
  if bootstrap:
    figures.update(intervals=intervals, bootstrap_resamples=bootstrap)
  return figures


def score(reference, config, sample_fn, n, seed=0, bootstrap=0):
  """(figures, uint8 samples, their labels or None) of n samples of sample_fn(n, seed, label=None) against
  the reference. A conditional config's samples are n / classes of each class, scored on their labels too."""
  if not config.num_classes:
    fakes, labels = sample_fn(n, seed), None
  else:
    fakes, labels = sampling.sample_per_class(sample_fn, n, config.num_classes, seed)
  return figures_of(reference, fakes, seed, labels, bootstrap), fakes, labels


def real_floor(reference, images, n, seed=0, labels=None):
  """The figures of n random real training images (floor_images) against the reference: a perfect
  generator's, the floor; with their labels, the conditional figures too."""
  chosen = np.sort(np.random.default_rng(seed).choice(len(images), min(n, len(images)), replace=False))
  return figures_of(reference, images[chosen], seed, None if labels is None else np.asarray(labels)[chosen])


def classification_accuracy_score(reference, config, sample_fn, seed=0, n=None):
  """CAS (Ravuri & Vinyals 2019; Lesort et al. 2018's protocol): the evaluator's network trained as it was but
  on n generated labelled samples (default: as many as its real training images), tested on the reference
  split, against the same network trained on real images (the evaluator itself at its training set's size)."""
  info = reference.evaluator.info
  spec = evaluator_lib.EvaluatorSpec(**dict(info["spec"], widths=tuple(info["spec"]["widths"])))
  n = n or info["train_examples"]

  def accuracy_trained_on(images, labels):
    classifier = evaluator_lib.train_classifier(images, labels, spec, config.num_classes)
    return evaluator_lib.accuracy(evaluator_lib.Evaluator(evaluator_lib.two_headed(classifier), {}),
                                  reference.images, reference.labels)
  fakes, labels = sampling.sample_per_class(sample_fn, n, config.num_classes, seed)
  start = time.perf_counter()
  cas = accuracy_trained_on(fakes, labels)
  if n == info["train_examples"]:
    baseline = info["test_accuracy"]
  else:   # the same network on n real training images
    real, real_labels = data.load_images(config, info["train_split"])
    chosen = np.sort(np.random.default_rng(seed).choice(len(real), min(n, len(real)), replace=False))
    baseline = accuracy_trained_on(real[chosen], real_labels[chosen])
  return {"cas": cas, "real_baseline": baseline, "ratio": cas / baseline, "n": n,
          "test_split": info["eval_split"], "train_seconds": round(time.perf_counter() - start, 1)}


def copy_check(reference, samples, train_images, n=2000, seed=0):
  """(figures, samples used, pixel (distance, index) of each one's nearest training image): how close n
  samples come to the training images against n reference images (metrics.nearest_ratio), in two spaces."""
  n = min(n, len(samples), len(reference.images))
  rng = np.random.default_rng(seed)
  samples = samples[np.sort(rng.choice(len(samples), n, replace=False))]
  heldout = reference.images[np.sort(rng.choice(len(reference.images), n, replace=False))]
  spaces = {"pixels": lambda x: to_float(x).numpy().reshape(len(x), -1),
            "features": lambda x: reference.evaluator.embed(x)[0]}
  figures, pixel_nearest = {"n": n, "training_images": len(train_images)}, None
  for space, represent in spaces.items():
    pool = represent(train_images)
    sample_distances, nearest = metrics.nearest_neighbours(represent(samples), pool)
    heldout_distances, _ = metrics.nearest_neighbours(represent(heldout), pool)
    figures[space] = {"ratio": metrics.nearest_ratio(sample_distances, heldout_distances),
                      "samples_mean_distance": float(np.mean(sample_distances)),
                      "heldout_mean_distance": float(np.mean(heldout_distances))}
    if space == "pixels":
      pixel_nearest = (sample_distances, nearest)
  return figures, samples, pixel_nearest
