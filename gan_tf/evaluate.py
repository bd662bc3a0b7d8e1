"""Offline sample quality of a run or a SavedModel: a table on stderr, one JSON line on stdout.

Run: `python -m gan_tf.evaluate --run=RUN|--model=DIR [--n --seed --nearest --cas]`: n samples against the
evaluator's held-out split (gan_tf.scoring) beside n real training images; docs/evaluation.md has each figure.
"""
from gan_tf import quiet  # noqa: F401  (first: TensorFlow loads without its start-up lines)
import json
import os
import sys

import numpy as np
from absl import flags

from gan_tf import data, evaluator as evaluator_lib, export, images, metrics, rundir, sampling, scoring
from gan_tf.config import STACKED
from gan_tf.errors import UserError, run_main

DEFAULT_N = 10_000
PAIRS = 32   # sample / nearest pairs in the copy check's PNG


def _sampler(run, model, live=False):
  """(config, sample(n, seed, label) -> uint8 images, what is sampled) for --run or --model."""
  if run:
    path = os.path.join(run, rundir.EXPORT_DIR)
    if live or not os.path.exists(path):
      config, generator = export.restore_generator(run, live)
      weights = ", live weights" if live else ""
      return (config, lambda n, seed=0, label=None: sampling.sample(generator, config.noise, n, seed, label),
              f"{run} (latest checkpoint{weights})")
    model = path
  return export.saved_model_config(model), export.saved_model_sampler(model), model


