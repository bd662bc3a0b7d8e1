"""The generator as a TensorFlow SavedModel usable with nothing but TensorFlow: serving_default (z [, labels]),
sample (n, seed), sample_class (with a label) and metadata; docs/export.md has their shapes.

Run: `python -m gan_tf.export --run=runs/mlp-... [--out=DIR]` (default DIR: <run>/saved_model). A SavedModel
is a program: load one only from a source you trust.
"""
from gan_tf import quiet  # noqa: F401  (first: TensorFlow loads without its start-up lines)
import json
import os

import keras
import numpy as np
import tensorflow as tf
from absl import flags

from gan_tf import files, gan as gan_lib, models, rundir
from gan_tf.config import Config
from gan_tf.errors import UserError, run_main
from gan_tf.rundir import EXPORT_DIR
from gan_tf.sampling import SAMPLE_BATCH, chunk_labels, chunks, draw_z, generate, to_uint8

MAX_SAMPLE = 65536   # one call's images; more would be a memory bomb, not a request
CONFIG_ASSET = os.path.join("assets.extra", "gan_tf_config.json")


class ModelError(UserError, ValueError):
  """The folder is not a gan_tf SavedModel."""


def export_generator(generator, config, path):
  """Writes generator as a SavedModel at path, atomically (a killed export leaves no half model)."""
  latent_dim, noise, classes = config.latent_dim, config.noise, config.num_classes

  # The checks gate the work explicitly: stateless ops are not ordered after an assert, so without the
  # control dependency the generator's own shape error could fire first.
  def checked(value, condition, message):
    with tf.control_dependencies([tf.debugging.assert_equal(condition, True, message=message)]):
      return tf.identity(value)

  def serve(z, labels=None):
    z = checked(z, tf.equal(tf.shape(z)[1], latent_dim), f"z must be float32 [batch, {latent_dim}]")
    if classes:
      labels = checked(labels, tf.reduce_all((labels >= 0) & (labels < classes)),
                       f"labels must be in [0, {classes})")
    return {"images": tf.cast(generate(generator, z, labels), tf.float32)}

  def sample_class(n, seed, label=None):
    n = checked(n, tf.logical_and(n >= 1, n <= MAX_SAMPLE), f"n must be in [1, {MAX_SAMPLE}]")
    if label is not None:
      label = checked(label, tf.logical_and(label >= 0, label < classes), f"label must be in [0, {classes})")
    labels = chunk_labels(n, classes, seed, label)
    return {"images": to_uint8(generate(generator, draw_z(n, latent_dim, noise, seed), labels))}

  def metadata():
    return {"experiment": tf.constant(config.name), "latent_dim": tf.constant(latent_dim, tf.int32),
            "noise": tf.constant(noise), "source": tf.constant(config.source),
            "conditional": tf.constant(bool(classes)), "num_classes": tf.constant(classes, tf.int32),
            "dataset": tf.constant(config.dataset), "image_shape": tf.constant(config.image_shape, tf.int32)}

  archive = keras.export.ExportArchive()
  archive.track(generator)
  n_and_seed = [tf.TensorSpec([], tf.int32, name="n"), tf.TensorSpec([], tf.int64, name="seed")]
  z_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="z")
  if classes:
    archive.add_endpoint("serve", serve, input_signature=[z_spec, tf.TensorSpec([None], tf.int32, name="labels")])
    archive.add_endpoint("sample_class", sample_class,
                         input_signature=n_and_seed + [tf.TensorSpec([], tf.int32, name="label")])
  else:
    archive.add_endpoint("serve", serve, input_signature=[z_spec])
  archive.add_endpoint("sample", lambda n, seed: sample_class(n, seed), input_signature=n_and_seed)
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


def load_sampler(path, label=None):
  """The SavedModel's `sample` signature, or for a label its `sample_class`, checked to be one gan_tf wrote
  (and conditional, for a label): a function of n, seed (and label) as tensors."""
  return _sampler(_signatures(path), path, label)


def _signatures(path):
  _check_saved_model(path)
  signatures = tf.saved_model.load(path).signatures
  if "sample" not in signatures:
    raise ModelError(f"{path}: has no 'sample' signature; was it written by gan_tf.export?")
  return signatures


def _sampler(signatures, path, label):
  if label is None:
    return signatures["sample"]
  if "sample_class" not in signatures:
    raise ModelError(f"{path}: an unconditional model takes no label; train with --conditional to ask "
                     "for a class")
  classes = int(signatures["metadata"]()["num_classes"])
  if not 0 <= label < classes:
    raise ModelError(f"label {label}: this model's classes are 0 to {classes - 1}")
  sample_class = signatures["sample_class"]
  return lambda n, seed: sample_class(n=n, seed=seed, label=tf.constant(label, tf.int32))


def saved_model_config(path):
  """The Config a SavedModel was exported with."""
  _check_saved_model(path)
  if not os.path.isfile(os.path.join(path, CONFIG_ASSET)):
    raise ModelError(f"{path}: no {CONFIG_ASSET}; was it written by gan_tf.export?")
  with open(os.path.join(path, CONFIG_ASSET)) as f:
    return Config.from_json(f.read())


def saved_model_sampler(path):
  """sample(n, seed=0, label=None): n uint8 images of the SavedModel at path (loaded once), exactly what
  sampling.sample gives in memory."""
  signatures = _signatures(path)

  def sample(n, seed=0, label=None, batch_size=SAMPLE_BATCH):
    signature = _sampler(signatures, path, label)
    return np.concatenate([
        signature(n=tf.constant(size, tf.int32), seed=tf.constant(chunk_seed, tf.int64))["images"].numpy()
        for size, chunk_seed in chunks(n, seed, batch_size)])
  return sample


def restore_generator(workdir, live=False):
  """(config, generator) of a run's latest checkpoint: its weight average if kept, unless live (G's own)."""
  config, latest = rundir.saved_config(workdir), rundir.latest_checkpoint(workdir)
  if config is None or latest is None:
    raise rundir.ResumeError(f"{workdir}: no {rundir.CONFIG_FILE} and checkpoint here; is it a gan_tf run folder?")
  generator, _ = models.build_models(config)
  key = "g_average" if config.g_ema and not live else "generator"
  tf.train.Checkpoint(**{key: generator}).restore(latest).assert_existing_objects_matched().expect_partial()
  if key == "g_average":
    gan_lib.recompute_batchnorm(generator, config.noise)   # as the run itself does before it samples
  return config, generator


def main():
  run, out = rundir.find(flags.FLAGS.run), flags.FLAGS.out
  config, generator = restore_generator(run)
  path = export_generator(generator, config, out or os.path.join(run, EXPORT_DIR))
  print(json.dumps({"saved_model": path, "experiment": config.name}))


if __name__ == "__main__":
  flags.DEFINE_string("run", "latest", "A run's work dir (with checkpoints/ and config.json); 'latest': "
                      "the newest under runs/.")
  flags.DEFINE_string("out", None, f"Where to write the SavedModel; default <run>/{EXPORT_DIR}.")
  run_main(main)
