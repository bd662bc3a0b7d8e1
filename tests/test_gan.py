"""The train step on real steps: which weights each half-step moves, k, the penalty, the metrics."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import smoke
from gan_tf import execution, losses, models
from gan_tf.gan import GAN, build_gan, recompute_batchnorm


def small_gan(**overrides):
  return build_gan(smoke(**{"latent_dim": 8, **overrides}))


def real_batch(n=16, seed=0):
  return tf.constant(np.random.default_rng(seed).uniform(-1, 1, (n, 28, 28, 1)).astype(np.float32))


def snapshot(model):
  return [v.numpy().copy() for v in model.trainable_variables]


def changed(before, model):
  return [not np.array_equal(b, v.numpy()) for b, v in zip(before, model.trainable_variables)]


@pytest.mark.parametrize("model", ["mlp_small", "dcgan_tutorial"])
def test_discriminator_step_changes_only_discriminator(model):
  gan = small_gan(model=model, latent_dim=100)
  g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
  gan._discriminator_step(real_batch())
  assert not any(changed(g_before, gan.generator))
  assert all(changed(d_before, gan.discriminator))


@pytest.mark.parametrize("model", ["mlp_small", "dcgan_tutorial"])
def test_generator_step_leaves_discriminator_unchanged(model):
  gan = small_gan(model=model, latent_dim=100)
  g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
  gan._generator_step(16)
  assert not any(changed(d_before, gan.discriminator))
  assert all(changed(g_before, gan.generator))   # so the gradient flowed through D into every G layer


@pytest.mark.parametrize("k", [1, 3])
def test_k_discriminator_updates_per_generator_update(k, smoke_config):
  gan = small_gan(d_steps=k)
  dataset = tf.data.Dataset.from_tensors(real_batch(16 * k)).repeat(4)
  gan.fit(dataset, epochs=1, verbose=0)
  assert int(gan.g_optimizer.iterations) == 4
  assert int(gan.d_optimizer.iterations) == 4 * k
  assert int(gan.step) == 4


def test_each_of_the_k_discriminator_updates_takes_its_own_real_batch():
  """Algorithm 1: k D updates on k distinct real batches (rows i, i + k, ... of the step's data), then G's.
  Compared with the same step by hand from the same weights and noise; SGD at a large rate makes a D
  update on another batch show in D's weights."""
  k = 3
  gan, by_hand = (small_gan(d_steps=k, d_optimizer="sgd", d_learning_rate=0.5) for _ in range(2))
  for model in ("generator", "discriminator"):
    getattr(by_hand, model).set_weights(getattr(gan, model).get_weights())
  by_hand.seed_generator.state.assign(gan.seed_generator.state.value)
  start = [w.copy() for w in gan.discriminator.get_weights()]
  data = real_batch(16 * k)
  gan.fit(tf.data.Dataset.from_tensors(data), epochs=1, verbose=0)
  for i in range(k):
    by_hand._discriminator_step(data[i::k])
  for a, b in zip(gan.discriminator.weights, by_hand.discriminator.weights):
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)
  # The same k updates on the first batch alone end elsewhere.
  by_hand.discriminator.set_weights(start)
  for _ in range(k):
    by_hand._discriminator_step(data[0::k])
  assert max(np.abs(a.numpy() - b.numpy()).max()
             for a, b in zip(gan.discriminator.weights, by_hand.discriminator.weights)) > 1e-3


def test_g_steps_generator_updates_per_step_each_moving_the_average():
  gan, by_hand = small_gan(g_steps=3, g_ema=0.5), small_gan(g_steps=3, g_ema=0.5)
  for model in ("generator", "discriminator", "g_average"):
    getattr(by_hand, model).set_weights(getattr(gan, model).get_weights())
  by_hand.seed_generator.state.assign(gan.seed_generator.state.value)
  gan.fit(tf.data.Dataset.from_tensors(real_batch()).repeat(2), epochs=1, verbose=0)
  assert (int(gan.d_optimizer.iterations), int(gan.g_optimizer.iterations), int(gan.step)) == (2, 6, 2)
  # the same start, by hand: each G update followed by an average update at the step's momentum
  for _ in range(2):
    by_hand._discriminator_step(real_batch())
    for _ in range(3):
      by_hand._generator_step(16)
      by_hand._update_average()
    by_hand.step.assign_add(1)
  for a, b in zip(gan.g_average.weights, by_hand.g_average.weights):
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_fit_reports_losses_and_probabilities():
  gan = small_gan()
  history = gan.fit(tf.data.Dataset.from_tensors(real_batch()).repeat(3), epochs=1, verbose=0)
  logs = {k: v[-1] for k, v in history.history.items()}
  assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake"}
  assert 0 <= logs["d_real"] <= 1 and 0 <= logs["d_fake"] <= 1


