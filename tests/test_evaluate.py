"""The sample-quality evaluator: metrics against hand-derived numbers, the evaluator cache, the sources of
samples, the command line and the training callback, on synthetic IDX data (real data only where present)."""
import dataclasses
import gzip
import json
import logging
import os
import shutil
import subprocess
import sys
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import smoke
from gan_tf import data, evaluator as evaluator_lib, export, metrics, models, rundir, sampling, scoring
from gan_tf.config import IMAGE_SHAPE
from gan_tf.callbacks import EvaluationCallback, make_callbacks
from gan_tf.gan import build_gan

pytestmark = pytest.mark.xdist_group("evaluate")   # one worker builds the module fixture once
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Seconds, not minutes: the network and its training are as small as still learns the synthetic classes.
TINY = evaluator_lib.EvaluatorSpec(widths=(4, 8), features=16, shift=0, steps=30, batch_size=32)


def _write_idx(path, array):
  magic = 0x803 if array.ndim == 3 else 0x801
  header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
  with gzip.open(path, "wb") as f:
    f.write(header + array.astype(np.uint8).tobytes())


def _synthetic_data(folder, counts=(("train", 300), ("t10k", 100)), seed=0):
  """IDX files of 10 classes, each a bright 5x5 square at its own place on faint noise."""
  rng = np.random.default_rng(seed)
  os.makedirs(folder, exist_ok=True)
  for prefix, count in counts:
    labels = np.arange(count) % 10
    images = rng.integers(0, 60, (count, 28, 28))
    for i, k in enumerate(labels):
      row, col = (k // 5) * 14 + 4, (k % 5) * 5 + 1
      images[i, row:row + 5, col:col + 5] = 255
    _write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz"), images)
    _write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz"), labels)
  return str(folder)


def _config(data_dir, dataset="mnist"):
  return smoke(data_dir=data_dir, dataset=dataset)


def _constant_generator(config, value=0.5):
  """A generator whose every sample is the same image: complete mode collapse."""
  z = keras.Input((config.latent_dim,))
  x = keras.layers.Dense(28 * 28, kernel_initializer="zeros",
                         bias_initializer=keras.initializers.Constant(value), activation="tanh")(z)
  return keras.Model(z, keras.layers.Reshape(IMAGE_SHAPE)(x))


@pytest.fixture(scope="session")   # per worker: make test keeps the module on one (xdist_group)
def synthetic(tmp_path_factory):
  """A synthetic data dir, and a tiny evaluator for it cached under both TINY and the default spec."""
  folder = tmp_path_factory.mktemp("evaluate")
  config = _config(_synthetic_data(folder / "data"))
  cache = str(folder / "cache")
  evaluator = evaluator_lib.load_evaluator(config, cache, TINY)
  # The command line uses the default spec; a tiny model under its key stands in for minutes of training.
  evaluator_lib.save_evaluator(evaluator, *evaluator_lib.evaluator_paths(config, cache))
  reference = scoring.reference(config, cache, TINY)
  return types.SimpleNamespace(config=config, cache=cache, evaluator=evaluator, folder=folder, reference=reference,
                               evaluator_sha=evaluator_lib.sha256(evaluator_lib.evaluator_paths(config, cache)[0]))


# --- metrics -----------------------------------------------------------------------------------------

def test_frechet_distance_of_identical_sets_is_zero():
  x = np.random.default_rng(0).normal(size=(500, 16))
  assert metrics.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_of_diagonal_gaussians_is_closed_form():
  m1, m2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
  s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
  expected = np.sum((m1 - m2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))   # 7.25 + 5
  assert metrics.gaussian_frechet_distance(m1, np.diag(s1), m2, np.diag(s2)) == pytest.approx(
      expected, rel=1e-12)
  rng = np.random.default_rng(1)
  x = m1 + np.sqrt(s1) * rng.standard_normal((200_000, 3))
  y = m2 + np.sqrt(s2) * rng.standard_normal((200_000, 3))
  assert metrics.frechet_distance(x, y) == pytest.approx(expected, rel=0.01)


def test_frechet_distance_of_scaled_full_covariance_is_closed_form():
  # C2 = a^2 C1 gives tr sqrt(C1 C2) = a tr C1, so FD = |m1 - m2|^2 + (1 - a)^2 tr C1, for any full C1.
  a = np.random.default_rng(2).normal(size=(6, 6))
  c1 = a @ a.T
  m1, m2 = np.zeros(6), np.full(6, 0.5)
  assert metrics.gaussian_frechet_distance(m1, c1, m2, 9.0 * c1) == pytest.approx(
      6 * 0.25 + 4.0 * np.trace(c1), rel=1e-10)


def test_kid_of_same_distribution_is_near_zero_and_of_shifted_one_positive():
  rng = np.random.default_rng(3)
  x, y = rng.normal(size=(2000, 8)), rng.normal(size=(2000, 8))
  same_mean, same_std = metrics.kid(x, y, subsets=10, subset_size=500)
  shifted_mean, _ = metrics.kid(x, y + 1.0, subsets=10, subset_size=500)
  assert abs(same_mean) < 3 * same_std + 1e-3   # unbiased: zero in expectation
  assert shifted_mean > 0.1 and shifted_mean > 20 * abs(same_mean)


def test_classifier_score_is_num_classes_for_confident_uniform_predictions_and_one_for_identical():
  assert metrics.classifier_score(np.tile(np.eye(10), (7, 1))) == pytest.approx(10.0, rel=1e-12)
  identical = np.tile(np.linspace(1, 2, 10) / np.linspace(1, 2, 10).sum(), (50, 1))
  assert metrics.classifier_score(identical) == pytest.approx(1.0, rel=1e-12)
  assert metrics.classifier_score(metrics.softmax(np.zeros((5, 10)))) == pytest.approx(1.0)


def test_classifier_score_factors_separate_class_balance_from_sample_clarity():
  confident = np.tile(np.eye(10), (7, 1))
  assert metrics.classifier_score_factors(confident) == pytest.approx((10.0, 1.0), rel=1e-12)
  # Every sample a 50/50 blend of two classes, the pairs cycling over all 10: balanced, two classes each.
  blends = (np.eye(10) + np.roll(np.eye(10), 1, axis=1)) / 2
  assert metrics.classifier_score_factors(blends) == pytest.approx((10.0, 2.0), rel=1e-12)
  assert metrics.classifier_score(blends) == pytest.approx(5.0, rel=1e-12)
  # Confident samples of two classes only, 3:1: exp of the entropy of (0.75, 0.25), one class per sample.
  lopsided = np.eye(10)[[0, 0, 0, 1] * 5]
  expected = np.exp(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)))
  assert metrics.classifier_score_factors(lopsided) == pytest.approx((expected, 1.0), rel=1e-12)
  p = metrics.softmax(np.random.default_rng(5).normal(size=(200, 10)) * 3)
  effective, per_sample = metrics.classifier_score_factors(p)
  marginal = p.mean(axis=0)
  kl = (p * (np.log(p) - np.log(marginal))).sum(axis=1).mean()   # the score's own definition, by hand
  assert effective / per_sample == pytest.approx(np.exp(kl), rel=1e-12) == metrics.classifier_score(p)
  assert 1.0 < per_sample < effective <= 10.0


