"""The networks, as Keras functional models: generators map z [B, latent_dim] to images in [-1, 1] of
config.image_shape, discriminators images to one logit (the sources' final sigmoid lives in the loss). A
conditional pair also takes one-hot labels (G joined to z, D by projection), and D returns class logits.
Each network's last layer computes in float32: under mixed precision, images, logits and losses stay float32.
"""
import math

import keras
import tensorflow as tf
from keras import layers


def _activation(name):
  # LeakyReLU slope 0.2, the DCGAN paper's; dcgan_tutorial keeps Keras's default 0.3 as its source does.
  return layers.LeakyReLU(0.2) if name == "leaky_relu" else layers.Activation(name)


def _batchnorm(config):
  return layers.BatchNormalization(synchronized=config.sync_batchnorm)


def _image_out(x, config):
  if tuple(x.shape[1:]) != config.image_shape:
    x = layers.Reshape(config.image_shape)(x)
  return layers.Activation("tanh", dtype="float32")(x)   # last: nothing casts the images back


class MinibatchStddev(layers.Layer):
  """Karras et al. 2018 (ProGAN, section 3): each feature's standard deviation over the batch, averaged
  over the features, appended to every example: D can tell near-copies from a varied batch, at no
  weights. Under a tf.distribute strategy the sums are all-reduced: each replica sees the global batch's."""

  def call(self, x):
    x32 = keras.ops.cast(x, "float32")
    sums = [keras.ops.sum(x32, axis=0), keras.ops.sum(keras.ops.square(x32), axis=0),
            keras.ops.cast(keras.ops.shape(x)[0], "float32")]
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
      sums = context.all_reduce(tf.distribute.ReduceOp.SUM, sums)
    mean = sums[0] / sums[2]
    variance = keras.ops.maximum(sums[1] / sums[2] - keras.ops.square(mean), 0.0)
    std = keras.ops.mean(keras.ops.sqrt(variance + 1e-8))
    feature = keras.ops.broadcast_to(std, (keras.ops.shape(x)[0], 1))
    return keras.ops.concatenate([x, keras.ops.cast(feature, x.dtype)], axis=-1)


def _generator_input(config):
  """(inputs, x): z, joined for a conditional G to the one-hot label (Mirza & Osindero 2014)."""
  z = keras.Input((config.latent_dim,), name="z")
  if not config.num_classes:
    return z, z
  labels = keras.Input((config.num_classes,), name="labels")
  return [z, labels], layers.Concatenate(name="z_and_label")([z, labels])


def _discriminator_input(config):
  """(inputs, images, labels): a conditional D's one-hot labels reach it at the logit (_logit_out)."""
  images = keras.Input(config.image_shape, name="images")
  if not config.num_classes:
    return images, images, None
  labels = keras.Input((config.num_classes,), name="labels")
  return [images, labels], images, labels


def _logit_out(x, config, labels=None):
  if config.minibatch_stddev:
    x = MinibatchStddev(name="minibatch_stddev")(x)
  logit = layers.Dense(1, dtype="float32", name="logit")(x)
  if labels is None:
    return logit
  # Projection discriminator (Miyato & Koyama 2018): + <embedding(y), phi(x)> on D's last features.
  embedded = layers.Dense(x.shape[-1], use_bias=False, dtype="float32", name="label_embedding")(labels)
  projection = layers.Dot(axes=1, dtype="float32", name="projection")([embedded, x])
  logit = layers.Add(dtype="float32", name="conditional_logit")([logit, projection])
  # And an auxiliary classifier on the same features (AC-GAN, Odena et al. 2017): docs/conditional.md.
  return [logit, layers.Dense(config.num_classes, dtype="float32", name="class_logits")(x)]


def build_mlp_generator(config):
  """TF1 tutorial: z -> Dense 256 ReLU -> Dense 512 ReLU -> Dense 784 tanh (ReLU: config.activation)."""
  inputs, x = _generator_input(config)
  x = layers.Dense(256, activation=config.activation)(x)    # Keras's leaky_relu: slope 0.2
  x = layers.Dense(512, activation=config.activation)(x)
  x = layers.Dense(math.prod(config.image_shape))(x)
  return keras.Model(inputs, _image_out(x, config), name="mlp_generator")


def build_mlp_discriminator(config):
  """TF1 tutorial: x -> Dense 256 ReLU -> Dense 128 ReLU -> Dense 1 (ReLU: config.activation)."""
  inputs, images, labels = _discriminator_input(config)
  x = layers.Flatten()(images)
  x = layers.Dense(256, activation=config.activation)(x)
  x = layers.Dense(128, activation=config.activation)(x)
  return keras.Model(inputs, _logit_out(x, config, labels), name="mlp_discriminator")


