"""Stacked MNIST: the stacked data (triples, determinism, splits), networks of any channel count, the mode
figures' known answers, and a stacked run from training to make eval."""
import json
import math

import numpy as np
import pytest
import tensorflow as tf

from conftest import error_lines, run_cli, smoke
from gan_tf.configs import get_config
from gan_tf import data, export, images, metrics, models, sampling, scoring
from gan_tf.config import ConfigError
from gan_tf.data import DataError


def stacked(folder, **overrides):
  return smoke(dataset="stacked_mnist", data_dir=folder, stacked_size=300, **overrides)


def test_each_channel_is_a_digit_and_the_label_the_triple_it_spells(idx_dir):
  config = stacked(idx_dir)
  stacks, modes = data.load_images(config)
  digits, labels = data.load_images(smoke(dataset="mnist", data_dir=idx_dir), "train+test")
  assert stacks.shape == (300, 28, 28, 3) and stacks.dtype == np.uint8 and modes.dtype == np.int64
  for stack, mode in zip(stacks[:50], modes[:50]):
    triple = []
    for channel in range(3):   # each channel is one of the 128 digits, its label the mode's digit
      match = np.flatnonzero((digits[..., 0] == stack[..., channel]).all(axis=(1, 2)))
      assert len(match) >= 1
      triple.append(int(labels[match[0]]))
    assert mode == 100 * triple[0] + 10 * triple[1] + triple[2]
  # Drawn with replacement from all 128 digits (train and test files): both files' digits appear.
  assert len(np.unique(stacks.reshape(-1, 28 * 28), axis=0)) > 100


def test_the_stacked_set_is_one_fixed_draw(idx_dir):
  first, first_modes = data.load_images(stacked(idx_dir, seed=0))
  again, again_modes = data.load_images(stacked(idx_dir, seed=5))   # the run's seed orders, not draws
  np.testing.assert_array_equal(first, again)
  np.testing.assert_array_equal(first_modes, again_modes)
  larger, _ = data.load_images(stacked(idx_dir).replace(stacked_size=400))
  np.testing.assert_array_equal(larger[:300], first)   # a larger set extends the same draw
  part, part_modes = data.load_images(stacked(idx_dir), "train[100:150]")
  np.testing.assert_array_equal(part, first[100:150])
  np.testing.assert_array_equal(part_modes, first_modes[100:150])


def test_stacked_splits_and_flags_that_do_not_apply_are_refused(idx_dir):
  with pytest.raises(DataError, match=r"split 'test' of stacked_mnist: .*its one split is 'train'"):
    data.load_images(stacked(idx_dir), "test")
  with pytest.raises(ConfigError, match="conditional=True with dataset='stacked_mnist'"):
    stacked(idx_dir, conditional=True)
  with pytest.raises(ConfigError, match="stacked_size=0: must be >= 1"):
    stacked(idx_dir).replace(stacked_size=0)


@pytest.mark.parametrize("name", sorted(models.REGISTRY))
def test_networks_take_the_channels_from_the_data(name):
  grey = get_config(name)
  colour = grey.replace(dataset="stacked_mnist")
  generator, discriminator = models.build_models(colour)
  assert generator.output_shape == (None, 28, 28, 3) and discriminator.input_shape == (None, 28, 28, 3)
  grey_g, grey_d = models.build_models(grey)
  assert grey_g.output_shape == (None, 28, 28, 1) and grey_d.input_shape == (None, 28, 28, 1)
  # Only the image-facing layers grow: the last layer of G, the first of D.
  g_last = [l for l in generator.layers if l.weights][-1]
  d_first = [l for l in discriminator.layers if l.weights][0]
  g_grown = colour_params(g_last) - colour_params([l for l in grey_g.layers if l.weights][-1])
  d_grown = colour_params(d_first) - colour_params([l for l in grey_d.layers if l.weights][0])
  assert generator.count_params() - grey_g.count_params() == g_grown > 0
  assert discriminator.count_params() - grey_d.count_params() == d_grown > 0
  if name in ("mlp", "mlp_small"):   # dense: 784 * 3 pixels out of G and into D
    assert g_last.kernel.shape[-1] == 3 * 784 and d_first.kernel.shape[0] == 3 * 784


def colour_params(layer):
  return sum(math.prod(w.shape) for w in layer.weights)


def test_grids_are_rgb_for_three_channels_and_channels_read_apart():
  stacks = np.zeros((4, 28, 28, 3), np.uint8)
  stacks[0, ..., 0] = 255   # the first image red, the second green
  stacks[1, ..., 1] = 255
  mosaic = images.grid(stacks, rows=2)
  assert mosaic.shape == (2 * 30 + 2, 2 * 30 + 2, 3)
  assert mosaic[2 + 5, 2 + 5].tolist() == [255, 0, 0] and mosaic[2 + 5, 32 + 5].tolist() == [0, 255, 0]
  apart = images.channels_side_by_side(stacks)
  assert apart.shape == (12, 28, 28, 1)
  assert apart[0].min() == 255 and apart[1].max() == 0 and apart[3].max() == 0 and apart[4].min() == 255