def test_class_histogram_sums_to_n_and_one_class_covers_one():
  logits = np.random.default_rng(4).normal(size=(300, 10))
  histogram = metrics.class_histogram(logits, 10)
  assert histogram.sum() == 300 and len(histogram) == 10
  one_class = np.zeros((40, 10))
  one_class[:, 3] = 5.0
  assert metrics.class_histogram(one_class, 10).tolist() == [0, 0, 0, 40, 0, 0, 0, 0, 0, 0]
  assert metrics.classes_covered(metrics.class_histogram(one_class, 10)) == 1


def test_classes_covered_counts_classes_at_or_above_two_percent():
  assert metrics.classes_covered([98, 2, 0]) == 2
  assert metrics.classes_covered([99, 1, 0]) == 1
  assert metrics.classes_covered([10] * 10) == 10


# --- the evaluator and its cache ---------------------------------------------------------------------

PRDC_FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data", "prdc")


def test_prdc_of_identical_sets_is_perfect_and_of_far_apart_sets_zero():
  real = np.random.default_rng(0).normal(size=(500, 8))
  same = metrics.prdc(real, real)
  assert (same["precision"], same["recall"], same["coverage"]) == (1.0, 1.0, 1.0)
  assert 0.8 < same["density"] < 1.2   # a point sits in about k of its own set's k-NN balls
  far = metrics.prdc(real, real + 1000.0)
  assert far == {"precision": 0.0, "density": 0.0, "recall": 0.0, "coverage": 0.0}