def build_mlp_small_generator(config):
  """Walk-through: z -> Dense 128 LeakyReLU -> Dense 784 tanh."""
  inputs, x = _generator_input(config)
  x = layers.Dense(128)(x)
  x = layers.LeakyReLU(0.2)(x)
  x = layers.Dense(math.prod(config.image_shape))(x)
  return keras.Model(inputs, _image_out(x, config), name="mlp_small_generator")


def build_mlp_small_discriminator(config):
  """Walk-through: x -> Dense 128 LeakyReLU -> Dense 1."""
  inputs, images, labels = _discriminator_input(config)
  x = layers.Flatten()(images)
  x = layers.Dense(128)(x)
  x = layers.LeakyReLU(0.2)(x)
  return keras.Model(inputs, _logit_out(x, config, labels), name="mlp_small_discriminator")


def build_dcgan_generator(config):
  """Keras DCGAN: Dense 1024 -> Dense 128*7*7 [-> BN] -> 7x7x128 -> up -> Conv 64 5x5 -> up -> Conv 1 5x5."""
  inputs, x = _generator_input(config)
  x = layers.Dense(1024)(x)
  x = _activation(config.activation)(x)
  x = layers.Dense(128 * 7 * 7)(x)
  if config.g_batchnorm:
    x = _batchnorm(config)(x)
  x = _activation(config.activation)(x)
  x = layers.Reshape((7, 7, 128))(x)
  x = layers.UpSampling2D(2)(x)
  x = layers.Conv2D(64, 5, padding="same")(x)
  x = _activation(config.activation)(x)
  x = layers.UpSampling2D(2)(x)
  x = layers.Conv2D(config.image_shape[-1], 5, padding="same")(x)
  return keras.Model(inputs, _image_out(x, config), name="dcgan_generator")


def build_dcgan_discriminator(config):
  """Keras DCGAN: Conv 64 5x5 -> MaxPool -> Conv 128 5x5 -> MaxPool -> Dense 1024 -> Dense 1."""
  inputs, images, labels = _discriminator_input(config)
  x = layers.Conv2D(64, 5, padding="same")(images)
  x = _activation(config.activation)(x)
  x = layers.MaxPooling2D(2)(x)
  x = layers.Conv2D(128, 5, padding="same")(x)
  x = _activation(config.activation)(x)
  x = layers.MaxPooling2D(2)(x)
  x = layers.Flatten()(x)
  x = layers.Dense(1024)(x)
  x = _activation(config.activation)(x)
  return keras.Model(inputs, _logit_out(x, config, labels), name="dcgan_discriminator")


def build_dcgan_tutorial_generator(config):
  """TF tutorial: Dense 7*7*256 + BN + LeakyReLU -> Conv2DTranspose 128 (s1), 64 (s2), 1 (s2) tanh."""
  inputs, x = _generator_input(config)
  x = layers.Dense(7 * 7 * 256, use_bias=False)(x)
  x = _batchnorm(config)(x)
  x = layers.LeakyReLU()(x)
  x = layers.Reshape((7, 7, 256))(x)
  for filters, strides in ((128, 1), (64, 2)):
    x = layers.Conv2DTranspose(filters, 5, strides=strides, padding="same", use_bias=False)(x)
    x = _batchnorm(config)(x)
    x = layers.LeakyReLU()(x)
  x = layers.Conv2DTranspose(config.image_shape[-1], 5, strides=2, padding="same", use_bias=False)(x)
  return keras.Model(inputs, _image_out(x, config), name="dcgan_tutorial_generator")


def build_dcgan_tutorial_discriminator(config):
  """TF tutorial: Conv 64 5x5 s2 -> LeakyReLU -> Dropout 0.3 -> Conv 128 5x5 s2 -> ... -> Dense 1."""
  inputs, images, labels = _discriminator_input(config)
  x = images
  for filters in (64, 128):
    x = layers.Conv2D(filters, 5, strides=2, padding="same")(x)
    x = layers.LeakyReLU()(x)
    x = layers.Dropout(0.3)(x)
  x = layers.Flatten()(x)
  return keras.Model(inputs, _logit_out(x, config, labels), name="dcgan_tutorial_discriminator")


REGISTRY = {
    "mlp": (build_mlp_generator, build_mlp_discriminator),
    "mlp_small": (build_mlp_small_generator, build_mlp_small_discriminator),
    "dcgan": (build_dcgan_generator, build_dcgan_discriminator),
    "dcgan_tutorial": (build_dcgan_tutorial_generator, build_dcgan_tutorial_discriminator),
}


def build_models(config):
  """(generator, discriminator) for config.model."""
  build_g, build_d = REGISTRY[config.model]
  return build_g(config), build_d(config)
