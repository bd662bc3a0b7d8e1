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
import numpy as np
import tensorflow as tf
from absl import flags

from gan_tf import files, rundir
from gan_tf.config import Config
from gan_tf.errors import UserError, run_main
from gan_tf.rundir import EXPORT_DIR
from gan_tf.sampling import SAMPLE_BATCH, chunks, draw_z, to_uint8

MAX_SAMPLE = 65536   # one call's images; more would be a memory bomb, not a request
CONFIG_ASSET = os.path.join("assets.extra", "gan_tf_config.json")


class ModelError(UserError, ValueError):
  """The folder is not a gan_tf SavedModel."""


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
    return {"images": to_uint8(generator(draw_z(n, latent_dim, noise, seed), training=False))}

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
    os.makedirs(os.path.dirname(os.path.join(tmp, CONFIG_ASSET)), exist_ok=True)
    with open(os.path.join(tmp, CONFIG_ASSET), "w") as f:
      f.write(config.to_json())
  return path


def _check_saved_model(path):
  if not os.path.isfile(os.path.join(path or "", "saved_model.pb")):
    raise ModelError(f"{path}: no saved_model.pb; pass --model=<run>/{EXPORT_DIR} or --run=<run>")


def load_sampler(path):
  """The SavedModel's `sample` signature, checked to be one gan_tf wrote."""
  _check_saved_model(path)
  loaded = tf.saved_model.load(path)
  if "sample" not in loaded.signatures:
    raise ModelError(f"{path}: has no 'sample' signature; was it written by gan_tf.export?")
  return loaded.signatures["sample"]


def saved_model_config(path):
  """The Config a SavedModel was exported with."""
  _check_saved_model(path)
  if not os.path.isfile(os.path.join(path, CONFIG_ASSET)):
    raise ModelError(f"{path}: no {CONFIG_ASSET}; was it written by gan_tf.export?")
  with open(os.path.join(path, CONFIG_ASSET)) as f:
    return Config.from_json(f.read())


def sample_saved_model(path, n, seed=0, batch_size=SAMPLE_BATCH):
  """n uint8 samples from a SavedModel's `sample` signature: what sampling.sample gives in memory."""
  sample = load_sampler(path)
  return np.concatenate([
      sample(n=tf.constant(size, tf.int32), seed=tf.constant(chunk_seed, tf.int64))["images"].numpy()
      for size, chunk_seed in chunks(n, seed, batch_size)])


def main():
  run, out = rundir.find(flags.FLAGS.run), flags.FLAGS.out
  config, generator = rundir.restore_generator(run)
  path = export_generator(generator, config, out or os.path.join(run, EXPORT_DIR))
  print(json.dumps({"saved_model": path, "experiment": config.name}))


if __name__ == "__main__":
  flags.DEFINE_string("run", "latest", "A run's work dir (with checkpoints/ and config.json); 'latest': "
                      "the newest under runs/.")
  flags.DEFINE_string("out", None, f"Where to write the SavedModel; default <run>/{EXPORT_DIR}.")
  run_main(main)
