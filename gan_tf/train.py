"""Trains one experiment: data -> models -> GAN -> fit(callbacks) -> SavedModel.

Run: `python -m gan_tf.train --experiment=mlp [--epochs=3 --data_dir=... --workdir=...]`; every Config field
is a flag. Re-running into a work dir that holds checkpoints (or `--resume`) continues where it stopped.
"""
import dataclasses
import datetime
import glob
import os
import shutil
import sys
import tempfile

import keras
import tensorflow as tf
from absl import app, flags, logging

from gan_tf import callbacks as callbacks_lib
from gan_tf import data, export, files, gan as gan_lib, images as images_lib, models
from gan_tf.config import ARCHITECTURE_FIELDS, Config, get_config
from gan_tf.errors import UserError, run_main

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


class ResumeError(UserError, ValueError):
  """A work dir's checkpoint cannot continue with this configuration."""


def make_strategy(name):
  """The tf.distribute strategy named by config.strategy."""
  if name == "mirrored":
    return tf.distribute.MirroredStrategy()
  if name == "multi_worker":
    return tf.distribute.MultiWorkerMirroredStrategy()   # cluster from TF_CONFIG
  if name == "tpu":
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="")
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)
  return tf.distribute.get_strategy()


def split_cpu(n):
  """Makes the CPU n logical devices (0: leaves it as is); TF must not have initialized its devices yet."""
  if not n:
    return
  cpu = tf.config.list_physical_devices("CPU")[0]
  try:
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)
  except RuntimeError as e:   # devices already initialized: fine only if they are already split so
    if len(tf.config.list_logical_devices("CPU")) != n:
      raise UserError(f"cpu_devices={n}: TF has already initialized its devices ({e})") from e


def is_chief(strategy):
  """Whether this process writes checkpoints, summaries, samples and the export."""
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.task_type:
    return True
  return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0
                                            and "chief" not in resolver.cluster_spec().jobs)


def make_optimizer(config, prefix, steps_per_epoch=None):
  """The d_ or g_ optimizer from its config fields; float16 wraps it in its own LossScaleOptimizer.

  With config.lr_decay "linear" the rate falls linearly from its value to 0 over the run's updates
  (config.epochs * steps_per_epoch, times d_steps for D and g_steps for G), as in Gulrajani et al.'s
  WGAN-GP code; the schedule reads the optimizer's own (checkpointed) iteration count, so a resumed run
  continues it.
  """
  def field(name):
    return getattr(config, f"{prefix}_{name}")
  learning_rate = field("learning_rate")
  if config.lr_decay == "linear":
    if not steps_per_epoch:
      raise ValueError("lr_decay='linear' needs steps_per_epoch to know the run's length")
    updates = config.epochs * steps_per_epoch * field("steps")
    learning_rate = keras.optimizers.schedules.PolynomialDecay(learning_rate, max(updates, 1),
                                                               end_learning_rate=0.0, power=1.0)
  if field("optimizer") == "adam":
    optimizer = keras.optimizers.Adam(learning_rate, beta_1=field("beta_1"), beta_2=field("beta_2"),
                                      name=f"{prefix}_adam")
  else:
    optimizer = keras.optimizers.SGD(learning_rate, momentum=field("momentum"),
                                     nesterov=field("nesterov"), name=f"{prefix}_sgd")
  if config.mixed_precision == "float16":
    optimizer = keras.optimizers.LossScaleOptimizer(optimizer, name=f"{prefix}_loss_scale")
  return optimizer


