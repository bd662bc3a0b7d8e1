"""Drawing z and converting pixels, written once: training, grids, evaluation and the export share them."""
import math

import keras
import numpy as np
import tensorflow as tf

NOISES = ("uniform", "normal")   # z ~ U(-1, 1) or N(0, 1)
SAMPLE_BATCH = 1000   # images per generator call: dcgan's 14x14x128 activations are then 100 MB a layer


def draw_z(n, latent_dim, noise, seed):
  """float32 z [n, latent_dim] from `noise`. seed: a keras.random.SeedGenerator (a stream, the GAN's
  checkpointed one) or an integer scalar, of which z is then a pure function."""
  if not isinstance(seed, keras.random.SeedGenerator):
    seed = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
    if noise == "uniform":
      return tf.random.stateless_uniform([n, latent_dim], seed, minval=-1.0, maxval=1.0)
    return tf.random.stateless_normal([n, latent_dim], seed)
  if noise == "uniform":
    return keras.random.uniform((n, latent_dim), -1.0, 1.0, seed=seed)
  return keras.random.normal((n, latent_dim), seed=seed)


def to_float(pixels):
  """uint8 pixels -> float32 in [-1, 1] (tensors or arrays)."""
  return tf.cast(pixels, tf.float32) / 127.5 - 1.0


def to_uint8(images):
  """Images in [-1, 1] -> uint8 pixels; uint8 passes through (tensors or arrays)."""
  images = tf.convert_to_tensor(images)
  if images.dtype == tf.uint8:
    return images
  images = tf.cast(images, tf.float32)
  return tf.cast(tf.round(tf.clip_by_value((images + 1.0) * 127.5, 0.0, 255.0)), tf.uint8)


def chunks(n, seed, batch_size=SAMPLE_BATCH):
  """(size, seed) of each generator call for n samples; the seeds are a pure function of seed."""
  count = math.ceil(n / batch_size)
  seeds = np.random.default_rng(seed).integers(0, 2**62, size=count)
  return [(min(batch_size, n - i * batch_size), int(s)) for i, s in enumerate(seeds)]


def sample(generator, noise, n, seed=0, batch_size=SAMPLE_BATCH):
  """n uint8 samples of a Keras generator: exactly what its SavedModel's `sample` signature gives."""
  latent_dim = generator.input_shape[-1]
  return np.concatenate([
      to_uint8(generator(draw_z(size, latent_dim, noise, chunk_seed), training=False)).numpy()
      for size, chunk_seed in chunks(n, seed, batch_size)])