def test_prdc_of_a_case_worked_by_hand():
  """Real points 0..5 on a line; fakes 0.5, 1.5, 2.5 and an outlier at 100. Real k = 3 radii: 3, 2, 2, 2, 2, 3;
  k = 5: 5, 4, 3, 3, 4, 5. Three fakes lie in some k = 3 ball (precision 3/4), each in all six k = 5 balls
  (density 18 / (4 * 5)); every real has a fake in its k = 5 ball (coverage 1); the fakes' k = 3 radii are
  97.5-99.5 (the outlier is everyone's third neighbour), so every real lies in one (recall 1: Naeem et al.'s
  case against recall)."""
  real = np.arange(6.0)[:, None]
  fake = np.array([[0.5], [1.5], [2.5], [100.0]])
  assert metrics.prdc(real, fake) == pytest.approx(
      {"precision": 0.75, "density": 0.9, "recall": 1.0, "coverage": 1.0})


def test_prdc_matches_the_reference_implementation_on_its_fixture():
  path = os.path.join(PRDC_FIXTURE, "fixture.npz")
  if not os.path.exists(path):
    pytest.skip(f"no PRDC fixture at {path} (the shared data folder beside the checkout)")
  arrays = np.load(path)
  with open(os.path.join(PRDC_FIXTURE, "expected.json")) as f:
    expected = json.load(f)["expected"]
  ours = metrics.prdc(arrays["real"], arrays["fake"])
  for name, k in (("precision", 3), ("recall", 3), ("density", 5), ("coverage", 5)):
    assert ours[name] == pytest.approx(expected[f"k={k}"][name], abs=1e-6), name


def test_bootstrap_intervals_hold_the_estimate_and_repeat_with_their_seed():
  rng = np.random.default_rng(0)
  real = (rng.normal(size=(800, 6)), rng.normal(size=(800, 10)))
  fake = (rng.normal(size=(800, 6)) + 0.3, rng.normal(size=(800, 10)) * 3)
  figures = metrics.compare_embeddings(fake, real, kid_subset_size=200)
  intervals = metrics.bootstrap_intervals(fake, real, resamples=50, kid_subset_size=200)
  assert set(intervals) == {"classifier_score", "frechet_features", "kid_mean", "precision", "recall",
                            "density", "coverage"}
  for name in ("classifier_score", "frechet_features", "precision", "recall", "density", "coverage"):
    low, high = intervals[name]
    assert low <= figures[name] <= high and high - low < 0.5 * abs(figures[name]) + 0.05, name
  assert metrics.bootstrap_intervals(fake, real, resamples=50, kid_subset_size=200) == intervals
  assert metrics.bootstrap_intervals(fake, real, resamples=50, seed=1, kid_subset_size=200) != intervals


