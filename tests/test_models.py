"""Every network's layer output shapes and exact parameter counts, derived by hand from the sources."""
import numpy as np
import pytest

from gan_tf import models
from gan_tf.configs import get_config



def dense(n_in, n_out, bias=True):
  return n_in * n_out + (n_out if bias else 0)


def conv(k, c_in, c_out, bias=True):
  return k * k * c_in * c_out + (c_out if bias else 0)


def batchnorm(c):
  return 4 * c   # gamma, beta (trainable) + moving mean, moving variance


PARAMS = {
    # name: (generator, discriminator)
    "mlp": (dense(100, 256) + dense(256, 512) + dense(512, 784),           # 559,632
            dense(784, 256) + dense(256, 128) + dense(128, 1)),             # 233,985
    "mlp_small": (dense(100, 128) + dense(128, 784),                        # 114,064
                  dense(784, 128) + dense(128, 1)),                         # 100,609
    # Keras DCGAN, with the program's BatchNorm after Dense(128*7*7) (the config default).
    "dcgan": (dense(100, 1024) + dense(1024, 6272) + batchnorm(6272) + conv(5, 128, 64) + conv(5, 64, 1),
              conv(5, 1, 64) + conv(5, 64, 128) + dense(7 * 7 * 128, 1024) + dense(1024, 1)),
    "dcgan_tutorial": (dense(100, 7 * 7 * 256, bias=False) + batchnorm(12544) +
                       conv(5, 256, 128, bias=False) + batchnorm(128) +
                       conv(5, 128, 64, bias=False) + batchnorm(64) + conv(5, 64, 1, bias=False),
                       conv(5, 1, 64) + conv(5, 64, 128) + dense(7 * 7 * 128, 1)),
}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_parameter_counts(name):   # the networks as their sources give them (dcgan's default D adds one)
  generator, discriminator = models.build_models(get_config(name, "source"))
  assert (generator.count_params(), discriminator.count_params()) == PARAMS[name]


def test_dcgan_without_batchnorm_drops_exactly_its_parameters():
  generator, _ = models.build_models(get_config("dcgan", g_batchnorm=False))
  assert generator.count_params() == PARAMS["dcgan"][0] - batchnorm(6272)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_minibatch_stddev_adds_one_feature_to_the_logit_layer_and_nothing_else(name):
  _, discriminator = models.build_models(get_config(name, minibatch_stddev=True))
  assert discriminator.count_params() == PARAMS[name][1] + 1   # one more input weight of Dense(1)


def test_minibatch_stddev_feature_is_the_mean_over_features_of_the_batch_std():
  x = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 6.0]], np.float32)   # per-feature std 1, 0, 2: mean 1
  out = models.MinibatchStddev()(x).numpy()
  np.testing.assert_allclose(out[:, :3], x)
  np.testing.assert_allclose(out[:, 3], [1.0, 1.0], rtol=1e-3)
  copies = models.MinibatchStddev()(np.ones((4, 3), np.float32)).numpy()   # a collapsed batch
  np.testing.assert_allclose(copies[:, 3], 1e-4, rtol=1e-3)   # sqrt of the 1e-8 floor


def output_shapes(model):
  return [tuple(layer.output.shape[1:]) for layer in model.layers]


def test_mlp_layer_shapes():
  generator, discriminator = models.build_models(get_config("mlp"))
  assert output_shapes(generator) == [(100,), (256,), (512,), (784,), (28, 28, 1), (28, 28, 1)]
  assert output_shapes(discriminator) == [(28, 28, 1), (784,), (256,), (128,), (1,)]


def test_mlp_small_layer_shapes():
  generator, discriminator = models.build_models(get_config("mlp_small"))
  assert output_shapes(generator) == [(100,), (128,), (128,), (784,), (28, 28, 1), (28, 28, 1)]
  assert output_shapes(discriminator) == [(28, 28, 1), (784,), (128,), (128,), (1,)]


def test_dcgan_layer_shapes():
  generator, discriminator = models.build_models(get_config("dcgan"))
  assert output_shapes(generator) == [
      (100,), (1024,), (1024,), (6272,), (6272,), (6272,), (7, 7, 128), (14, 14, 128), (14, 14, 64),
      (14, 14, 64), (28, 28, 64), (28, 28, 1), (28, 28, 1)]
  assert output_shapes(discriminator) == [
      (28, 28, 1), (28, 28, 64), (28, 28, 64), (14, 14, 64), (14, 14, 128), (14, 14, 128),
      (7, 7, 128), (6272,), (1024,), (1024,), (1025,), (1,)]   # (1025,): the minibatch stddev, a default


def test_dcgan_tutorial_layer_shapes():
  generator, discriminator = models.build_models(get_config("dcgan_tutorial"))
  assert output_shapes(generator) == [
      (100,), (12544,), (12544,), (12544,), (7, 7, 256), (7, 7, 128), (7, 7, 128), (7, 7, 128),
      (14, 14, 64), (14, 14, 64), (14, 14, 64), (28, 28, 1), (28, 28, 1)]
  assert output_shapes(discriminator) == [
      (28, 28, 1), (14, 14, 64), (14, 14, 64), (14, 14, 64), (7, 7, 128), (7, 7, 128), (7, 7, 128),
      (6272,), (1,)]


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_generator_output_is_an_image_in_tanh_range_and_discriminator_a_logit(name):
  config = get_config(name)
  generator, discriminator = models.build_models(config)
  z = np.random.default_rng(0).uniform(-1, 1, (3, 100)).astype(np.float32)
  images = generator(z, training=False).numpy()
  assert images.shape == (3, 28, 28, 1) and images.dtype == np.float32
  assert np.all(np.abs(images) <= 1)
  assert discriminator(images, training=False).shape == (3, 1)


X = np.linspace(-2, 2, 9, dtype=np.float32)
ACTIVATIONS = {"relu": np.maximum(X, 0), "tanh": np.tanh(X), "leaky_relu": np.where(X > 0, X, 0.2 * X)}


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_dcgan_hidden_layers_compute_config_activation(activation):
  """Each of G's three and D's three hidden activations computes config.activation, and nothing else."""
  for net in models.build_models(get_config("dcgan", activation=activation)):
    hidden = [l for l in net.layers if type(l).__name__ in ("Activation", "LeakyReLU")
              and l.name != net.layers[-1].name]
    assert len(hidden) == 3
    for layer in hidden:
      np.testing.assert_allclose(layer(X).numpy(), ACTIVATIONS[activation], rtol=1e-6, atol=1e-6)


def test_mlp_activation_is_a_config_field_with_the_same_weights():
  """mlp's hidden activation (ReLU in the tutorial) is config.activation in both networks, adding no weights."""
  relu = models.build_models(get_config("mlp"))
  leaky = models.build_models(get_config("mlp", activation="leaky_relu"))
  x = np.linspace(-2, 2, 5, dtype=np.float32)
  for a, b in zip(relu, leaky):
    assert a.count_params() == b.count_params()
    for net, expected in ((a, np.maximum(x, 0)), (b, np.where(x > 0, x, 0.2 * x))):
      hidden = [l for l in net.layers if type(l).__name__ == "Dense"][:2]
      assert len(hidden) == 2 and all(np.allclose(l.activation(x), expected) for l in hidden)
