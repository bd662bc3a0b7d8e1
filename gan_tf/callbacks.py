"""What a run leaves behind while it trains (sample grids, TensorBoard summaries, checkpoints, periodic
sample-quality figures) and the guards that stop it (divergence, mlp_small's plateau rule). Step-level
scalars go at the global step, so a resumed run's curves continue where they stopped."""
import functools
import glob
import math
import os
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from gan_tf import images, metrics, sampling, scoring
from gan_tf.errors import TrainingError
from gan_tf.files import WriteError
from gan_tf.rundir import SAMPLES_DIR, SUMMARY_DIR


class StepCallback(keras.callbacks.Callback):
  """Knows the global step after each batch without reading a variable (no per-step sync)."""

  def __init__(self, steps_per_epoch):
    super().__init__()
    self.steps_per_epoch = steps_per_epoch
    self.epoch = 0
    self.offset = 0   # steps of the current epoch already run before this fit (a resumed partial epoch)

  def on_epoch_begin(self, epoch, logs=None):
    self.epoch = epoch

  def global_step(self, batch):
    # Keras passes the index of the last batch an execution ran (steps_per_execution > 1 too).
    return self.epoch * self.steps_per_epoch + self.offset + batch + 1


class SampleGrid(keras.callbacks.Callback):
  """Every `every` epochs, G(fixed z) as samples/epoch_NNNN.png and in TensorBoard at the epoch's last train
  step (the losses' axis); at the end a GIF. inputs: fixed_inputs(config)."""

  def __init__(self, workdir, inputs, every, epochs, writer, steps_per_epoch):
    super().__init__()
    self.folder = os.path.join(workdir, SAMPLES_DIR)
    (self.z, self.labels, self.rows), self.every, self.epochs, self.writer = inputs, every, epochs, writer
    self.steps_per_epoch = steps_per_epoch

  def _write(self, epoch):
    fakes = sampling.generate(self.model.prepare_sampler(), self.z, self.labels).numpy()
    mosaic = images.grid(fakes, rows=self.rows)
    images.save_png(mosaic, os.path.join(self.folder, f"epoch_{epoch:04d}.png"))
    with self.writer.as_default():
      tf.summary.image("samples", mosaic.reshape((1,) + mosaic.shape[:2] + (-1,)),
                       step=epoch * self.steps_per_epoch, description=f"epoch {epoch}")

  def on_train_begin(self, logs=None):
    if not os.path.exists(os.path.join(self.folder, "epoch_0000.png")):
      self._write(0)   # the untrained generator: the first frame to compare against

  def on_epoch_end(self, epoch, logs=None):
    if (epoch + 1) % self.every == 0 or epoch + 1 == self.epochs:
      self._write(epoch + 1)

  def on_train_end(self, logs=None):
    images.save_gif(sorted(glob.glob(os.path.join(self.folder, "epoch_*.png"))),
                    os.path.join(self.folder, "progress.gif"))


class ScalarLogger(StepCallback):
  """The step's logs (d_loss, g_loss, mean D(x) and D(G(z))), rates and images/s every `every` steps."""

  def __init__(self, writer, every, steps_per_epoch, images_per_step):
    super().__init__(steps_per_epoch)
    self.writer, self.every, self.images_per_step = writer, every, images_per_step

  def on_train_begin(self, logs=None):
    self.last_step, self.last_time = None, time.perf_counter()
    self.first = True

  def on_epoch_begin(self, epoch, logs=None):
    super().on_epoch_begin(epoch, logs)
    self.epoch_start, self.epoch_steps = time.perf_counter(), 0

  def on_train_batch_end(self, batch, logs=None):
    step = self.global_step(batch)
    if self.first:
      self.first = False
      logging.info("first train step done")   # make bench times the start-up to this line
    if self.last_step is None:
      self.last_step = step - 1 - batch
    self.epoch_steps = batch + 1
    if step // self.every == self.last_step // self.every:
      return
    now = time.perf_counter()
    with self.writer.as_default(step=step):
      for name, value in (logs or {}).items():
        tf.summary.scalar(name, value)
      tf.summary.scalar("images_per_second",
                        (step - self.last_step) * self.images_per_step / (now - self.last_time))
      tf.summary.scalar("learning_rate/d", _learning_rate(self.model.d_optimizer))
      tf.summary.scalar("learning_rate/g", _learning_rate(self.model.g_optimizer))
    self.last_step, self.last_time = step, now

  def on_epoch_end(self, epoch, logs=None):
    seconds = time.perf_counter() - self.epoch_start
    with self.writer.as_default(step=(epoch + 1) * self.steps_per_epoch):
      tf.summary.scalar("epoch_images_per_second", self.epoch_steps * self.images_per_step / seconds)
    self.writer.flush()