@pytest.mark.parametrize("loss,read", [("wasserstein_gp", lambda x: x), ("least_squares", lambda x: x),
                                       ("non_saturating", lambda x: 1 / (1 + np.exp(-x)))])
def test_progress_reports_a_critics_raw_scores_and_a_classifiers_probabilities(loss, read):
  gan = small_gan(loss=loss)
  real = real_batch()
  expected = read(gan.discriminator(real).numpy()).mean()   # D before the step's update, as it scored x
  history = gan.fit(tf.data.Dataset.from_tensors(real), epochs=1, verbose=0).history
  assert history["d_real"][-1] == pytest.approx(expected, rel=1e-4, abs=1e-5)


def test_losses_in_the_step_match_the_loss_functions():
  """One D step's reported loss equals the loss function on the logits it saw (minimax, fixed z)."""
  gan = small_gan(loss="minimax")
  real = real_batch()
  state = gan.seed_generator.state.numpy().copy()
  fake = gan.generator(gan.sample_z(16), training=True)
  expected = losses.minimax_discriminator_loss(gan.discriminator(real), gan.discriminator(fake))
  gan.seed_generator.state.assign(state)                 # the step draws the same z again
  loss, _, _ = gan._discriminator_step(real)
  np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-5)


def test_gradient_penalty_of_a_linear_critic():
  """For D(x) = w.x + b the critic's gradient is w at every interpolate: GP = (||w|| - 1)^2."""
  config = smoke(latent_dim=8)
  generator, _ = models.build_models(config)
  critic = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
  gan = GAN(generator, critic)
  w = critic.layers[-1].kernel.numpy()
  penalty = gan._gradient_penalty(real_batch(), generator(gan.sample_z(16)))
  np.testing.assert_allclose(penalty.numpy(), (np.linalg.norm(w) - 1) ** 2, rtol=1e-4)


@pytest.mark.parametrize("loss", ["least_squares", "hinge", "wasserstein_gp"])
def test_every_loss_trains_with_finite_values(loss):
  gan = small_gan(loss=loss)
  history = gan.fit(tf.data.Dataset.from_tensors(real_batch()).repeat(3), epochs=1, verbose=0)
  assert all(np.isfinite(v[-1]) for v in history.history.values())


@pytest.mark.parametrize("noise,low,high", [("uniform", -1, 1), ("normal", -10, 10)])
def test_noise_distribution(noise, low, high):
  z = small_gan(noise=noise).sample_z(4000).numpy()
  assert z.shape == (4000, 8) and low <= z.min() and z.max() <= high
  if noise == "uniform":
    np.testing.assert_allclose(z.std(), 1 / np.sqrt(3), rtol=0.02)
  else:
    np.testing.assert_allclose(z.std(), 1.0, rtol=0.02)


def test_xla_is_a_flag_that_trains():
  # Not compared to the plain step bit for bit: under XLA the stateless RNG may pick another algorithm,
  # so z (and so the weights) differ while the step is the same.
  gan = small_gan(jit_compile=True)
  assert gan.jit_compile is True
  before = snapshot(gan.generator)
  history = gan.fit(tf.data.Dataset.from_tensors(real_batch()).repeat(2), epochs=1, verbose=0)
  assert all(changed(before, gan.generator))
  assert all(np.isfinite(v[-1]) for v in history.history.values())


@pytest.fixture
def float16_policy():
  yield
  keras.mixed_precision.set_global_policy("float32")


