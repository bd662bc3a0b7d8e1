"""A run's folder (its `workdir`): what is in it (docs/reproducibility.md lists config.json, history.json,
checkpoints/, samples/, the TensorBoard folders and saved_model/), and finding, resuming and restoring one.
"""
import datetime
import glob
import json
import os

import tensorflow as tf

from gan_tf import files
from gan_tf.config import ARCHITECTURE_FIELDS, DATA_FIELDS, Config, ConfigError, differences
from gan_tf.errors import UserError

CONFIG_FILE = "config.json"
HISTORY_FILE = "history.json"
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
  try:
    with open(path, "rb") as f:
      return Config.from_json(f.read().decode())
  except (OSError, UnicodeDecodeError, json.JSONDecodeError, ConfigError, TypeError, AttributeError) as e:
    raise ResumeError(f"{path} is not a readable gan_tf config ({type(e).__name__}: {str(e).splitlines()[0]}); "
                      "restore the file, or train into a new --workdir") from e


def latest_checkpoint(workdir):
  return tf.train.latest_checkpoint(os.path.join(workdir, CHECKPOINT_DIR))


def describe_changes(changed):
  """'loss 'non_saturating' -> 'hinge', epochs 1 -> 2' for changes()."""
  return ", ".join(f"{field} {old!r} -> {new!r}" for field, (old, new) in changed.items())


def check_resumable(config, workdir, allow_changes=False):
  """The changes config makes to workdir's checkpointed run ({} if none); ResumeError for one its checkpoint
  cannot take (shapes, optimizer state) and, unless allow_changes, for one to its data (DATA_FIELDS)."""
  saved = saved_config(workdir)
  if saved is None or not latest_checkpoint(workdir):
    return {}
  changed = differences(saved, config)
  fixed = [f"{name}: checkpoint has {getattr(saved, name)!r}, config has {getattr(config, name)!r}"
           for name in ARCHITECTURE_FIELDS + ("lr_decay",)
           if getattr(saved, name) != getattr(config, name)]
  if saved.name != config.name:
    fixed.append(f"name: checkpoint has experiment {saved.name!r}, config has {config.name!r}")
  if bool(saved.g_ema) != bool(config.g_ema):
    fixed.append(f"g_ema: checkpoint has {saved.g_ema!r} (averaged generator "
                 f"{'kept' if saved.g_ema else 'none'}), config has {config.g_ema!r}")
  if (saved.mixed_precision == "float16") != (config.mixed_precision == "float16"):   # loss-scale state
    fixed.append(f"mixed_precision: checkpoint has {saved.mixed_precision!r}, config has "
                 f"{config.mixed_precision!r} (float16 keeps a loss scale in its optimizers)")
  if fixed:
    raise ResumeError(f"cannot resume {workdir}: its checkpoint was made with other settings "
                      f"({'; '.join(fixed)}); use a new --workdir or the saved settings")
  data_changes = {k: v for k, v in changed.items() if k in DATA_FIELDS}
  if data_changes and not allow_changes:
    raise ResumeError(f"cannot resume {workdir} as asked: {describe_changes(data_changes)} would change what "
                      "its checkpoint's steps were trained on; drop those flags to continue as it was trained, "
                      f"add --allow_changes to train on with them (recorded in {HISTORY_FILE}), or use a new "
                      "--workdir")
  return {k: v for k, v in changed.items() if k != "source"}


def restore(checkpoint, path, workdir, changed):
  """Restores path into checkpoint; a ResumeError naming the resume's changes if some of this config's
  variables have no value there (an optimizer with state the checkpoint's had not, e.g. SGD -> Adam)."""
  try:
    checkpoint.restore(path).assert_existing_objects_matched()
  except AssertionError as e:
    raise ResumeError(f"cannot resume {workdir}: its checkpoint holds no values for some of this config's "
                      f"variables ({str(e).split('.')[0]}); the resume changes "
                      f"{describe_changes(changed) or 'nothing'}: go back to the saved settings, or use a new "
                      "--workdir") from e


def history(workdir):
  """workdir's resume history: [{"step": N, "changes": {field: [old, new]}}, ...], oldest first."""
  path = os.path.join(workdir, HISTORY_FILE)
  if not os.path.exists(path):
    return []
  try:
    with open(path) as f:
      return json.load(f)
  except (OSError, ValueError) as e:
    raise ResumeError(f"{path} is not readable ({e}); restore it, or train into a new --workdir") from e


def record_changes(workdir, step, changed):
  """Appends a resume's changes at step to workdir's history (before config.json takes them)."""
  entry = {"step": step, "time": f"{datetime.datetime.now():%Y-%m-%d %H:%M:%S}",
           "changes": {field: list(values) for field, values in changed.items()}}
  files.atomic_write(os.path.join(workdir, HISTORY_FILE),
                     (json.dumps(history(workdir) + [entry], indent=1) + "\n").encode())


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
