"""Each loss against numbers computed by hand (numpy, from the probabilities the sources write)."""
import numpy as np
import pytest
import tensorflow as tf

from gan_tf import losses

REAL = np.array([[2.0], [-0.5], [0.3], [4.0]], np.float32)
FAKE = np.array([[-1.0], [0.7], [-3.0], [0.0]], np.float32)


def sigmoid(x):
  return 1 / (1 + np.exp(-x.astype(np.float64)))


def test_discriminator_loss_at_zero_logits_is_two_log_two():
  loss = losses.minimax_discriminator_loss(tf.zeros([4, 1]), tf.zeros([4, 1]))
  np.testing.assert_allclose(loss.numpy(), 2 * np.log(2.0), rtol=1e-6)


def test_minimax_discriminator_loss_is_binary_cross_entropy():
  expected = -np.mean(np.log(sigmoid(REAL))) - np.mean(np.log(1 - sigmoid(FAKE)))
  np.testing.assert_allclose(losses.minimax_discriminator_loss(REAL, FAKE).numpy(), expected, rtol=1e-5)


def test_label_smoothing_is_cross_entropy_with_real_target_one_minus_s():
  d = sigmoid(REAL)
  expected = -np.mean(0.9 * np.log(d) + 0.1 * np.log(1 - d)) - np.mean(np.log(1 - sigmoid(FAKE)))
  smoothed = losses.minimax_discriminator_loss(REAL, FAKE, label_smoothing=0.1).numpy()
  np.testing.assert_allclose(smoothed, expected, rtol=1e-5)
  # Its real term is smallest at D(x) = 0.9, where plain cross-entropy keeps pushing D(x) toward 1.
  logits = np.linspace(-1, 6, 701, dtype=np.float32)[:, None]
  real_terms = [losses.minimax_discriminator_loss(x[None], np.full((1, 1), -50, np.float32),
                                                  label_smoothing=0.1).numpy() for x in logits]
  np.testing.assert_allclose(sigmoid(logits[int(np.argmin(real_terms))]), 0.9, atol=2e-3)


def test_minimax_generator_loss_is_log_one_minus_d():
  expected = np.mean(np.log(1 - sigmoid(FAKE)))
  np.testing.assert_allclose(losses.minimax_generator_loss(FAKE).numpy(), expected, rtol=1e-5)


def test_non_saturating_generator_loss_is_minus_log_d():
  expected = -np.mean(np.log(sigmoid(FAKE)))
  np.testing.assert_allclose(losses.non_saturating_generator_loss(FAKE).numpy(), expected, rtol=1e-5)


def test_least_squares_losses():
  expected_d = 0.5 * np.mean((REAL - 1) ** 2) + 0.5 * np.mean(FAKE ** 2)
  expected_g = 0.5 * np.mean((FAKE - 1) ** 2)
  np.testing.assert_allclose(losses.least_squares_discriminator_loss(REAL, FAKE), expected_d, rtol=1e-6)
  np.testing.assert_allclose(losses.least_squares_generator_loss(FAKE), expected_g, rtol=1e-6)


def test_hinge_discriminator_loss():
  expected = np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE))
  np.testing.assert_allclose(losses.hinge_discriminator_loss(REAL, FAKE).numpy(), expected, rtol=1e-6)


def test_wasserstein_losses():
  np.testing.assert_allclose(losses.wasserstein_discriminator_loss(REAL, FAKE).numpy(),
                             FAKE.mean() - REAL.mean(), rtol=1e-6)
  np.testing.assert_allclose(losses.wasserstein_generator_loss(FAKE).numpy(), -FAKE.mean(), rtol=1e-6)


def test_gradient_penalty_of_known_gradients():
  gradients = np.zeros([2, 28, 28, 1], np.float32)
  gradients[0, 0, 0, 0], gradients[0, 1, 0, 0] = 3.0, 4.0   # norm 5 -> (5 - 1)^2 = 16
  gradients[1, 5, 5, 0] = 1.0                               # norm 1 -> 0
  np.testing.assert_allclose(losses.gradient_penalty(gradients).numpy(), 8.0, rtol=1e-6)


def test_losses_are_stable_at_extreme_logits():
  big = tf.constant([[100.0]])
  assert np.isfinite(losses.minimax_discriminator_loss(big, -big).numpy())
  np.testing.assert_allclose(losses.non_saturating_generator_loss(-big).numpy(), 100.0, rtol=1e-6)


@pytest.mark.parametrize("dtype", [tf.bfloat16, tf.float16])
def test_losses_return_float32_for_low_precision_logits(dtype):
  for d_loss, g_loss in losses.LOSSES.values():
    assert d_loss(tf.cast(REAL, dtype), tf.cast(FAKE, dtype)).dtype == tf.float32
    assert g_loss(tf.cast(FAKE, dtype)).dtype == tf.float32


def test_r1_penalty_is_the_mean_squared_gradient_norm():
  gradients = np.array([[[1.0], [2.0]], [[3.0], [4.0]]], np.float32)   # per image ||g||^2: 5 and 25
  np.testing.assert_allclose(losses.r1_penalty(gradients).numpy(), 15.0, rtol=1e-6)