def build_gan(config, steps_per_epoch=None):
  """The compiled GAN (optimizers built) and a tf.train.Checkpoint of everything a resume needs;
  steps_per_epoch is needed by config.lr_decay "linear" and config.g_top_k."""
  generator, discriminator = models.build_models(config)
  gan = gan_lib.GAN(generator, discriminator, noise=config.noise, seed=config.seed, g_ema=config.g_ema)
  d_optimizer = make_optimizer(config, "d", steps_per_epoch)
  g_optimizer = make_optimizer(config, "g", steps_per_epoch)
  d_optimizer.build(discriminator.trainable_variables)   # slots exist before a restore fills them
  g_optimizer.build(generator.trainable_variables)
  gan.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, loss=config.loss,
              d_steps=config.d_steps, g_steps=config.g_steps, gp_weight=config.gp_weight,
              label_smoothing=config.label_smoothing, r1_weight=config.r1_weight,
              top_k=config.g_top_k, top_k_decay=config.g_top_k_decay, steps_per_epoch=steps_per_epoch,
              d_augment=config.d_augment,
              jit_compile=config.jit_compile,
              steps_per_execution=config.steps_per_execution)
  # Layers' own RNG states (Dropout) are Keras variables that TF's object graph does not reach: list
  # them, or a resumed run would draw other dropout masks than an uninterrupted one.
  layer_seeds = [v for v in generator.variables + discriminator.variables
                 if v.path.endswith("seed_generator_state")]
  averaged = {"g_average": gan.g_average} if gan.g_average is not None else {}
  checkpoint = tf.train.Checkpoint(generator=generator, discriminator=discriminator,
                                   d_optimizer=d_optimizer, g_optimizer=g_optimizer,
                                   noise_seed=gan.seed_generator.state, layer_seeds=layer_seeds,
                                   step=gan.step, **averaged)
  return gan, checkpoint


def _saved_config(workdir):
  path = os.path.join(workdir, CONFIG_FILE)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return Config.from_json(f.read())


def _check_resumable(config, workdir):
  saved = _saved_config(workdir)
  if saved is None or not tf.train.latest_checkpoint(os.path.join(workdir, CHECKPOINT_DIR)):
    return
  changed = [f"{name}: checkpoint has {getattr(saved, name)!r}, config has {getattr(config, name)!r}"
             for name in ARCHITECTURE_FIELDS if getattr(saved, name) != getattr(config, name)]
  if bool(saved.g_ema) != bool(config.g_ema):
    changed.append(f"g_ema: checkpoint has {saved.g_ema!r} (averaged generator "
                   f"{'kept' if saved.g_ema else 'none'}), config has {config.g_ema!r}")
  if saved.lr_decay != config.lr_decay:   # a schedule keeps no rate variable for the checkpoint's
    changed.append(f"lr_decay: checkpoint has {saved.lr_decay!r}, config has {config.lr_decay!r}")
  if changed:
    raise ResumeError(f"cannot resume {workdir}: its checkpoint was made with other settings "
                      f"({'; '.join(changed)}); "
                      "use a new --workdir or the saved settings")


def _setup(config):
  keras.utils.set_random_seed(config.seed)
  if config.deterministic:
    tf.config.experimental.enable_op_determinism()
  keras.mixed_precision.set_global_policy(POLICIES[config.mixed_precision])


