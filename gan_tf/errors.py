"""Errors the command line reports as one line instead of a traceback: exit code 2 for bad input from a
person (flags, files, folders), 3 for a training run that diverged."""
import logging as std_logging
import sys

from absl import app, flags, logging


class UserError(Exception):
  """Bad input from a person; the message says what was wrong and what to do."""


class TrainingError(Exception):
  """Training cannot go on (it diverged); the work dir holds the last good state."""


def run_main(main_fn):
  """app.run(main_fn()); a UserError, bad flag or stray argument is one line and exit 2, TrainingError 3."""
  def parse(argv):
    try:
      argv = flags.FLAGS(argv)
    except flags.Error as e:
      sys.stderr.write(f"error: {e}\n")
      sys.exit(2)
    if len(argv) > 1:
      sys.stderr.write(f"error: unexpected arguments {argv[1:]}; flags take the form --name=value\n")
      sys.exit(2)
    return argv

  def guarded(argv):
    try:
      main_fn()
    except UserError as e:
      sys.stderr.write(f"error: {e}\n")
      sys.exit(2)
    except TrainingError as e:
      sys.stderr.write(f"error: {e}\n")
      sys.exit(3)
  # TensorFlow's own INFO lines (saver sharding, signature renames) drown ours: keep gan_tf's and warnings.
  logging.get_absl_handler().addFilter(
      lambda record: record.levelno >= std_logging.WARNING or "gan_tf" in record.pathname)
  std_logging.getLogger("tensorflow").setLevel(std_logging.WARNING)   # its own handler prints INFO lines
  app.run(guarded, flags_parser=parse)
