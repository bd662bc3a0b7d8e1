"""Trains one experiment: data -> models -> GAN -> fit(callbacks) -> SavedModel.

Run: `python -m gan_tf.train --experiment=mlp [--epochs=3 ...]`, every Config field a flag; a work dir that holds
checkpoints (or `--resume`) continues with its saved config and the flags typed now (docs/reproducibility.md).
"""
from gan_tf import quiet  # noqa: F401  (first: TensorFlow loads without its start-up lines)
import dataclasses
import os
import shutil
import sys
import tempfile

import tensorflow as tf
from absl import flags, logging

from gan_tf import callbacks as callbacks_lib, configs, data, evaluator as evaluator_lib, execution, export, files
from gan_tf import gan as gan_lib, images, rundir, sampling
from gan_tf.config import CHOICES, GROUPS, Config, differences
from gan_tf.errors import run_main


def run(config, workdir, allow_changes=False):
  """Trains config's GAN into workdir, resuming from its latest checkpoint if there is one.

  Args:
    config: a Config (see gan_tf/configs/).
    workdir: the run's folder: config.json, checkpoints/, samples/, TensorBoard events, saved_model/.
    allow_changes: let a resume change what the checkpoint's steps were trained on (config.DATA_FIELDS);
      every change a resume makes is logged and appended to the folder's history.json.
  Returns:
    The trained GAN (keras.Model).
  """
  execution.split_cpu(config.cpu_devices)   # first: anything below may make TF initialize its devices
  resumed = rundir.saved_config(workdir) if rundir.latest_checkpoint(workdir) else None
  config, precision_reason = execution.resolve_precision(config, resumed)
  execution.setup(config)
  strategy = execution.STRATEGIES[config.strategy]()
  chief = execution.is_chief(strategy)
  # Bad input fails here, before anything is written.
  resume_changes = rundir.check_resumable(config, workdir, allow_changes)
  pixels, labels = data.load_images(config)
  steps_per_epoch = data.steps_per_epoch(config, len(pixels))
  execution_steps = data.steps_per_execution(config, len(pixels))
  if config.eval_every:
    evaluator_lib.check_data(config)
  changed = {k: new for k, (_, new) in differences(Config(), config, ignore=("source",)).items()}
  logging.info("Work dir: %s (config.json there holds the whole config)\nConfig, where not the base's: %s",
               workdir, ", ".join(f"{k}={v!r}" for k, v in changed.items()))
  with strategy.scope():
    gan = gan_lib.build_gan(config.replace(steps_per_execution=execution_steps), steps_per_epoch)
    checkpoint = gan.checkpoint()
  outdir = workdir if chief else tempfile.mkdtemp(prefix="gan_tf-worker-")
  try:
    os.makedirs(outdir, exist_ok=True)
    manager = tf.train.CheckpointManager(checkpoint, os.path.join(outdir, rundir.CHECKPOINT_DIR),
                                         max_to_keep=config.checkpoints_to_keep)
    if chief and manager.latest_checkpoint:
      rundir.restore(checkpoint, manager.latest_checkpoint, workdir, resume_changes)
      step = int(gan.step.numpy())
      logging.info("Resumed from %s at step %d", manager.latest_checkpoint, step)
      if resume_changes:   # the history first: config.json then describes the steps from here on
        rundir.record_changes(outdir, step, resume_changes)
        logging.info("resume changes at step %d: %s (kept in %s)", step,
                     rundir.describe_changes(resume_changes), rundir.HISTORY_FILE)
      # The checkpoint holds the old learning rates; a resumed run uses the ones it was given (a
      # schedule holds none: it was built from them).
      if config.lr_decay == "constant":
        gan.d_optimizer.learning_rate = config.d_learning_rate
        gan.g_optimizer.learning_rate = config.g_learning_rate
    elif not chief:
      # Workers start from the chief's checkpoint too, so all replicas hold the same weights.
      latest = rundir.latest_checkpoint(workdir)
      if latest:
        checkpoint.restore(latest).assert_existing_objects_matched()
    files.atomic_write(os.path.join(outdir, rundir.CONFIG_FILE), config.to_json().encode())
    logging.info("Experiment %s, after %s; %s. Data: %s, split %s, %d images, %d steps/epoch in executions "
                 "of %d, jit_compile=%s, strategy=%s (%d replicas), precision=%s (%s)", config.name, config.source,
                 _training(config), data.describe(config), config.split, len(pixels),
                 steps_per_epoch, execution_steps, config.jit_compile, config.strategy,
                 strategy.num_replicas_in_sync, config.mixed_precision, precision_reason)
    try:
      _fit(gan, config, pixels, labels, steps_per_epoch,
           callbacks_lib.make_callbacks(config, outdir, manager, steps_per_epoch))
    except callbacks_lib.DivergenceError as e:
      raise callbacks_lib.DivergenceError(
          f"{e}. {_restore_last_good(gan, checkpoint, manager, config, outdir)}") from None
    export.export_generator(gan.prepare_sampler(), config, os.path.join(outdir, rundir.EXPORT_DIR))
  finally:
    if not chief:
      shutil.rmtree(outdir, ignore_errors=True)
  return gan


