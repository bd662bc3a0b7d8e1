"""The generator as a TensorFlow SavedModel that a consumer can use with nothing but TensorFlow.

Signatures:
  serving_default: z float32 [batch, latent_dim] -> images float32 [batch, 28, 28, 1] in [-1, 1]
  sample:          n int32 [], seed int64 [] -> images uint8 [n, 28, 28, 1], z from the experiment's noise
  metadata:        () -> experiment (string), latent_dim (int32), noise (string), source (string)

Run: `python -m gan_tf.export --run=runs/mlp-... [--out=DIR]` (default DIR: <run>/saved_model).
A SavedModel is a program: load one only from a source you trust.
"""
import json
import os

import keras
import tensorflow as tf
from absl import app, flags

from gan_tf import files
from gan_tf.errors import run_main

EXPORT_DIR = "saved_model"
MAX_SAMPLE = 65536   # one call's images; more would be a memory bomb, not a request


def to_uint8(images):
  """[-1, 1] float images -> uint8 pixels."""
  return tf.cast(tf.round(tf.clip_by_value((images + 1.0) * 127.5, 0.0, 255.0)), tf.uint8)


def sample_noise(n, seed, latent_dim, noise):
  """z for the `sample` signature: a pure function of (n, seed)."""
  seed = tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)])
  if noise == "uniform":
    return tf.random.stateless_uniform([n, latent_dim], seed, minval=-1.0, maxval=1.0)
  return tf.random.stateless_normal([n, latent_dim], seed)


def export_generator(generator, config, path):
  """Writes generator as a SavedModel at path, atomically (a killed export leaves no half model)."""
  latent_dim, noise = config.latent_dim, config.noise

  # The checks gate the work explicitly: stateless ops are not ordered after an assert, so without the
  # control dependency the generator's own shape error could fire first.
  def serve(z):
    check = tf.debugging.assert_equal(tf.shape(z)[1], latent_dim,
                                      message=f"z must be float32 [batch, {latent_dim}]")
    with tf.control_dependencies([check]):
      z = tf.identity(z)
    return {"images": tf.cast(generator(z, training=False), tf.float32)}

  def sample(n, seed):
    check = tf.debugging.assert_equal(tf.logical_and(n >= 1, n <= MAX_SAMPLE), True,
                                      message=f"n must be in [1, {MAX_SAMPLE}]")
    with tf.control_dependencies([check]):
      n = tf.identity(n)
    images = generator(sample_noise(n, seed, latent_dim, noise), training=False)
    return {"images": to_uint8(tf.cast(images, tf.float32))}

  def metadata():
    return {"experiment": tf.constant(config.name), "latent_dim": tf.constant(latent_dim, tf.int32),
            "noise": tf.constant(noise), "source": tf.constant(config.source)}

  archive = keras.export.ExportArchive()
  archive.track(generator)
  archive.add_endpoint("serve", serve,
                       input_signature=[tf.TensorSpec([None, latent_dim], tf.float32, name="z")])
  archive.add_endpoint("sample", sample,
                       input_signature=[tf.TensorSpec([], tf.int32, name="n"),
                                        tf.TensorSpec([], tf.int64, name="seed")])
  archive.add_endpoint("metadata", metadata, input_signature=[])
  with files.atomic_dir(path) as tmp:
    archive.write_out(tmp, verbose=False)
    extra = os.path.join(tmp, "assets.extra")
    os.makedirs(extra, exist_ok=True)
    with open(os.path.join(extra, "gan_tf_config.json"), "w") as f:
      f.write(config.to_json())
  return path


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  run, out = flags.FLAGS.run, flags.FLAGS.out
  from gan_tf import train   # the run's config and checkpoint rebuild the generator
  config, generator = train.restore_generator(run)
  path = export_generator(generator, config, out or os.path.join(run, EXPORT_DIR))
  print(json.dumps({"saved_model": path, "experiment": config.name}))


if __name__ == "__main__":
  flags.DEFINE_string("run", None, "A run's work dir (with checkpoints/ and config.json).",
                      required=True)
  flags.DEFINE_string("out", None, f"Where to write the SavedModel; default <run>/{EXPORT_DIR}.")
  run_main(main)