def run(config, workdir):
  """Trains config's GAN into workdir, resuming from its latest checkpoint if there is one.

  Args:
    config: a Config (see experiments/).
    workdir: the run's folder: config.json, checkpoints/, samples/, TensorBoard events, saved_model/.
  Returns:
    The trained GAN (keras.Model).
  """
  split_cpu(config.cpu_devices)   # first: anything below may make TF initialize its devices
  _setup(config)
  strategy = make_strategy(config.strategy)
  chief = is_chief(strategy)
  images, _ = data.load_images(config)   # bad data fails here, before anything is written
  steps_per_epoch = data.steps_per_epoch(config, len(images))
  execution = data.steps_per_execution(config, len(images))
  _check_resumable(config, workdir)
  logging.info("Work dir: %s\nConfig:\n%s", workdir, config.to_json())
  with strategy.scope():
    gan, checkpoint = build_gan(config.replace(steps_per_execution=execution), steps_per_epoch)
  outdir = workdir if chief else tempfile.mkdtemp(prefix="gan_tf-worker-")
  try:
    os.makedirs(outdir, exist_ok=True)
    files.atomic_write(os.path.join(outdir, CONFIG_FILE), config.to_json().encode())
    manager = tf.train.CheckpointManager(checkpoint, os.path.join(outdir, CHECKPOINT_DIR),
                                         max_to_keep=config.checkpoints_to_keep)
    if chief and manager.latest_checkpoint:
      checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
      logging.info("Resumed from %s at step %d", manager.latest_checkpoint, int(gan.step.numpy()))
      # The checkpoint holds the old learning rates; a resumed run uses the ones it was given (a
      # schedule holds none: it was built from them).
      if config.lr_decay == "constant":
        gan.d_optimizer.learning_rate = config.d_learning_rate
        gan.g_optimizer.learning_rate = config.g_learning_rate
    elif not chief:
      # Workers start from the chief's checkpoint too, so all replicas hold the same weights.
      latest = tf.train.latest_checkpoint(os.path.join(workdir, CHECKPOINT_DIR))
      if latest:
        checkpoint.restore(latest).assert_existing_objects_matched()
    logging.info("Experiment %s (%s): %d images, %d steps/epoch in executions of %d, jit_compile=%s, "
                 "strategy=%s (%d replicas), precision=%s", config.name, config.source, len(images),
                 steps_per_epoch, execution, config.jit_compile, config.strategy,
                 strategy.num_replicas_in_sync, config.mixed_precision)
    try:
      _fit(gan, config, images, steps_per_epoch,
           callbacks_lib.make_callbacks(config, outdir, manager, steps_per_epoch))
    except callbacks_lib.DivergenceError as e:
      raise callbacks_lib.DivergenceError(
          f"{e}. {_restore_last_good(gan, checkpoint, manager, config, outdir)}") from None
    export.export_generator(gan.sampler, config, os.path.join(outdir, export.EXPORT_DIR))
  finally:
    if not chief:
      shutil.rmtree(outdir, ignore_errors=True)
  return gan


def _restore_last_good(gan, checkpoint, manager, config, workdir):
  """Loads the latest (always finite) checkpoint back and writes its samples; says what it did."""
  if not manager.latest_checkpoint:
    return "No checkpoint was written before it diverged; lower the learning rates or change the loss"
  checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
  step = int(gan.step.numpy())
  path = os.path.join(workdir, callbacks_lib.SAMPLES_DIR, f"last_good_step_{step}.png")
  pixels = gan.sampler(callbacks_lib.fixed_z(config), training=False).numpy()
  images_lib.save_png(images_lib.grid(pixels), path)
  return (f"The work dir's latest checkpoint is the last good state, step {step} (samples: {path}); "
          "resuming repeats the same steps: lower the learning rates or change the loss first")


def _fit(gan, config, images, steps_per_epoch, callbacks):
  """fit() from the restored step to config.epochs; a resumed partial epoch runs as its own fit."""
  step = int(gan.step.numpy())   # int() of a mirrored variable fails; numpy() reads its first copy
  epoch, done = divmod(step, steps_per_epoch)
  if epoch >= config.epochs:
    logging.info("Nothing to train: step %d is already at epoch %d of %d", step, epoch, config.epochs)
    return
  step_callbacks = [c for c in callbacks if isinstance(c, callbacks_lib.StepCallback)]
  if done:
    for callback in step_callbacks:   # they count global steps; Keras numbers this fit's from 0
      callback.offset = done
    gan.fit(data.make_dataset(config, images, step), epochs=epoch + 1, initial_epoch=epoch, shuffle=False,
            steps_per_epoch=steps_per_epoch - done, callbacks=callbacks, verbose=_verbosity())
    for callback in step_callbacks:
      callback.offset = 0
    epoch += 1
    if gan.stop_training or epoch >= config.epochs:
      return
  gan.fit(data.make_dataset(config, images, epoch * steps_per_epoch), epochs=config.epochs,
          initial_epoch=epoch, steps_per_epoch=steps_per_epoch, callbacks=callbacks, shuffle=False,
          verbose=_verbosity())