def test_evaluator_is_trained_once_then_loaded_from_cache(tmp_path, monkeypatch):
  config = _config(_synthetic_data(tmp_path / "data"))
  trainings = []
  train = evaluator_lib.train_classifier
  monkeypatch.setattr(evaluator_lib, "train_classifier",
                      lambda *a, **k: trainings.append(1) or train(*a, **k))
  first = evaluator_lib.load_evaluator(config, str(tmp_path / "cache"), TINY)
  model_path, info_path = evaluator_lib.evaluator_paths(config, str(tmp_path / "cache"), TINY)
  assert first.info["trained_now"] and os.path.exists(model_path) and os.path.exists(info_path)
  assert first.info["train_split"] == "train" and first.info["eval_split"] == "test"
  assert first.info["test_accuracy"] > 0.5   # the squares are easy; chance is 0.1
  second = evaluator_lib.load_evaluator(config, str(tmp_path / "cache"), TINY)
  assert len(trainings) == 1 and not second.info["trained_now"]
  images = np.random.default_rng(5).integers(0, 256, (7, 28, 28, 1), dtype=np.uint8)
  for a, b in zip(first.embed(images), second.embed(images)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
  features, logits = second.embed(images)
  assert features.shape == (7, 16) and logits.shape == (7, 10) and features.dtype == np.float64
  # Another spec is another evaluator.
  assert evaluator_lib.evaluator_paths(config, "c", TINY) != evaluator_lib.evaluator_paths(config, "c")


def test_test_only_data_dir_trains_on_first_80_percent_and_says_so(tmp_path):
  config = _config(_synthetic_data(tmp_path / "data", counts=(("t10k", 250),)))
  assert evaluator_lib.evaluator_splits(config) == ("test[:80%]", "test[80%:]")
  assert evaluator_lib.default_spec(config) == evaluator_lib.SMALL_DATA_SPEC
  info = evaluator_lib.load_evaluator(config, str(tmp_path / "cache"), TINY).info
  assert (info["train_split"], info["train_examples"]) == ("test[:80%]", 200)
  assert (info["eval_split"], info["eval_examples"]) == ("test[80%:]", 50)


def test_the_shipped_evaluator_loads_without_training_and_names_its_hash(tmp_path):
  """A test-only MNIST folder keys the shipped MNIST evaluator: it loads from gan_tf/evaluators/, its bytes'
  sha256 the one its record names, with no training and no cache (here on synthetic files)."""
  config = _config(_synthetic_data(tmp_path / "data", counts=(("t10k", 250),)))
  evaluator = evaluator_lib.load_evaluator(config, str(tmp_path / "empty-cache"))
  model_path, info_path = evaluator_lib.evaluator_paths(config, evaluator_lib.SHIPPED_DIR)
  with open(info_path) as f:
    record = json.load(f)
  assert evaluator.info["shipped"] and not evaluator.info["trained_now"] and evaluator.info["path"] == model_path
  assert evaluator.info["sha256"] == record["sha256"] == evaluator_lib.sha256(model_path)
  assert record["spec"] == json.loads(json.dumps(dataclasses.asdict(evaluator_lib.SMALL_DATA_SPEC)))
  assert record["test_accuracy"] >= 0.99
  assert not os.path.exists(tmp_path / "empty-cache")


def test_an_evaluator_whose_bytes_are_not_its_records_is_refused(tmp_path, monkeypatch):
  config = _config(_synthetic_data(tmp_path / "data", counts=(("t10k", 250),)))
  shipped = tmp_path / "shipped"
  shipped.mkdir()
  model_path, info_path = evaluator_lib.evaluator_paths(config, evaluator_lib.SHIPPED_DIR)
  for path in (model_path, info_path):
    shutil.copy(path, shipped)
  damaged = shipped / os.path.basename(model_path)
  raw = bytearray(damaged.read_bytes())
  raw[len(raw) // 2] ^= 0xFF
  damaged.write_bytes(bytes(raw))
  monkeypatch.setattr(evaluator_lib, "SHIPPED_DIR", str(shipped))
  with pytest.raises(evaluator_lib.EvaluatorError, match=r"its sha256 \w+\.\.\. is not the \w+\.\.\. its record"):
    evaluator_lib.load_evaluator(config, str(tmp_path / "cache"))


def test_cache_dir_defaults_to_environment_variable(monkeypatch):
  monkeypatch.setenv(evaluator_lib.CACHE_ENV, "/somewhere")
  assert evaluator_lib.default_cache_dir() == "/somewhere"
  monkeypatch.delenv(evaluator_lib.CACHE_ENV)
  assert evaluator_lib.default_cache_dir().endswith(os.path.join(".cache", "gan_tf", "evaluators"))


def test_real_data_against_itself_is_the_best_case(synthetic):
  reference, _ = data.load_images(synthetic.config, "test")
  embed = synthetic.evaluator.embed
  figures = metrics.compare_embeddings(embed(reference), embed(reference), kid_subset_size=50)
  assert figures["frechet_features"] == pytest.approx(0.0, abs=1e-6)
  assert figures["frechet_logits"] == pytest.approx(0.0, abs=1e-6)
  assert sum(figures["histogram"]) == figures["n"] == 100
  collapsed = metrics.compare_embeddings(embed(np.repeat(reference[:1], 100, axis=0)), embed(reference),
                                         kid_subset_size=50)
  assert collapsed["classes_covered"] == 1 and collapsed["classifier_score"] == pytest.approx(1.0)
  assert collapsed["effective_classes"] == pytest.approx(collapsed["classes_per_sample"])   # one p(y|x)
  assert collapsed["frechet_features"] > 1.0 and collapsed["kid_mean"] > figures["kid_mean"]


def test_float_images_in_minus_one_one_embed_like_their_uint8_pixels(synthetic):
  pixels = np.random.default_rng(6).integers(0, 256, (20, 28, 28, 1), dtype=np.uint8)
  as_float = pixels.astype(np.float32) / 127.5 - 1.0
  for a, b in zip(synthetic.evaluator.embed(pixels), synthetic.evaluator.embed(as_float)):
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_label_accuracy_and_intra_class_frechet_have_known_answers():
  rng = np.random.default_rng(0)
  labels = np.arange(400) % 4
  logits = np.eye(4)[labels] * 5.0
  assert metrics.label_accuracy(logits, labels) == 1.0
  assert metrics.label_accuracy(logits, (labels + 1) % 4) == 0.0
  logits[:100] = np.eye(4)[(labels[:100] + 1) % 4] * 5.0   # a quarter answered as the next class
  assert metrics.label_accuracy(logits, labels) == 0.75
  real = rng.normal(size=(400, 3))
  shifts = np.array([[0, 0, 0], [1, 0, 0], [0, 2, 0], [0, 0, 3]], np.float64)
  # Each class's fakes are its real rows moved by the class's shift: equal covariances, so FD = |shift|^2.
  mean, per_class = metrics.intra_class_frechet(real + shifts[labels], labels, real, labels)
  np.testing.assert_allclose([per_class[c] for c in range(4)], [0, 1, 4, 9], atol=1e-9)
  assert mean == pytest.approx(3.5)
  # Real rows asked for the wrong class: the pooled FD cannot see it, the intra-class FD does.
  classes = rng.normal(size=(400, 3)) + 4.0 * labels[:, None]
  assert metrics.frechet_distance(classes, classes) < 1e-9
  mislabelled, _ = metrics.intra_class_frechet(classes, (labels + 1) % 4, classes, labels)
  assert mislabelled == pytest.approx((3 * 3 * 4.0 ** 2 + 3 * 12.0 ** 2) / 4, rel=0.05)


def test_nearest_ratio_is_zero_for_training_rows_and_about_one_for_fresh_draws():
  rng = np.random.default_rng(1)
  train, fresh, heldout = rng.normal(size=(3000, 20)), rng.normal(size=(500, 20)), rng.normal(size=(500, 20))
  distances, indices = metrics.nearest_neighbours(train[:500], train)
  assert np.allclose(distances, 0.0, atol=1e-3) and indices.tolist() == list(range(500))
  brute = np.sqrt(((fresh[:50, None] - train[None]) ** 2).sum(-1))
  near, which = metrics.nearest_neighbours(fresh[:50], train, batch_size=7)
  np.testing.assert_allclose(near, brute.min(1), rtol=1e-4)
  assert which.tolist() == brute.argmin(1).tolist()
  heldout_distances = metrics.nearest_neighbours(heldout, train)[0]
  assert metrics.nearest_ratio(distances, heldout_distances) < 1e-3
  assert metrics.nearest_ratio(metrics.nearest_neighbours(fresh, train)[0], heldout_distances) == pytest.approx(
      1.0, abs=0.03)


def test_copy_check_tells_training_images_from_fresh_ones(synthetic, tmp_path):
  train_images, _ = data.load_images(synthetic.config, "train")
  fresh, _ = data.load_images(synthetic.config.replace(data_dir=_synthetic_data(tmp_path, seed=7)), "train")
  copies = scoring.copy_check(synthetic.reference, train_images, train_images, n=100)[0]
  assert copies["n"] == 100 and copies["pixels"]["ratio"] < 1e-3 and copies["features"]["ratio"] < 1e-3
  honest = scoring.copy_check(synthetic.reference, fresh, train_images, n=100)[0]
  assert honest["pixels"]["ratio"] == pytest.approx(1.0, abs=0.1)
  assert honest["features"]["ratio"] == pytest.approx(1.0, abs=0.25)


def _templates(config, shift=0):
  """For each label y, the first training image of class (y + shift) % 10."""
  images, labels = data.load_images(config, "train")
  return np.stack([images[labels == (c + shift) % 10][0] for c in range(10)])


def _template_generator(config, shift=0):
  """A conditional generator drawing, for label y, _templates(config, shift)[y] whatever z."""
  templates = _templates(config, shift).astype(np.float32)
  z = keras.Input((config.latent_dim,))
  y = keras.Input((10,))
  x = keras.layers.Dense(28 * 28, use_bias=False,
                         kernel_initializer=keras.initializers.Constant(
                             templates.reshape(10, -1) / 127.5 - 1.0))(y)
  x = keras.layers.Add()([x, keras.layers.Dense(28 * 28, kernel_initializer="zeros")(z)])
  return keras.Model([z, y], keras.layers.Reshape(IMAGE_SHAPE)(x))


def test_a_conditional_models_eval_scores_its_labels(synthetic, tmp_path):
  config = synthetic.config.replace(conditional=True)
  for name, shift in (("right", 0), ("shifted", 3)):
    export.export_generator(_template_generator(config, shift), config,
                            str(tmp_path / name / rundir.EXPORT_DIR))
  right = _cli(f"--run={tmp_path / 'right'}", "--n=100", "--nearest", cache=synthetic.cache)
  assert right.returncode == 0, right.stderr
  figures = json.loads(right.stdout.strip().splitlines()[-1])
  # Every sample of label y is one image: the label accuracy is the evaluator's on those ten images.
  read = np.argmax(synthetic.evaluator.embed(_templates(config))[1], axis=1)
  assert figures["conditional"] and figures["label_accuracy"] == pytest.approx(np.mean(read == np.arange(10)))
  assert figures["label_accuracy"] >= 0.8
  assert figures["histogram"] == np.bincount(read, minlength=10).__mul__(10).tolist()   # 10 of each label
  assert "label accuracy" in right.stderr and "intra-class FD" in right.stderr
  assert figures["real_floor"]["label_accuracy"] > 0.9 and "intra_frechet" in figures["real_floor"]
  assert figures["nearest"]["n"] == 100 and os.path.exists(figures["nearest"]["png"])
  shifted_model = str(tmp_path / "shifted" / rundir.EXPORT_DIR)   # scored as make eval scores it
  shifted = scoring.score(synthetic.reference, config, export.saved_model_sampler(shifted_model), 100)[0]
  shifted_read = np.argmax(synthetic.evaluator.embed(_templates(config, 3))[1], axis=1)
  assert shifted["label_accuracy"] == pytest.approx(np.mean(shifted_read == np.arange(10)))
  assert shifted["label_accuracy"] <= 0.2 and shifted["intra_frechet"] > 2 * figures["intra_frechet"]
  assert shifted["frechet_features"] == pytest.approx(figures["frechet_features"], rel=1e-6)   # same images


def test_cas_of_real_labelled_images_is_the_baseline_and_of_wrong_labels_chance(synthetic):
  """A 'generator' that returns real training images of the class asked for trains the evaluator's network
  as well as real data does (ratio about 1); one that returns the next class's images teaches it wrong
  labels (CAS near 0)."""
  config = synthetic.config.replace(conditional=True)
  images, labels = data.load_images(config, "train")

  def draw(shift):
    def sample(n, seed=0, label=None):
      pool = images[labels == (label + shift) % 10]
      return pool[np.random.default_rng(seed).integers(0, len(pool), n)]
    return sample
  right = scoring.classification_accuracy_score(synthetic.reference, config, draw(0))
  assert right["n"] == synthetic.evaluator.info["train_examples"] == 300
  assert right["real_baseline"] == synthetic.evaluator.info["test_accuracy"] > 0.5
  assert right["cas"] > 0.5 and abs(right["ratio"] - 1) < 0.2
  wrong = scoring.classification_accuracy_score(synthetic.reference, config, draw(1))
  assert wrong["cas"] < 0.2 and wrong["ratio"] < 0.3


# --- sources of samples, command line, callback -------------------------------------------------------

def test_in_memory_samples_equal_the_saved_models(synthetic, tmp_path):
  config = synthetic.config
  generator, _ = models.build_models(config)
  export.export_generator(generator, config, str(tmp_path / "saved_model"))
  in_memory = sampling.sample(generator, config.noise, n=25, seed=4, batch_size=10)
  exported = export.saved_model_sampler(str(tmp_path / "saved_model"))(25, 4, batch_size=10)
  assert in_memory.shape == (25, 28, 28, 1) and in_memory.dtype == np.uint8
  assert np.abs(in_memory.astype(int) - exported.astype(int)).max() <= 1   # rounding at .5 only
  assert export.saved_model_config(str(tmp_path / "saved_model")) == config
  other_seed = sampling.sample(generator, config.noise, n=25, seed=5, batch_size=10)
  assert not np.array_equal(in_memory, other_seed)


def _cli(*args, cache, module="gan_tf.evaluate"):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", GAN_TF_CACHE=cache)
  return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env,
                        capture_output=True, text=True, timeout=300)


def test_command_line_prints_one_json_line_for_a_run(synthetic, tmp_path):
  config = synthetic.config
  generator, _ = models.build_models(config)
  export.export_generator(generator, config, str(tmp_path / "run" / rundir.EXPORT_DIR))
  # make eval (tools/reproduce.py) against a one-seed row trained as this run: a score inside its interval,
  # an FD outside it (FD is never negative).
  row = {"figures": {"classifier_score": 5.0, "frechet_features": -1.0,
                     "intervals": {"classifier_score": [-1e9, 1e9], "frechet_features": [-1.0, -0.5]}},
         "config": json.loads(config.replace(seed=3).to_json()), "evaluator": {"sha256": synthetic.evaluator_sha}}
  os.makedirs(tmp_path / "records")
  (tmp_path / "records" / "synthetic-row.json").write_text(json.dumps(row))
  result = _cli(f"--run={tmp_path / 'run'}", "--n=60", "--seed=2", f"--records={tmp_path / 'records'}",
                cache=synthetic.cache, module="tools.reproduce")
  assert result.returncode == 0, result.stderr
  lines = result.stdout.strip().splitlines()
  assert len(lines) == 1
  figures = json.loads(lines[0])
  assert figures["n"] == 60 and sum(figures["histogram"]) == 60 and figures["seed"] == 2
  assert figures["data_dir"] == config.data_dir and figures["reference_split"] == "test"
  assert figures["dataset"] == config.dataset == "mnist"
  assert figures["real_floor"]["n"] == 60 and figures["real_floor"]["real_split"] == "train"
  assert not figures["evaluator"]["trained_now"]   # the fixture's cached model, no training
  for name in ("classifier_score", "effective_classes", "classes_per_sample", "frechet_features",
               "frechet_logits", "kid_mean", "kid_std", "classes_covered", "precision", "recall", "density",
               "coverage"):
    assert np.isfinite(figures[name]) and np.isfinite(figures["real_floor"][name])
  assert figures["bootstrap_resamples"] == 100 and figures["prdc_n"] == min(60, figures["n_reference"])
  bootstrapped = {k for k, f in metrics.FIGURES.items() if f.bootstrap}
  assert set(figures["intervals"]) == bootstrapped - {"label_accuracy", "intra_frechet"}
  assert all(low <= high for low, high in figures["intervals"].values())
  assert figures["classifier_score"] == pytest.approx(
      figures["effective_classes"] / figures["classes_per_sample"], rel=1e-12)
  verdict = figures["verdict"]
  assert verdict["row"] == "synthetic-row" and verdict["reproduces"] is False
  assert verdict["figures"]["classifier_score"]["agrees"] and not verdict["figures"]["frechet_features"]["agrees"]
  assert "verdict: does not reproduce synthetic-row (1 seed): frechet_features" in result.stderr
  with pytest.raises(export.ModelError, match="no saved_model.pb"):   # --model=<nothing>
    export.saved_model_config(str(tmp_path / "nothing"))
  both = _cli(f"--run={tmp_path / 'run'}", f"--model={tmp_path / 'run'}", cache=synthetic.cache)
  assert both.returncode == 2 and "error: " in both.stderr and "Exactly one of (run, model)" in both.stderr


def _scalar_tags(folder):
  tags = set()
  for path in tf.io.gfile.glob(os.path.join(folder, "*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      tags.update((v.tag, event.step) for v in event.summary.value)
  return tags


def test_evaluation_callback_logs_eval_scalars_during_fit(synthetic, tmp_path):
  config = synthetic.config
  gan = build_gan(config)
  images, _ = data.load_images(config)
  writer = tf.summary.create_file_writer(str(tmp_path / "events"))
  callback = EvaluationCallback(config, every_epochs=2, n=50, writer=writer, cache_dir=synthetic.cache,
                                spec=TINY, steps_per_epoch=2)
  gan.fit(data.make_dataset(config, images), epochs=3, steps_per_epoch=2, callbacks=[callback], verbose=0)
  assert list(callback.results) == [2]   # epochs 1 and 3 are not multiples of 2
  assert sum(callback.results[2]["histogram"]) == 50
  tags = _scalar_tags(str(tmp_path / "events"))
  for tag in ("eval/classifier_score", "eval/frechet_features", "eval/frechet_logits", "eval/kid_mean",
              "eval/kid_std", "eval/coverage", "eval/effective_classes", "eval/classes_per_sample"):
    assert (tag, 4) in tags   # epoch 2's last train step: the losses' axis


def test_eval_fields_set_the_runs_evaluation_callback(tmp_path):
  def evaluations(config):
    return [c for c in make_callbacks(config, str(tmp_path), None, 6) if isinstance(c, EvaluationCallback)]
  assert evaluations(smoke()) == []   # eval_every 0: off
  [callback] = evaluations(smoke(eval_every=2, eval_n=50, eval_min_classes=3))
  assert (callback.every_epochs, callback.n, callback.min_classes) == (2, 50, 3)


def test_evaluation_callback_warns_when_samples_collapse_to_one_class(synthetic, caplog):
  callback = EvaluationCallback(synthetic.config, every_epochs=1, n=50, cache_dir=synthetic.cache,
                                spec=TINY)
  generator = _constant_generator(synthetic.config)
  callback.set_model(types.SimpleNamespace(prepare_sampler=lambda: generator))
  callback.on_train_begin()
  with caplog.at_level(logging.WARNING):
    callback.on_epoch_end(0)
  assert callback.results[1]["classes_covered"] == 1 and "mode collapse" in caplog.text


# --- real data, where present ------------------------------------------------------------------------

def _real_config(env, default, dataset):
  path = os.environ.get(env) or default
  if not os.path.exists(os.path.join(path, "t10k-images-idx3-ubyte.gz")):
    pytest.skip(f"no IDX files at {path}; set {env} to a folder holding them")
  return _config(path, dataset)


MNIST = ("GAN_TF_MNIST", os.path.join(REPO, "..", "shared", "data", "mnist"), "mnist")
FASHION = ("GAN_TF_FASHION_MNIST", "/usr/share/datasets/fashion-mnist", "fashion_mnist")


def test_mnist_test_only_folder_splits_8000_and_2000():
  config = _real_config(*MNIST)
  train_split, eval_split = evaluator_lib.evaluator_splits(config)
  assert len(data.load_images(config, train_split)[0]) == 8000
  assert len(data.load_images(config, eval_split)[0]) == 2000


def test_pixel_frechet_distance_separates_datasets():
  fashion, _ = data.load_images(_real_config(*FASHION), "test")
  mnist, _ = data.load_images(_real_config(*MNIST), "test")
  pixels = lambda images: images.reshape(len(images), -1)[:, ::4] / 255.0   # 196-d: quick, still telling
  same = metrics.frechet_distance(pixels(fashion[:5000]), pixels(fashion[5000:]))
  other = metrics.frechet_distance(pixels(fashion[:5000]), pixels(mnist[5000:]))
  assert other > 10 * same


@pytest.mark.parametrize("dataset, target", [(FASHION, 0.91), (MNIST, 0.99)])
def test_shipped_evaluator_meets_its_accuracy_target_on_the_real_data(dataset, target):
  config = _real_config(*dataset)
  evaluator = evaluator_lib.load_evaluator(config)
  assert evaluator.info["shipped"] and not evaluator.info["trained_now"]
  images, labels = data.load_images(config, evaluator.info["eval_split"])
  measured = evaluator_lib.accuracy(evaluator, images, labels)
  assert measured >= target and measured == pytest.approx(evaluator.info["test_accuracy"], abs=1e-3)