def _training(config):
  """How the run trains, against its experiment's source."""
  if config.name not in configs.EXPERIMENTS:
    return "as configured"
  changed = configs.against_source(config)
  if not changed:
    return "with its source's training settings"
  return (f"where its training differs from its source's: "
          f"{', '.join(f'{k}={v!r}' for k, v in changed.items())} (why: gan_tf/configs/{config.name}.py)")


def _restore_last_good(gan, checkpoint, manager, config, workdir):
  """Loads the latest (always finite) checkpoint back and writes its samples; says what it did."""
  if not manager.latest_checkpoint:
    return "No checkpoint was written before it diverged; lower the learning rates or change the loss"
  checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
  step = int(gan.step.numpy())
  path = os.path.join(workdir, rundir.SAMPLES_DIR, f"last_good_step_{step}.png")
  z, grid_labels, rows = callbacks_lib.fixed_inputs(config)
  images.save_png(images.grid(sampling.generate(gan.prepare_sampler(), z, grid_labels), rows=rows), path)
  return (f"The work dir's latest checkpoint is the last good state, step {step} (samples: {path}); "
          "resuming repeats the same steps: lower the learning rates or change the loss first")


def _fit(gan, config, pixels, labels, steps_per_epoch, callbacks):
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
    gan.fit(data.make_dataset(config, pixels, step, labels), epochs=epoch + 1, initial_epoch=epoch, shuffle=False,
            steps_per_epoch=steps_per_epoch - done, callbacks=callbacks, verbose=_verbosity())
    for callback in step_callbacks:
      callback.offset = 0
    epoch += 1
    if gan.stop_training or epoch >= config.epochs:
      return
  gan.fit(data.make_dataset(config, pixels, epoch * steps_per_epoch, labels), epochs=config.epochs,
          initial_epoch=epoch, steps_per_epoch=steps_per_epoch, callbacks=callbacks, shuffle=False,
          verbose=_verbosity())


def _verbosity():
  return 1 if sys.stdout.isatty() else 2   # the progress bar on a terminal, one line an epoch in logs


# --- command line ---------------------------------------------------------------------------------

