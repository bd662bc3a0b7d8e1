"""Offline sample quality of a run or a SavedModel, printed as one JSON line.

Run: `python -m gan_tf.evaluate --run=runs/mlp-... [--n=10000 --seed=0]` (or `--model=SAVEDMODEL_DIR`, or
`make eval RUN=...`). The figures are gan_tf.metrics' of n samples against the evaluator's held-out split
(gan_tf.evaluator), with the same figures for n real training images beside them (`real_floor`).
"""
import json
import os
import sys

from absl import flags

from gan_tf import data, evaluator as evaluator_lib, export, rundir, sampling
from gan_tf.errors import UserError, run_main
from gan_tf.metrics import compare_embeddings

DEFAULT_N = 10_000


def _samples(run, model, n, seed, live=False):
  """(config, uint8 samples, source) for --run or --model."""
  if run:
    path = os.path.join(run, rundir.EXPORT_DIR)
    if live or not os.path.exists(path):
      config, generator = rundir.restore_generator(run, live)
      weights = ", live weights" if live else ""
      return (config, sampling.sample(generator, config.noise, n, seed),
              f"{run} (latest checkpoint{weights})")
    model = path
  return export.saved_model_config(model), export.sample_saved_model(model, n, seed), model


def main():
  f = flags.FLAGS
  if f.live and not f.run:
    raise UserError("--live needs --run: a SavedModel holds only the weights it was exported with")
  config, fakes, source = _samples(f.run and rundir.find(f.run), f.model, f.n, f.seed, f.live)
  if f.data_dir is not None:
    config = config.replace(data_dir=f.data_dir)
  evaluator = evaluator_lib.load_evaluator(config, f.cache_dir)
  info = evaluator.info
  reference = evaluator_lib.reference_embeddings(evaluator, config)
  train_images, _ = data.load_images(config, info["train_split"])
  result = {"source": source, "experiment": config.name, "dataset": config.dataset,
            "data_dir": data.idx_dir(config), "seed": f.seed,
            **compare_embeddings(evaluator.embed(fakes), reference, seed=f.seed),
            "reference_split": info["eval_split"],
            "real_floor": dict(evaluator_lib.real_floor(evaluator, train_images, reference, f.n, f.seed),
                               real_split=info["train_split"]),
            "evaluator": {k: info[k] for k in ("path", "test_accuracy", "train_split", "eval_split",
                                                "train_examples", "eval_examples", "trained_now",
                                                "train_seconds")}}
  rows = (("classifier score", "classifier_score", ".2f"), ("Frechet distance", "frechet_features", ".2f"),
          ("KID", "kid_mean", ".4f"), ("classes covered", "coverage", "d"))
  sys.stderr.write(f"{'':18}{'samples':>10}{'real data':>11}\n" + "".join(
      f"{label:18}{result[key]:>10{form}}{result['real_floor'][key]:>11{form}}\n"
      for label, key, form in rows))
  print(json.dumps(result))   # stdout: one JSON line for scripts


if __name__ == "__main__":
  flags.DEFINE_string("run", None, "A run's work dir: its saved_model/, else its latest checkpoint; "
                      "'latest': the newest under runs/.")
  flags.DEFINE_string("model", None, "A SavedModel folder written by gan_tf.export.")
  flags.mark_flags_as_mutual_exclusive(["run", "model"], required=True)
  flags.DEFINE_integer("n", DEFAULT_N, "Samples to score (and real images for the floor).", lower_bound=2)
  flags.DEFINE_string("data_dir", None, "IDX folder of the real data; default: the one the run trained on.")
  flags.DEFINE_string("cache_dir", None, f"Evaluators' folder; default ${evaluator_lib.CACHE_ENV}, else "
                      "~/.cache/gan_tf/evaluators.")
  flags.DEFINE_integer("seed", 0, "Seed of the samples' z and of the real and KID subsets.")
  flags.DEFINE_bool("live", False, "With --run: score G's trained weights from the checkpoint, not the "
                    "weight average (--g_ema) the run samples and exports with.")
  run_main(main)
