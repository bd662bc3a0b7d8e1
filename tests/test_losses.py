"""Each loss against numbers computed by hand (numpy, from the probabilities the sources write), and each
loss's half-steps inside the real train step against the same step written out by hand."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_tf import losses
from gan_tf.gan import GAN

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


# --- each loss inside the real train step ---------------------------------------------------------
# One D half-step and one G half-step of GAN.train_step on a one-layer G and D with fixed z, against the
# same step written out here in float64 from the losses' formulas: swapping two LOSSES entries, or one
# generator loss for another, moves the weights elsewhere. SGD makes the update -LR * gradient.

LR, GP_WEIGHT, BATCH, LATENT = 0.05, 10.0, 8, 3


def _hand_d_loss(name, real, fake, critic):
  p_real, p_fake = tf.sigmoid(real), tf.sigmoid(fake)
  if name in ("minimax", "non_saturating"):
    return -tf.reduce_mean(tf.math.log(p_real)) - tf.reduce_mean(tf.math.log(1 - p_fake))
  if name == "least_squares":
    return 0.5 * tf.reduce_mean((real - 1) ** 2) + 0.5 * tf.reduce_mean(fake ** 2)
  if name == "hinge":
    return tf.reduce_mean(tf.maximum(0.0, 1 - real)) + tf.reduce_mean(tf.maximum(0.0, 1 + fake))
  return tf.reduce_mean(fake) - tf.reduce_mean(real) + GP_WEIGHT * critic()   # wasserstein_gp


def _hand_g_loss(name, fake):
  if name == "minimax":
    return tf.reduce_mean(tf.math.log(1 - tf.sigmoid(fake)))
  if name == "non_saturating":
    return -tf.reduce_mean(tf.math.log(tf.sigmoid(fake)))
  if name == "least_squares":
    return 0.5 * tf.reduce_mean((fake - 1) ** 2)
  return -tf.reduce_mean(fake)   # hinge and wasserstein_gp


class _FixedNoiseGAN(GAN):
  """Takes z from a list instead of its seed stream: the D half-step's first, then the G half-step's."""

  def sample_z(self, batch_size):
    return self.fixed_z.pop(0)[:batch_size]


def _tiny_networks():
  g_in = keras.Input((LATENT,))
  g_out = keras.layers.Dense(784, activation="tanh",
                             kernel_initializer=keras.initializers.RandomNormal(stddev=0.5, seed=1))(g_in)
  d_in = keras.Input((28, 28, 1))
  # Weights large enough that D's logits spread past hinge's margins and sigmoid's linear range.
  d_out = keras.layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=2),
                             bias_initializer="zeros")(keras.layers.Flatten()(d_in))
  return keras.Model(g_in, keras.layers.Reshape((28, 28, 1))(g_out)), keras.Model(d_in, d_out)


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_train_step_descends_the_named_loss(name):
  rng = np.random.default_rng(0)
  real = rng.uniform(-1, 1, (BATCH, 28, 28, 1)).astype(np.float32)
  z_d, z_g = (rng.uniform(-1, 1, (BATCH, LATENT)).astype(np.float32) for _ in range(2))
  generator, discriminator = _tiny_networks()
  gan = _FixedNoiseGAN(generator, discriminator, noise="uniform", seed=0)
  gan.fixed_z = [z_d, z_g]
  gan.compile(keras.optimizers.SGD(LR), keras.optimizers.SGD(LR), loss=name, gp_weight=GP_WEIGHT)
  (g_w, g_b), (d_w, d_b) = [[tf.constant(v.numpy(), tf.float64) for v in m.trainable_variables]
                            for m in (generator, discriminator)]
  seed_state = gan.seed_generator.state.numpy()   # the penalty's interpolation draws from it
  logs = gan.train_step(tf.constant(real))

  def g_forward(w, b, z):
    return tf.tanh(tf.constant(z, tf.float64) @ w + b)

  def d_forward(w, b, x):
    return tf.reshape(tf.cast(x, tf.float64), [BATCH, -1]) @ w + b

  fake_d = g_forward(g_w, g_b, z_d)

  def penalty():   # WGAN-GP: E[(||grad_x D(x_hat)||_2 - 1)^2] at x_hat = eps x + (1 - eps) G(z)
    stream = keras.random.SeedGenerator(0)
    stream.state.assign(seed_state)
    eps = tf.reshape(tf.cast(keras.random.uniform([BATCH, 1, 1, 1], seed=stream), tf.float64), [BATCH, 1])
    mixed = eps * tf.reshape(tf.constant(real, tf.float64), [BATCH, -1]) + (1 - eps) * fake_d
    with tf.GradientTape() as inner:
      inner.watch(mixed)
      critic = d_forward(d_w, d_b, mixed)
    return tf.reduce_mean((tf.norm(inner.gradient(critic, mixed), axis=1) - 1) ** 2)

  with tf.GradientTape() as tape:
    tape.watch([d_w, d_b])
    d_loss = _hand_d_loss(name, d_forward(d_w, d_b, real), d_forward(d_w, d_b, fake_d), penalty)
  d_w1, d_b1 = (v - LR * g for v, g in zip((d_w, d_b), tape.gradient(d_loss, [d_w, d_b])))
  with tf.GradientTape() as tape:   # G's half-step meets the D that the D half-step left
    tape.watch([g_w, g_b])
    g_loss = _hand_g_loss(name, d_forward(d_w1, d_b1, g_forward(g_w, g_b, z_g)))
  g_w1, g_b1 = (v - LR * g for v, g in zip((g_w, g_b), tape.gradient(g_loss, [g_w, g_b])))

  np.testing.assert_allclose(float(logs["d_loss"]), d_loss.numpy(), rtol=1e-4)
  np.testing.assert_allclose(float(logs["g_loss"]), g_loss.numpy(), rtol=1e-4, atol=1e-6)
  for expected, start, variable in zip((d_w1, d_b1, g_w1, g_b1), (d_w, d_b, g_w, g_b),
                                       discriminator.trainable_variables + generator.trainable_variables):
    step = expected.numpy() - start.numpy()
    if variable.path.endswith("kernel"):   # (a critic's bias has no gradient: E[D(G(z))] - E[D(x)])
      assert np.abs(step).max() > 1e-3, variable.path   # the half-step moved it, far past rounding
    # atol: float32 rounding of weights near 1 (ulp 1.2e-7), far below the step
    np.testing.assert_allclose(variable.numpy() - start.numpy(), step, rtol=1e-3, atol=3e-7)