def _learning_rate(optimizer):
  optimizer = getattr(optimizer, "inner_optimizer", optimizer)
  return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class Checkpointer(StepCallback):
  """Saves the CheckpointManager's checkpoint every `every` steps and at each epoch end."""

  def __init__(self, manager, every, steps_per_epoch):
    super().__init__(steps_per_epoch)
    self.manager, self.every = manager, every

  def on_train_begin(self, logs=None):
    self.last_saved = None

  def _save(self, step):
    if step == self.last_saved:
      return
    if not all_finite(self.model.generator.weights + self.model.discriminator.weights):
      # Never save a diverged state: the latest checkpoint must always be one worth resuming.
      raise DivergenceError(f"step {step}: a weight is NaN or infinite")
    try:
      self.manager.save(checkpoint_number=step)
    except (tf.errors.OpError, OSError) as e:   # TF writes to a temporary name: the last one is intact
      raise WriteError(f"cannot write checkpoint {self.manager.directory}: "
                       f"{getattr(e, 'message', e)}") from e
    self.last_saved = step

  def on_train_batch_end(self, batch, logs=None):
    step = self.global_step(batch)
    if self.last_saved is None:
      self.last_saved = step - 1 - batch
    if step // self.every != self.last_saved // self.every:
      self._save(step)

  def on_epoch_end(self, epoch, logs=None):
    self._save((epoch + 1) * self.steps_per_epoch)


class DivergenceError(TrainingError):
  """A loss or a weight became NaN or infinite."""


def all_finite(variables):
  """Whether every value of every variable is finite (one reduction, one sync)."""
  floats = [v for v in variables if tf.as_dtype(v.dtype).is_floating]
  return bool(tf.reduce_all([tf.reduce_all(tf.math.is_finite(v)) for v in floats]))


class DivergenceGuard(StepCallback):
  """Stops training at the first step whose losses are not finite, naming the step and the losses."""

  def on_train_batch_end(self, batch, logs=None):
    values = {k: float(v) for k, v in (logs or {}).items()}
    if not all(math.isfinite(v) for v in values.values()):
      shown = ", ".join(f"{k}={v:.4g}" for k, v in sorted(values.items()))
      raise DivergenceError(f"training diverged at step {self.global_step(batch)}: {shown}")


class BothLossesPlateau(keras.callbacks.Callback):
  """Stops once d_loss and g_loss both moved < min_delta for `patience` epochs: mlp_small's source's rule."""

  def __init__(self, patience, min_delta):
    super().__init__()
    self.patience, self.min_delta = patience, min_delta

  def on_train_begin(self, logs=None):
    self.previous, self.stable_epochs, self.stopped_epoch = None, 0, None

  def on_epoch_end(self, epoch, logs=None):
    current = np.array([logs["d_loss"], logs["g_loss"]], np.float64)
    stable = self.previous is not None and np.all(np.abs(current - self.previous) < self.min_delta)
    self.stable_epochs = self.stable_epochs + 1 if stable else 0
    self.previous = current
    if self.stable_epochs >= self.patience:
      self.stopped_epoch = epoch + 1
      self.model.stop_training = True


