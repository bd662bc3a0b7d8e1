"""DiffAugment (gan_tf/augment.py): each transform against numpy on fixed draws, its gradient, and the
GAN's D calls going through it."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_tf import augment
from test_gan import changed, real_batch, small_gan, snapshot


def draws(*values):
  """A `uniform` returning the given arrays in turn, as the GAN's seed stream would its draws."""
  values = iter(values)
  return lambda shape: tf.constant(np.reshape(next(values), [-1] + [1] * (len(shape) - 1)), tf.float32)


def images(n=3, seed=0):
  return np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28, 1)).astype(np.float32)


def shifted(image, dy, dx):
  """image moved down dy and right dx pixels, -1 moving in."""
  out = np.full_like(image, -1.0)
  h, w = image.shape[:2]
  out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
      image[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
  return out


def test_translation_moves_each_image_by_its_own_whole_pixel_shift():
  x = images()
  # shift = floor(u * 9) - 4 in each axis (int(28 * 0.125 + 0.5) = 4 either way); rows first, then columns
  rows, cols = np.array([0.0, 0.5, 0.999]), np.array([0.5, 0.0, 0.25])
  y = augment.translation(tf.constant(x), draws(rows, cols)).numpy()
  for n, (dy, dx) in enumerate([(-4, 0), (0, -4), (4, -2)]):
    np.testing.assert_allclose(y[n], shifted(x[n], dy, dx), atol=1e-6)


def test_cutout_zeroes_one_square_of_side_14_clipped_by_the_border():
  x = images()
  # centre = floor(u * 29) in each axis; the square covers [centre - 7, centre + 7)
  rows, cols = np.array([0.0, 0.5, 0.999]), np.array([0.5, 0.5, 0.999])
  y = augment.cutout(tf.constant(x), draws(rows, cols)).numpy()
  for n, (r, c) in enumerate([(0, 14), (14, 14), (28, 28)]):
    expected = x[n].copy()
    expected[max(r - 7, 0):r + 7, max(c - 7, 0):c + 7] = 0.0
    np.testing.assert_array_equal(y[n], expected)
  assert [(y[n] == 0).sum() for n in range(3)] == [7 * 14, 14 * 14, 7 * 7]


def test_color_is_brightness_then_contrast_about_each_images_mean():
  x = images(2)
  brightness, contrast = np.array([0.25, 0.75]), np.array([0.0, 1.0])   # +(-0.25, +0.25), x(0.5, 1.5)
  y = augment.color(tf.constant(x), draws(brightness, contrast)).numpy()
  for n, (add, times) in enumerate([(-0.25, 0.5), (0.25, 1.5)]):
    bright = x[n] + add
    np.testing.assert_allclose(y[n], (bright - bright.mean()) * times + bright.mean(), atol=1e-5)


def test_gradient_passes_through_translation_and_cutout():
  x = tf.constant(images(1))
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = augment.diff_augment(x, ("translation", "cutout"),
                             draws([0.0], [0.5], [0.5], [0.5]))   # shift (-4, 0), square at (14, 14)
    total = tf.reduce_sum(y)
  grad = tape.gradient(total, x).numpy()[0, :, :, 0]
  # a pixel counts once if it stays in the image (rows 4-27 land on 0-23) and outside the square
  expected = np.zeros((28, 28))
  expected[4:, :] = 1.0
  expected[4 + 7:4 + 21, 7:21] = 0.0
  np.testing.assert_array_equal(grad, expected)


def test_parse_and_unknown_names():
  assert augment.parse("translation, cutout") == ("translation", "cutout")
  assert augment.parse("") == ()
  with pytest.raises(ValueError, match="unknown augmentation flip; known: color, translation, cutout"):
    augment.parse("translation,flip")


def test_the_gans_critic_augments_with_fresh_draws_from_its_seed_stream():
  gan = small_gan(d_augment="translation,cutout")
  x = real_batch()
  state = gan.seed_generator.state.numpy().copy()
  first, second = gan._critic(x).numpy(), gan._critic(x).numpy()
  assert not np.allclose(first, second)                 # each call draws new transforms
  gan.seed_generator.state.assign(state)                # the same draws again, by hand
  def uniform(shape):
    return keras.random.uniform(shape, seed=gan.seed_generator)
  by_hand = gan.discriminator(augment.diff_augment(x, ("translation", "cutout"), uniform), training=True)
  np.testing.assert_allclose(first, by_hand.numpy(), atol=1e-6)
  plain = small_gan()
  plain.discriminator.set_weights(gan.discriminator.get_weights())
  np.testing.assert_allclose(plain._critic(x).numpy(), plain.discriminator(x, training=True).numpy())


def test_augmented_training_runs_under_xla_and_moves_both_networks():
  gan = small_gan(d_augment="color,translation,cutout", jit_compile=True)
  before_g, before_d = snapshot(gan.generator), snapshot(gan.discriminator)
  history = gan.fit(tf.data.Dataset.from_tensors(real_batch()).repeat(2), epochs=1, verbose=0)
  assert np.isfinite(history.history["d_loss"][-1]) and np.isfinite(history.history["g_loss"][-1])
  assert all(changed(before_g, gan.generator)) and all(changed(before_d, gan.discriminator))