def _verbosity():
  return 1 if sys.stdout.isatty() else 2   # the progress bar on a terminal, one line an epoch in logs


def restore_generator(workdir, live=False):
  """(config, generator) from a run's config.json and latest checkpoint: the weight average when the run
  kept one (config.g_ema), as the run's own samples and export use, unless live (G's trained weights)."""
  config = _saved_config(workdir)
  latest = tf.train.latest_checkpoint(os.path.join(workdir, CHECKPOINT_DIR))
  if config is None or latest is None:
    raise ResumeError(f"{workdir}: no {CONFIG_FILE} and checkpoint here; is it a gan_tf run folder?")
  generator, _ = models.build_models(config)
  key = "g_average" if config.g_ema and not live else "generator"
  tf.train.Checkpoint(**{key: generator}).restore(latest).assert_existing_objects_matched().expect_partial()
  if key == "g_average":
    gan_lib.recompute_batchnorm(generator, config.noise)   # as the run's own sampler does
  return config, generator


# --- command line ---------------------------------------------------------------------------------

def define_flags():
  """--experiment, --workdir, --resume, --runs_dir, and one override flag per Config field."""
  flags.DEFINE_string("experiment", None, "Experiment in experiments/ (default: mlp, or the work dir's "
                      "saved config when resuming).")
  flags.DEFINE_string("workdir", None, "Run folder; default runs/<experiment>-<time>. One that holds "
                      "checkpoints is resumed.")
  flags.DEFINE_bool("resume", False, "Continue the newest runs/<experiment>-* run.")
  flags.DEFINE_string("runs_dir", "runs", "Where new run folders are made.")
  flags.DEFINE_string("setting", "default", "'source': train as the experiment's source prescribes (its "
                      "SOURCE, e.g. mlp's non-saturating loss with k = 1); 'default': gan_tf's defaults.")
  define = {str: flags.DEFINE_string, int: flags.DEFINE_integer, float: flags.DEFINE_float,
            bool: flags.DEFINE_bool, tuple: flags.DEFINE_list}
  for field in dataclasses.fields(Config):
    define[field.type](field.name, None, f"Override config.{field.name} (default: the experiment's; "
                       f"base {field.default!r}).")


def _overrides():
  result = {}
  for field in dataclasses.fields(Config):
    if flags.FLAGS[field.name].present:
      value = flags.FLAGS[field.name].value
      result[field.name] = tuple(int(v) for v in value) if field.type is tuple else value
  return result


def _newest_run(runs_dir, name):
  runs = [d for d in glob.glob(os.path.join(runs_dir, f"{name}-*"))
          if tf.train.latest_checkpoint(os.path.join(d, CHECKPOINT_DIR))]
  if not runs:
    raise ResumeError(f"--resume: no run of {name!r} with a checkpoint under {runs_dir}/")
  return max(runs, key=os.path.getmtime)


def resolve(experiment, workdir, resume, runs_dir, overrides, setting="default"):
  """(config, workdir) for a command line: a saved run's config when continuing it, else the experiment's."""
  name = experiment or "mlp"
  if resume and not workdir:
    workdir = _newest_run(runs_dir, name)
  saved = _saved_config(workdir) if workdir else None
  if saved is not None and not experiment:
    config = saved.replace(**overrides)
  else:
    config = get_config(name, setting, **overrides)
  if not workdir:
    workdir = os.path.join(runs_dir, f"{config.name}-{datetime.datetime.now():%Y%m%d-%H%M%S}")
  return config, workdir


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  f = flags.FLAGS
  config, workdir = resolve(f.experiment, f.workdir, f.resume, f.runs_dir, _overrides(), f.setting)
  run(config, workdir)
  print(f"Done: {workdir}")


if __name__ == "__main__":
  define_flags()
  run_main(main)