def define_flags():
  """--experiment, --workdir, --resume, --runs_dir, and one override flag per Config field."""
  flags.DEFINE_string("experiment", None, "An experiment's name (gan_tf/configs/) or the path of a .py file "
                      "that defines get_config() (default: mlp, or the work dir's saved config when resuming).")
  flags.DEFINE_string("workdir", None, "Run folder; default runs/<experiment>-<time>. One that holds "
                      "checkpoints is resumed.")
  flags.DEFINE_bool("resume", False, "Continue the newest runs/<experiment>-* run.")
  flags.DEFINE_string("runs_dir", "runs", "Where new run folders are made.")
  flags.DEFINE_bool("print_config", False, "Print the resolved config as JSON and exit; nothing is written.")
  flags.DEFINE_string("setting", None, "'source': train as the experiment's source prescribes (its SOURCE); "
                      "'default' (unless resuming): gan_tf's defaults.")
  flags.DEFINE_bool("allow_changes", False, "Let a resumed run change what its checkpoint was trained on "
                    "(dataset, data_dir, split, seed, batch_size, d_steps, noise); kept in its history.json.")
  define = {str: flags.DEFINE_string, int: flags.DEFINE_integer, float: flags.DEFINE_float,
            bool: flags.DEFINE_bool}
  for field in dataclasses.fields(Config):   # listed by group in --help (config_help), all in --helpfull
    define[field.type](field.name, None, field.metadata["help"], module_name="gan_tf.config")


def config_help():
  """The config flags by group, each with what it does, its values and its default per experiment."""
  defaults = {name: configs.get_config(name) for name in configs.EXPERIMENTS}
  lines = ["Every field of the experiment's config is a flag (the experiment's value unless given):"]
  for group in GROUPS:
    lines.append(f"\n{group}:")
    for field in (f for f in dataclasses.fields(Config) if f.metadata["group"] == group):
      values = {name: getattr(config, field.name) for name, config in defaults.items()}
      if group == "experiment" or len(set(values.values())) > 1:
        default = "per experiment" + ("" if group == "experiment" else ": " + ", ".join(
            f"{name} {value!r}" for name, value in values.items()))
      else:
        default = repr(next(iter(values.values())))
      allowed = f" One of: {', '.join(CHOICES[field.name])}." if field.name in CHOICES else ""
      lines.append(f"  --{field.name}: {field.metadata['help']}.{allowed} Default: {default}.")
  return "\n".join(lines) + "\n"


def _overrides():
  return {f.name: flags.FLAGS[f.name].value for f in dataclasses.fields(Config) if flags.FLAGS[f.name].present}


def resolve(experiment, workdir, resume, runs_dir, overrides, setting=None):
  """(config, workdir) for a command line. A folder with a config.json is that run: its saved config with
  the flags typed now (overrides, and the fields --setting decides if it was typed); nothing comes from the
  experiment's defaults. Otherwise the experiment's config with --setting and overrides."""
  name = configs.get_config(experiment).name if experiment else "mlp"
  if resume and not workdir:
    workdir = rundir.newest_run(runs_dir, name)
  saved = rundir.saved_config(workdir) if workdir else None
  if saved is None:
    config = configs.get_config(experiment or name, setting or "default", **overrides)
    return config, workdir or rundir.new_workdir(runs_dir, config.name)
  if experiment and name != saved.name:
    raise rundir.ResumeError(f"{workdir} is a run of experiment {saved.name!r}, not {name!r}: resume "
                             f"it with --experiment={saved.name} or none (python -m gan_tf.train "
                             f"--workdir={workdir}), or train into a new --workdir")
  typed = {k: getattr(configs.get_config(experiment or saved.name, setting), k)
           for k in configs.source_settings(experiment or saved.name)} if setting else {}
  return saved.replace(**dict(typed, **overrides)), workdir


def main():
  f = flags.FLAGS
  config, workdir = resolve(f.experiment, f.workdir, f.resume, f.runs_dir, _overrides(), f.setting)
  if f.print_config:
    print(config.to_json())
    return
  run(config, workdir, f.allow_changes)
  print(f"Done: {workdir}\n"
        f"  samples:     {os.path.join(workdir, rundir.SAMPLES_DIR)}/ (progress.gif: every grid in turn)\n"
        f"  TensorBoard: make tensorboard (all runs), or tensorboard --logdir {workdir}\n"
        f"  SavedModel:  {os.path.join(workdir, rundir.EXPORT_DIR)}\n"
        f"  next:        make eval RUN={workdir}; make generate MODEL={workdir}")


if __name__ == "__main__":
  define_flags()
  sys.modules["__main__"].__doc__ = __doc__ + "\n" + config_help()   # absl's --help prints it
  run_main(main)