def test_a_three_channel_generator_exports_and_samples_as_trained(tmp_path):
  config = smoke(dataset="stacked_mnist")
  generator, _ = models.build_models(config)
  path = str(tmp_path / "model")
  export.export_generator(generator, config, path)
  pixels = export.saved_model_sampler(path)(5, seed=1)
  assert pixels.shape == (5, 28, 28, 3) and pixels.dtype == np.uint8
  np.testing.assert_array_equal(pixels, sampling.sample(generator, config.noise, 5, seed=1))
  metadata = tf.saved_model.load(path).signatures["metadata"]()
  assert metadata["image_shape"].numpy().tolist() == [28, 28, 3]
  assert metadata["dataset"].numpy() == b"stacked_mnist"
  assert export.saved_model_config(path).image_shape == (28, 28, 3)


def test_mode_figures_of_known_distributions():
  uniform = np.repeat(np.arange(1000), 26)
  figures = metrics.mode_figures(uniform, np.ones(len(uniform), bool), 1000)
  assert figures["modes"] == 1000 and figures["mode_kl"] == pytest.approx(0.0, abs=1e-12)
  one = metrics.mode_figures(np.full(500, 417), np.zeros(500, bool), 1000)
  assert one["modes"] == 1 and one["mode_kl"] == pytest.approx(math.log(1000)) and one["confident_share"] == 0
  two = metrics.mode_figures(np.array([3, 3, 998, 998]), np.array([1, 1, 1, 0], bool), 1000)
  assert two["modes"] == 2 and two["mode_kl"] == pytest.approx(math.log(500)) and two["confident_share"] == 0.75
  # Three of 1,000 modes at 1/2, 1/4, 1/4: sum p ln(1000 p), worked by hand.
  three = metrics.mode_figures(np.array([7, 7, 8, 9]), np.ones(4, bool), 1000)
  assert three["mode_kl"] == pytest.approx(0.5 * math.log(500) + 2 * 0.25 * math.log(250))
  assert three["mode_counts"][7] == 2 and sum(three["mode_counts"]) == 4


def test_modes_are_the_triple_each_channel_spells_and_confidence_needs_every_channel():
  logits = np.full((2, 3, 10), -10.0)
  logits[0, 0, 4], logits[0, 1, 0], logits[0, 2, 9] = 10.0, 10.0, 10.0   # reads 4, 0, 9: mode 409
  logits[1, :, 2] = 10.0
  logits[1, 2, 5] = 10.0   # channel 2 torn between 2 and 5: not confident (argmax: the first, 2)
  modes, confident = metrics.stacked_modes(logits)
  assert modes.tolist() == [409, 222] and confident.tolist() == [True, False]


def test_real_stacks_cover_every_mode_and_one_triple_is_one_mode(mnist_dir):
  """Scored as make eval scores samples, with the shipped MNIST evaluator: real stacks are ~uniform over
  the 1,000 modes (KL near the 0.08 of 6,000 uniform draws), a generator of one triple is one mode, KL ln 1000."""
  config = get_config("mlp", dataset="stacked_mnist", data_dir=mnist_dir)
  reference = scoring.reference(config)
  assert reference.evaluator.info["shipped"]
  stacks, _ = data.load_images(config)
  real = scoring.score(reference, config, lambda n, seed=0: stacks[:n], 6_000)[0]
  assert real["modes"] >= 990 and real["mode_kl"] < 0.15 and real["confident_share"] > 0.95
  assert real["n"] == 6_000 and real["channels_scored"] == 18_000
  same = scoring.score(reference, config, lambda n, seed=0: np.repeat(stacks[:1], n, axis=0), 500)[0]
  assert same["modes"] == 1 and same["mode_kl"] == pytest.approx(math.log(1000))


def test_a_stacked_run_trains_and_make_eval_reports_its_modes(mnist_dir, tmp_path, train_cli):
  workdir = str(tmp_path / "run")
  code, _, errors, _ = train_cli("--experiment=mlp_small", "--dataset=stacked_mnist", f"--data_dir={mnist_dir}",
                                 "--stacked_size=1024", "--epochs=1", "--batch_size=64", f"--workdir={workdir}")
  assert code == 0, errors
  with open(f"{workdir}/config.json") as f:
    assert json.load(f)["stacked_size"] == 1024
  scored = run_cli(f"--run={workdir}", "--n=300", "--bootstrap=2", module="gan_tf.evaluate")
  assert scored.returncode == 0, error_lines(scored)[-5:]
  result = json.loads(scored.stdout)
  assert 1 <= result["modes"] <= 300 and 0 <= result["mode_kl"] <= math.log(1000) + 1e-9
  assert result["num_modes"] == 1000 and len(result["mode_counts"]) == 1000 and result["n"] == 300
  assert result["real_floor"]["modes"] > 200   # 300 real stacks: most of them distinct modes (~259)
  assert "modes, of 1,000" in scored.stderr and "KL to uniform (nats)" in scored.stderr
  nearest = run_cli(f"--run={workdir}", "--n=300", "--nearest", module="gan_tf.evaluate")
  assert nearest.returncode == 2 and error_lines(nearest) == [
      "error: --nearest compares grey images with their training images; stacked_mnist's stacks are drawn "
      "from the digits, so drop --nearest (the modes tell collapse)"]


def test_only_the_confident_share_gets_a_bootstrap_interval():
  confident = np.array([True] * 900 + [False] * 100)
  interval = metrics.mode_intervals(confident, resamples=200, seed=3)
  assert list(interval) == ["confident_share"]
  low, high = interval["confident_share"]
  assert low < 0.9 < high and high - low == pytest.approx(2 * 1.96 * math.sqrt(0.9 * 0.1 / 1000), rel=0.3)
  assert metrics.mode_intervals(confident, resamples=200, seed=3) == interval   # seeded