def test_float16_overflow_skips_the_step_and_lowers_the_scale(float16_policy):
  config = smoke(latent_dim=8, mixed_precision="float16")
  execution.setup(config)
  gan = build_gan(config)
  assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
  assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
  assert gan.d_optimizer is not gan.g_optimizer
  before, scale = snapshot(gan.discriminator), float(gan.d_optimizer.dynamic_scale)
  gan._discriminator_step(tf.fill([16, 28, 28, 1], 6e4))   # float16 activations overflow to inf
  assert not any(changed(before, gan.discriminator))
  assert float(gan.d_optimizer.dynamic_scale) == scale / 2
  gan._discriminator_step(real_batch())                    # a finite step still applies
  assert all(changed(before, gan.discriminator))


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_mixed_precision_keeps_images_logits_and_losses_float32(precision, float16_policy):
  config = smoke(model="dcgan_tutorial", mixed_precision=precision)
  execution.setup(config)
  gan = build_gan(config)
  assert gan.generator.layers[2].compute_dtype == precision   # the body runs in low precision
  images = gan.generator(gan.sample_z(4), training=False)
  assert images.dtype == tf.float32
  assert gan.discriminator(images).dtype == tf.float32
  history = gan.fit(tf.data.Dataset.from_tensors(real_batch()).repeat(2), epochs=1, verbose=0)
  assert all(np.isfinite(v[-1]) for v in history.history.values())


@pytest.mark.parametrize("model", ["mlp_small", "dcgan_tutorial"])   # dcgan_tutorial: BatchNorm in G
def test_weight_average_follows_its_formula_and_copies_moving_statistics(model):
  gan = small_gan(model=model, latent_dim=100, g_ema=0.9)
  assert all(np.array_equal(a, g) for a, g in zip(snapshot(gan.g_average), snapshot(gan.generator)))
  gan.g_average.trainable_variables[0].assign_add(tf.ones_like(gan.g_average.trainable_variables[0]))
  gan.step.assign(100)                   # momentum min(0.9, 101 / 110) = 0.9
  average_before = snapshot(gan.g_average)
  gan.fit(tf.data.Dataset.from_tensors(real_batch()), epochs=1, verbose=0)
  live = [v.numpy() for v in gan.generator.trainable_variables]
  for before, after, g in zip(average_before, gan.g_average.trainable_variables, live):
    np.testing.assert_allclose(after.numpy(), 0.9 * before + 0.1 * g, rtol=1e-5, atol=1e-6)
  assert not np.array_equal(gan.g_average.trainable_variables[0].numpy(), live[0])
  for average, g in zip(gan.g_average.non_trainable_variables, gan.generator.non_trainable_variables):
    np.testing.assert_array_equal(average.numpy(), g.numpy())
  assert gan.sampler is gan.g_average


def bn_generator(latent_dim=16):
  """A small conv generator with three BatchNorms in a chain (dcgan_tutorial's shape, a fraction of its
  cost): each one's statistics depend on those before it."""
  z = keras.Input((latent_dim,))
  x = keras.layers.Dense(7 * 7 * 16, use_bias=False)(z)
  x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
  x = keras.layers.Reshape((7, 7, 16))(x)
  x = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same", use_bias=False)(x)
  x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
  x = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same", use_bias=False)(x)
  x = keras.layers.ReLU()(keras.layers.BatchNormalization()(x))
  return keras.Model(z, keras.layers.Conv2D(1, 3, padding="same", activation="tanh")(x))


def test_recompute_batchnorm_normalises_the_generators_own_activations():
  """Statistics set from the network's own activations: a fresh batch then leaves each BatchNorm (gamma 1,
  beta 0 as built) with mean ~0 and variance ~1 per channel, where garbage statistics did not."""
  keras.utils.set_random_seed(0)
  generator = bn_generator()
  bns = [l for l in generator.layers if isinstance(l, keras.layers.BatchNormalization)]
  assert len(bns) == 3
  for bn in bns:
    bn.moving_mean.assign(tf.fill(bn.moving_mean.shape, 3.0))
    bn.moving_variance.assign(tf.fill(bn.moving_variance.shape, 50.0))
  recompute_batchnorm(generator, "normal", n=4000, batch_size=500, seed=1)
  z = np.random.default_rng(2).standard_normal((2000, 16)).astype(np.float32)
  for bn in bns:
    out = keras.Model(generator.inputs[0], bn.output)(z, training=False).numpy()
    out = out.reshape(-1, out.shape[-1])
    assert np.abs(out.mean(0)).max() < 0.15   # sampling error: garbage statistics give ~0.4 or more
    # Variance v / (v + epsilon): near 1 but for the few units whose variance is near BatchNorm's epsilon.
    assert abs(np.median(out.var(0)) - 1.0) < 0.1 and out.var(0).max() < 1.2


