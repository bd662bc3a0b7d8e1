"""Drawing z and labels, calling G, converting pixels, written once: training, grids, evaluation and the
export share them. A conditional generator takes [z, one-hot labels]; an unconditional one z."""
import math

import keras
import numpy as np
import tensorflow as tf

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


def draw_labels(n, num_classes, seed):
  """int32 labels [n], uniform over the classes; seed as draw_z's (an integer's labels differ from its z)."""
  if isinstance(seed, keras.random.SeedGenerator):
    return keras.random.randint((n,), 0, num_classes, seed=seed, dtype="int32")
  seed = tf.stack([tf.cast(seed, tf.int64), tf.constant(1, tf.int64)])
  return tf.random.stateless_uniform([n], seed, minval=0, maxval=num_classes, dtype=tf.int32)


def num_classes(generator):
  """The classes a conditional generator takes (its one-hot input's width); 0 for an unconditional one."""
  return int(generator.input_shape[1][-1]) if isinstance(generator.input_shape, list) else 0


def latent_size(generator):
  """The size of the z a generator takes."""
  shape = generator.input_shape
  return int((shape[0] if isinstance(shape, list) else shape)[-1])


def generator_inputs(generator, z, labels=None):
  """generator's input for z and labels: int labels [n] are one-hot encoded, float [n, classes] rows
  (mixtures of classes, for walks between them) pass as they are; an unconditional G takes z alone."""
  classes = num_classes(generator)
  if not classes:
    return z
  labels = tf.convert_to_tensor(labels)
  if labels.dtype.is_integer:
    labels = tf.one_hot(labels, classes)
  return [tf.convert_to_tensor(z), labels]


def generate(generator, z, labels=None, training=False):
  """G(z), or G(z, labels) for a conditional generator (see generator_inputs)."""
  return generator(generator_inputs(generator, z, labels), training=training)


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


def chunk_labels(size, num_classes, chunk_seed, label=None):
  """The labels of one generator call of `sample`: `label` for all, else drawn uniformly; None when
  unconditional."""
  if not num_classes:
    return None
  if label is None:
    return draw_labels(size, num_classes, chunk_seed)
  return tf.fill([size], tf.cast(label, tf.int32))


def sample(generator, noise, n, seed=0, label=None, batch_size=SAMPLE_BATCH):
  """n uint8 samples of a Keras generator (a conditional one's of class `label`, else of drawn classes): a pure
  function of seed (numpy's: an int or ints), exactly what its SavedModel's `sample`/`sample_class` give."""
  classes = num_classes(generator)
  latent_dim = latent_size(generator)
  return np.concatenate([
      to_uint8(generate(generator, draw_z(size, latent_dim, noise, chunk_seed),
                        chunk_labels(size, classes, chunk_seed, label))).numpy()
      for size, chunk_seed in chunks(n, seed, batch_size)])


def sample_per_class(sample_fn, n, num_classes, seed=0):
  """(uint8 images, labels): n samples of a conditional model, n // num_classes of each class (the first
  n % num_classes classes one more), class c's drawn by sample_fn(count, seed=[seed, c], label=c)."""
  counts = [n // num_classes + (c < n % num_classes) for c in range(num_classes)]
  images = np.concatenate([sample_fn(k, seed=[seed, c], label=c) for c, k in enumerate(counts) if k])
  return images, np.repeat(np.arange(num_classes), counts)
