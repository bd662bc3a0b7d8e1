"""A run's folder (its `workdir`): what is in it, and finding, resuming and restoring one.

  config.json     the Config it was trained with
  checkpoints/    tf.train checkpoints of everything a resume needs (GAN.checkpoint)
  samples/        fixed-z grids per epoch and progress.gif
  gan/, train/    TensorBoard events (gan_tf's own step-level summaries; Keras's per-epoch ones)
  saved_model/    the exported generator
"""
import datetime
import glob
import os

import tensorflow as tf

from gan_tf import gan as gan_lib, models
from gan_tf.config import ARCHITECTURE_FIELDS, Config
from gan_tf.errors import UserError

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
SAMPLES_DIR = "samples"
SUMMARY_DIR = "gan"
EXPORT_DIR = "saved_model"


class ResumeError(UserError, ValueError):
  """A run folder is missing, or its checkpoint cannot continue with this configuration."""


def saved_config(workdir):
  """The Config in workdir's config.json, or None."""
  path = os.path.join(workdir, CONFIG_FILE)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return Config.from_json(f.read())


def latest_checkpoint(workdir):
  return tf.train.latest_checkpoint(os.path.join(workdir, CHECKPOINT_DIR))


def check_resumable(config, workdir):
  """Raises ResumeError if workdir's checkpoint was made with settings config cannot continue."""
  saved = saved_config(workdir)
  if saved is None or not latest_checkpoint(workdir):
    return
  changed = [f"{name}: checkpoint has {getattr(saved, name)!r}, config has {getattr(config, name)!r}"
             for name in ARCHITECTURE_FIELDS if getattr(saved, name) != getattr(config, name)]
  if bool(saved.g_ema) != bool(config.g_ema):
    changed.append(f"g_ema: checkpoint has {saved.g_ema!r} (averaged generator "
                   f"{'kept' if saved.g_ema else 'none'}), config has {config.g_ema!r}")
  if (saved.mixed_precision == "float16") != (config.mixed_precision == "float16"):   # loss-scale state
    changed.append(f"mixed_precision: checkpoint has {saved.mixed_precision!r}, config has "
                   f"{config.mixed_precision!r} (float16 keeps a loss scale in its optimizers)")
  if saved.lr_decay != config.lr_decay:   # a schedule keeps no rate variable for the checkpoint's
    changed.append(f"lr_decay: checkpoint has {saved.lr_decay!r}, config has {config.lr_decay!r}")
  if changed:
    raise ResumeError(f"cannot resume {workdir}: its checkpoint was made with other settings "
                      f"({'; '.join(changed)}); use a new --workdir or the saved settings")


def restore_generator(workdir, live=False):
  """(config, generator) of a run's latest checkpoint: its weight average if kept, unless live (G's own)."""
  config = saved_config(workdir)
  latest = latest_checkpoint(workdir)
  if config is None or latest is None:
    raise ResumeError(f"{workdir}: no {CONFIG_FILE} and checkpoint here; is it a gan_tf run folder?")
  generator, _ = models.build_models(config)
  key = "g_average" if config.g_ema and not live else "generator"
  tf.train.Checkpoint(**{key: generator}).restore(latest).assert_existing_objects_matched().expect_partial()
  if key == "g_average":
    gan_lib.recompute_batchnorm(generator, config.noise)   # as the run's own sampler does
  return config, generator


def new_workdir(runs_dir, name):
  """runs_dir/<name>-<date>-<time>: a new run's folder."""
  return os.path.join(runs_dir, f"{name}-{datetime.datetime.now():%Y%m%d-%H%M%S}")


def find(run, runs_dir="runs"):
  """run's folder; "latest" names the newest run with a checkpoint under runs_dir."""
  return newest_run(runs_dir) if run == "latest" else run


def newest_run(runs_dir, name=None):
  """The most recently written run folder under runs_dir with a checkpoint (of experiment name, if given)."""
  runs = [d for d in glob.glob(os.path.join(runs_dir, f"{name}-*" if name else "*"))
          if latest_checkpoint(d)]
  if not runs:
    raise ResumeError(f"no run{f' of {name!r}' if name else ''} with a checkpoint under {runs_dir}/")
  return max(runs, key=os.path.getmtime)