def test_sampler_has_its_own_batchnorm_statistics_and_the_generator_keeps_its_own():
  _, discriminator = models.build_models(smoke(latent_dim=16))
  gan = GAN(bn_generator(), discriminator, g_ema=0.9)
  gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
  gan.fit(tf.data.Dataset.from_tensors(real_batch()).repeat(2), epochs=1, verbose=0)
  live_stats = [v.numpy().copy() for v in gan.generator.non_trainable_variables]
  sampler = gan.prepare_sampler()
  assert sampler is gan.g_average
  assert not np.allclose(sampler.non_trainable_variables[0].numpy(), live_stats[0])
  assert all(np.array_equal(a, v.numpy()) for a, v in zip(live_stats, gan.generator.non_trainable_variables))


def test_weight_average_starts_at_the_live_weights():
  """t = 0: momentum min(g_ema, 1 / 10) = 0.1, so the random initial weights weigh a tenth, not 99%."""
  gan = small_gan(g_ema=0.99)
  initial = snapshot(gan.generator)
  gan.fit(tf.data.Dataset.from_tensors(real_batch()), epochs=1, verbose=0)
  for a, i, g in zip(gan.g_average.trainable_variables, initial, gan.generator.trainable_variables):
    np.testing.assert_allclose(a.numpy(), 0.1 * i + 0.9 * g.numpy(), rtol=1e-5, atol=1e-6)


def test_without_weight_average_the_sampler_is_the_generator():
  gan = small_gan()
  assert gan.g_average is None and gan.sampler is gan.generator


def test_label_smoothing_reaches_the_discriminator_step():
  gan = small_gan(label_smoothing=0.2)
  real = real_batch()
  state = gan.seed_generator.state.numpy().copy()
  fake = gan.generator(gan.sample_z(16), training=True)
  expected = losses.minimax_discriminator_loss(gan.discriminator(real), gan.discriminator(fake),
                                               label_smoothing=0.2)
  plain = losses.minimax_discriminator_loss(gan.discriminator(real), gan.discriminator(fake))
  gan.seed_generator.state.assign(state)
  loss, _, _ = gan._discriminator_step(real)
  np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-5)
  assert abs(float(plain) - float(expected)) > 1e-3


def test_r1_penalty_of_a_linear_discriminator_in_the_step():
  """For D(x) = w.x + b, grad_x D = w for every real image: the step's loss is BCE + gamma / 2 ||w||^2."""
  config = smoke(latent_dim=8)
  generator, _ = models.build_models(config)
  critic = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
  gan = GAN(generator, critic)
  gan.compile(keras.optimizers.SGD(0.1), keras.optimizers.SGD(0.0), loss="non_saturating", r1_weight=4.0)
  real = real_batch()
  state = gan.seed_generator.state.numpy().copy()
  fake = generator(gan.sample_z(16), training=True)
  kernel = critic.layers[-1].kernel
  w = kernel.numpy()
  with tf.GradientTape() as tape:
    bce = losses.minimax_discriminator_loss(critic(real), critic(fake))
  bce_gradient = tape.gradient(bce, kernel.value).numpy()
  gan.seed_generator.state.assign(state)
  loss, _, _ = gan._discriminator_step(real)
  np.testing.assert_allclose(loss.numpy(), bce.numpy() + 2.0 * np.sum(w ** 2), rtol=1e-5)
  assert 2.0 * np.sum(w ** 2) > 1e-2   # the penalty is a visible part of the loss
  # ... and of the update: the gradient of gamma / 2 ||w||^2 is gamma w.
  np.testing.assert_allclose(kernel.numpy(), w - 0.1 * (bce_gradient + 4.0 * w), rtol=1e-4, atol=1e-6)