def _nearest_png(samples, nearest, train_images, path):
  """The PAIRS samples closest to a training image, each followed by that image, closest first."""
  distances, indices = nearest
  order = np.argsort(distances)[:PAIRS]
  pairs = np.stack([samples[order], train_images[indices[order]]], axis=1).reshape((-1,) + samples.shape[1:])
  images.save_png(images.grid(pairs, rows=max(1, len(order) // 4)), path)
  return path


def evaluate(f):
  """(the run's config, make eval's result) for the command line's flags f (define_flags)."""
  if f.live and not f.run:
    raise UserError("--live needs --run: a SavedModel holds only the weights it was exported with")
  run = f.run and rundir.find(f.run)
  config, sample, source = _sampler(run, f.model, f.live)
  if f.data_dir is not None:
    config = config.replace(data_dir=f.data_dir)
  stacked = config.dataset in STACKED
  if stacked and f.nearest:
    raise UserError(f"--nearest compares grey images with their training images; {config.dataset}'s stacks "
                    "are drawn from the digits, so drop --nearest (the modes tell collapse)")
  n = f.n or (scoring.STACKED_N if stacked else DEFAULT_N)
  reference = scoring.reference(config, f.cache_dir)
  info = reference.evaluator.info
  train_images, train_labels = scoring.floor_images(reference, config)
  figures, fakes, _ = scoring.score(reference, config, sample, n, f.seed, bootstrap=f.bootstrap)
  result = {"source": source, "experiment": config.name, "dataset": config.dataset,
            "data_dir": data.idx_dir(config), "seed": f.seed, "conditional": config.conditional,
            **figures,
            "reference_split": info["eval_split"],
            "real_floor": dict(scoring.real_floor(reference, train_images, n, f.seed,
                                                  train_labels if config.num_classes else None),
                               real_split=config.split if stacked else info["train_split"]),
            "evaluator": {k: info[k] for k in ("sha256", "shipped", "path", "test_accuracy", "train_split",
                                                "eval_split", "train_examples", "eval_examples",
                                                "trained_now", "train_seconds")}}
  if f.cas:
    if not config.num_classes:
      raise UserError("--cas needs a conditional run (--conditional): it trains a classifier on the labelled "
                      "samples")
    result["cas"] = scoring.classification_accuracy_score(reference, config, sample, f.seed)
  if f.nearest:
    figures, checked, nearest = scoring.copy_check(reference, fakes, train_images, seed=f.seed)
    where = run or os.path.dirname(os.path.abspath(f.model))
    figures["png"] = _nearest_png(checked, nearest, train_images,
                                  os.path.join(where, f"nearest-n{n}-seed{f.seed}.png"))
    result["nearest"] = figures
  return config, result


def report(result, extra_lines=()):
  """The table on stderr (with extra_lines after it), the result as one JSON line on stdout."""
  sys.stderr.write("\n".join(_table(result) + list(extra_lines)) + "\n")
  print(json.dumps(result))   # stdout: one JSON line for scripts


def main():
  report(evaluate(flags.FLAGS)[1])   # make eval adds the verdict: tools/reproduce.py


def _table(result):
  rows = [(figure.label, key, figure.form) for key, figure in metrics.FIGURES.items()
          if figure.table and key in result]
  intervals = result.get("intervals", {})
  cells = [("", "samples", "95% interval" if intervals else "", "real data")]
  for label, key, form in rows:
    interval = f"[{intervals[key][0]:{form}}, {intervals[key][1]:{form}}]" if key in intervals else ""
    cells.append((label, f"{result[key]:{form}}", interval, f"{result['real_floor'][key]:{form}}"))
  widths = [max(len(row[i]) for row in cells) + 2 for i in range(4)]
  lines = [row[0].ljust(widths[0]) + "".join(cell.rjust(width) for cell, width in zip(row[1:], widths[1:]))
           for row in cells]
  lines.append(f"(fidelity: precision, k = 3, density, k = 5; diversity: recall, k = 3, coverage, k = 5; on "
               f"{result['prdc_n']:,} samples and as many real images"
               + (f"; intervals: {result['bootstrap_resamples']} bootstrap resamples" if intervals else "") + ")")
  if "modes" in result:
    lines.append(f"(modes, of {result['num_modes']:,}: the classes the evaluator reads in each channel of "
                 f"{result['n']:,} samples; KL over the modes that occur, natural log; the other figures score "
                 f"the {result['channels_scored']:,} channels as digits)")
  if result["conditional"]:
    lines.append(f"(label accuracy's ceiling: the evaluator's test accuracy, "
                 f"{result['evaluator']['test_accuracy']:.2%})")
  if "cas" in result:
    cas = result["cas"]
    lines.append(f"CAS: a classifier trained on {cas['n']:,} samples alone reads {cas['cas']:.2%} of the real "
                 f"{cas['test_split']} images right; trained on as many real images, {cas['real_baseline']:.2%}: "
                 f"ratio {cas['ratio']:.3f}")
  if "nearest" in result:
    near = result["nearest"]
    lines.append(f"copy check: nearest-training distance of {near['n']} samples / of {near['n']} held-out "
                 f"real images: {near['pixels']['ratio']:.2f} in pixels, {near['features']['ratio']:.2f} in "
                 f"features (about 1: no copying); pairs: {near['png']}")
  return lines


def define_flags():
  """The command line's flags (tools/reproduce.py, make eval, adds --records)."""
  flags.DEFINE_string("run", None, "A run's work dir: its saved_model/, else its latest checkpoint; "
                      "'latest': the newest under runs/.")
  flags.DEFINE_string("model", None, "A SavedModel folder written by gan_tf.export.")
  flags.mark_flags_as_mutual_exclusive(["run", "model"], required=True)
  flags.DEFINE_integer("n", None, f"Samples to score (and real images for the floor); default {DEFAULT_N:,}, "
                       f"{scoring.STACKED_N:,} for a stacked dataset.", lower_bound=2)
  flags.DEFINE_string("data_dir", None, "IDX folder of the real data; default: the one the run trained on.")
  flags.DEFINE_string("cache_dir", None, f"Evaluators' folder; default ${evaluator_lib.CACHE_ENV} or ~/.cache.")
  flags.DEFINE_integer("seed", 0, "Seed of the samples' z, of the real and KID subsets and of the bootstrap.")
  flags.DEFINE_integer("bootstrap", 100, "Resamples of each figure's 95% interval; 0: none.", lower_bound=0)
  flags.DEFINE_bool("live", False, "With --run: score G's trained weights from the checkpoint, not the "
                    "weight average (--g_ema) the run samples and exports with.")
  flags.DEFINE_bool("cas", False, "Conditional runs: the classification accuracy score (minutes; "
                    "docs/evaluation.md).")
  flags.DEFINE_bool("nearest", False, "Copy check: samples' nearest training images against held-out ones'; "
                    "a PNG of the closest pairs.")


if __name__ == "__main__":
  define_flags()
  run_main(main)