def fixed_inputs(config):
  """(z, labels, rows) of every sample grid of a run, so grids compare across epochs and resumes; conditional:
  one class per row, the same z down each column."""
  if not config.num_classes:
    return sampling.draw_z(config.sample_grid ** 2, config.latent_dim, config.noise, config.seed), None, None
  z = sampling.draw_z(config.sample_grid, config.latent_dim, config.noise, config.seed)
  labels = np.repeat(np.arange(config.num_classes, dtype=np.int32), config.sample_grid)
  return tf.tile(z, [config.num_classes, 1]), labels, config.num_classes


class EvaluationCallback(keras.callbacks.Callback):
  """Every `every_epochs` epochs, scores n samples of model.sampler against the reference split as eval/*
  scalars at the epoch's last train step, and warns when fewer than min_classes classes are covered."""

  def __init__(self, config, every_epochs, n=2000, writer=None, cache_dir=None, min_classes=8, seed=0,
               spec=None, steps_per_epoch=1):
    super().__init__()
    self.config, self.every_epochs, self.n, self.writer = config, every_epochs, n, writer
    self.cache_dir, self.min_classes, self.seed, self.spec = cache_dir, min_classes, seed, spec
    self.reference, self.steps_per_epoch = None, steps_per_epoch
    self.results = {}   # epoch -> figures

  def on_train_begin(self, logs=None):
    if self.reference is None:   # once per callback: a resumed fit reuses it
      self.reference = scoring.reference(self.config, self.cache_dir, self.spec)

  def on_epoch_end(self, epoch, logs=None):
    if (epoch + 1) % self.every_epochs == 0:
      self.evaluate(epoch + 1)

  def evaluate(self, epoch):
    """Scores the generator now, logs the figures at the end of `epoch` and returns them."""
    # The same seed every time: the curves then compare one fixed set of z across epochs.
    sample = functools.partial(sampling.sample, self.model.prepare_sampler(), self.config.noise)
    figures = scoring.score(self.reference, self.config, sample, self.n, self.seed)[0]
    self.results[epoch] = figures
    if self.writer is not None:
      with self.writer.as_default(step=epoch * self.steps_per_epoch):   # the losses' axis
        for key in metrics.FIGURES:
          if key in figures:
            tf.summary.scalar(f"eval/{key}", figures[key])
        tf.summary.scalar("eval/max_class_fraction", max(figures["histogram"]) / sum(figures["histogram"]))
      self.writer.flush()
    logging.info("Epoch %d: %s; histogram %s", epoch, ", ".join(
        f"{f.label} {figures[key]:{f.form}}" for key, f in metrics.FIGURES.items() if key in figures),
        figures["histogram"])
    if figures["classes_covered"] < self.min_classes:
      logging.warning("Epoch %d: samples cover only %d classes (>= %.0f%% of samples each; histogram %s): "
                      "mode collapse?", epoch, figures["classes_covered"], 100 * metrics.COVERAGE_FRACTION,
                      figures["histogram"])
    return figures


def make_callbacks(config, workdir, manager, steps_per_epoch):
  """The run's callbacks: progress bar (fit's own), TensorBoard, scalars, samples, checkpoints."""
  writer = tf.summary.create_file_writer(os.path.join(workdir, SUMMARY_DIR))
  images_per_step = config.batch_size * config.d_steps
  callbacks = [
      DivergenceGuard(steps_per_epoch),   # first: nothing else sees a diverged step
      keras.callbacks.TensorBoard(log_dir=workdir, update_freq="epoch", write_graph=False),
      ScalarLogger(writer, config.log_every, steps_per_epoch, images_per_step),
      SampleGrid(workdir, fixed_inputs(config), config.sample_every, config.epochs, writer, steps_per_epoch),
      Checkpointer(manager, config.checkpoint_every, steps_per_epoch),
  ]
  if config.eval_every:
    callbacks.append(EvaluationCallback(config, config.eval_every, n=config.eval_n, writer=writer,
                                        min_classes=config.eval_min_classes, steps_per_epoch=steps_per_epoch))
  if config.plateau_patience:
    callbacks.append(BothLossesPlateau(config.plateau_patience, config.plateau_min_delta))
  return callbacks
