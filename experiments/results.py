"""Regenerates experiments/RESULTS.md: each row trained by its config, then scored by gan_tf.evaluate.

Run: `make results` (all rows; each row's run folder is reused when finished, resumed when not), or
`python -m experiments.results --rows=mlp-fashion-50-source,mlp-fashion-50-default`, or `--report_only`, or
`--rescore --rows=...` (score finished runs again from their checkpoints). Rows not yet run are
listed as such; no figure in RESULTS.md is typed by hand.
"""
import dataclasses
import json
import os
import time

import tensorflow as tf
from absl import app, flags, logging

from gan_tf import bench, data, evaluate, files, images, train
from gan_tf.config import Config, get_config, source_settings
from gan_tf.errors import UserError, run_main

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FASHION = os.environ.get("GAN_TF_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
MNIST = os.environ.get("GAN_TF_MNIST", os.path.join(REPO, "..", "shared", "data", "mnist"))
DATA = {"fashion": (FASHION, "train"), "mnist": (MNIST, "test[:80%]")}   # offline MNIST: its test split

@dataclasses.dataclass(frozen=True)
class Row:
  experiment: str
  data: str          # key of DATA
  epochs: int
  setting: str       # "source" (as the source prescribes: --setting=source) or "default" (gan_tf's)
  why: str = ""

  @property
  def id(self):
    return f"{self.experiment}-{self.data}-{self.epochs}-{self.setting}"

  def config(self):
    data_dir, split = DATA[self.data]
    return get_config(self.experiment, self.setting, data_dir=data_dir, split=split,
                      epochs=self.epochs)


def _rows():
  rows = []
  for experiment, data, epochs in (("mlp", "fashion", 50), ("mlp_small", "fashion", 50),
                                   ("mlp", "mnist", 200), ("dcgan_tutorial", "mnist", 30),
                                   ("dcgan", "fashion", 20)):
    if source_settings(experiment):   # the source trains differently from gan_tf's defaults
      rows.append(Row(experiment, data, epochs, "source"))
    rows.append(Row(experiment, data, epochs, "default", WHY.get(experiment, "")))
  return rows


# Speed defaults (steps per execution, XLA) are kept in source rows: see README "Speed".
WHY = {
    "mlp": "WGAN-GP with k = 2 critic steps per G step (Adam 1e-3, beta_1 0) instead of the non-saturating "
           "loss: the Wasserstein critic keeps giving G gradient toward every mode; samples from the moving "
           "average of G's weights (g_ema 0.999)",
    "mlp_small": "mlp's change with one critic step per G step (k = 1) instead of the walk-through's BCE "
                 "with plain SGD",
    "dcgan_tutorial": "Radford et al.'s DCGAN optimizer at twice their rate (Adam 4e-4, beta_1 0.5, against "
                      "the tutorial's 1e-4 and 0.9) and batch 32: four times the updates of batch 128 in the "
                      "same epochs; samples from the moving average of G's weights (g_ema 0.999)",
    "dcgan": "Radford et al.'s DCGAN optimizer (Adam 2e-4, beta_1 0.5) instead of the program's SGD 5e-4 with "
             "Nesterov momentum 0.9, one-sided label smoothing 0.1 against a D that wins more each epoch, the "
             "minibatch standard deviation in D (one more input to its logit layer), and samples from the "
             "moving average of G's weights (g_ema 0.999)",
}


def run_row(row, runs_dir, n, rescore=False):
  """Trains (or reuses) the row's run and returns its figures, writing its sample grid beside RESULTS.md;
  rescore scores a finished run again from its checkpoint (its training, and wall time, unchanged)."""
  workdir = os.path.join(runs_dir, row.id)
  done = os.path.join(workdir, "results.json")
  config = row.config()
  generator = None   # the network to score now; None keeps a finished row's figures
  if os.path.exists(done):
    _check_same_config(row, workdir, config)
    with open(done) as f:
      result = json.load(f)
    if rescore:
      _, generator = train.restore_generator(workdir)
  else:
    start = time.time()
    gan = train.run(config, workdir)
    result = {"row": dataclasses.asdict(row), "train_seconds": time.time() - start,
              "machine": bench.machine()}
    generator = gan.sampler
  if generator is not None:
    result["figures"], fakes, result["evaluator_accuracy"] = _score(generator, config, n)
    images.save_png(images.grid(fakes[:36]), os.path.join(HERE, "results", f"{row.id}.png"), scale=1)
  # With a weight average, the same run scored with G's own weights shows what the average adds (rows
  # finished before this figure existed get it from their checkpoint).
  if (config.g_ema and "live_figures" not in result
      and tf.train.latest_checkpoint(os.path.join(workdir, train.CHECKPOINT_DIR))):
    _, live = train.restore_generator(workdir, live=True)
    result["live_figures"] = _score(live, config, n)[0]
  files.atomic_write(done, json.dumps(result).encode())
  return result


def _score(generator, config, n):
  """(figures, the uint8 samples, the evaluator's test accuracy) of n samples of generator."""
  evaluator = evaluate.load_evaluator(config)
  reference = evaluate.reference_embeddings(evaluator, config)
  fakes = evaluate.sample_generator(generator, config, n)
  figures = evaluate.compare_embeddings(evaluator.embed(fakes), reference)
  return figures, fakes, evaluator.info["test_accuracy"]


def _check_same_config(row, workdir, config):
  """A finished row is reused only if it was trained with the row's config as it is now (data_dir aside:
  the same files may sit elsewhere), so a changed default can never report an old run's figures."""
  with open(os.path.join(workdir, train.CONFIG_FILE)) as f:
    trained = Config.from_json(f.read())
  ignored = {"data_dir"} | _unread(trained) & _unread(config)
  changed = {k: (getattr(trained, k), getattr(config, k)) for k in dataclasses.asdict(config)
             if k not in ignored and getattr(trained, k) != getattr(config, k)}
  if changed:
    detail = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in sorted(changed.items()))
    raise UserError(f"{row.id}: its finished run in {workdir} was trained with another config ({detail}); "
                    f"delete that folder to train the row again")


def _unread(config):
  """Fields this config's training never reads: Adam's betas under SGD, SGD's momentum under Adam, the
  gradient penalty's weight under other losses."""
  unread = set()
  for net in ("d", "g"):
    sgd = getattr(config, f"{net}_optimizer") == "sgd"
    unread |= {f"{net}_beta_1", f"{net}_beta_2"} if sgd else {f"{net}_momentum", f"{net}_nesterov"}
  if config.loss != "wasserstein_gp":
    unread.add("gp_weight")
  return unread


def floors(n):
  """The real-data floor per dataset: n real training images scored like samples."""
  out = {}
  for name in DATA:
    config = get_config("mlp", data_dir=DATA[name][0])
    if not os.path.isdir(config.data_dir):
      continue
    evaluator = evaluate.load_evaluator(config)
    info = evaluator.info
    reference = evaluate.reference_embeddings(evaluator, config)
    real, _ = data.load_images(config, info["train_split"])
    out[name] = dict(evaluate.real_floor(evaluator, real, reference, n), accuracy=info["test_accuracy"],
                     train_split=info["train_split"], eval_split=info["eval_split"])
  return out


def _machine(result):
  """The machine a row was trained on, as one line (rows from before machines were recorded say so)."""
  return bench.describe(result["machine"]) if "machine" in result else "a machine not recorded"


def _machines_line(machines):
  if len(machines) == 1:
    return next(iter(machines))
  return "the machine named in each row's Settings line (rows come from more than one)"


def markdown(results, floor, n):
  machines = {_machine(result) for result in results.values()}
  lines = ["# Results: sample quality of each experiment, as its source prescribes it and with gan_tf's "
           "defaults", "",
           "Regenerate: `make results` (or `python -m experiments.results`). Figures at n = "
           f"{n:,} samples against the evaluator's held-out split (gan_tf.evaluate); wall time on "
           f"{_machines_line(machines)}.", "", "## Evaluators and the real-data floor", "",
           "| data | evaluator accuracy | trained on / scored against | classifier score | FD features | "
           "KID | coverage |", "|---|---:|---|---:|---:|---:|---:|"]
  for name, f in floor.items():
    lines.append(f"| {name} | {100 * f['accuracy']:.2f}% | {f['train_split']} / {f['eval_split']} | "
                 f"{f['classifier_score']:.2f} | {f['frechet_features']:.2f} | {f['kid_mean']:+.4f} | "
                 f"{f['coverage']} |")
  lines += ["", "MNIST offline is its 10,000-digit test split only: GANs train on `test[:80%]` (the 8,000 "
            "first digits), the evaluator trains on the same 8,000 and is scored on `test[80%:]`.", "",
            "Rows that sample with a moving average of G's weights (`--g_ema`) are scored with it; *live G's "
            "score* is the same run scored with G's own trained weights (`make eval RUN=... ARGS=--live`).",
            "",
            "## Runs", "",
            "| row | epochs | wall | classifier score (% of real) | live G's score | FD features | KID | "
            "coverage | class histogram | samples |", "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
  for row in _rows():
    result = results.get(row.id)
    if result is None:
      lines.append(f"| {row.id} | {row.epochs} | not run yet | | | | | | | |")
      continue
    f = result["figures"]
    real = floor.get(row.data, {}).get("classifier_score")
    share = f" ({100 * f['classifier_score'] / real:.0f}%)" if real else ""
    live = result.get("live_figures")
    live = f"{live['classifier_score']:.2f}" if live else ""
    lines.append(f"| {row.id} | {row.epochs} | {result['train_seconds'] / 60:.1f} min | "
                 f"{f['classifier_score']:.2f}{share} | {live} | {f['frechet_features']:.2f} | "
                 f"{f['kid_mean']:.4f} | {f['coverage']} | {f['histogram']} | "
                 f"![](results/{row.id}.png) |")
  lines += ["", "## Settings", ""]
  for row in _rows():
    where = (f" (trained on {_machine(results[row.id])})"
             if len(machines) > 1 and row.id in results else "")
    lines.append(f"- `{row.id}`: `{_flags(row)}`" + (f": {row.why}" if row.why else "") + where)
  return "\n".join(lines) + "\n"


def _flags(row):
  _, split = DATA[row.data]
  folder = "/usr/share/datasets/fashion-mnist" if row.data == "fashion" else "../shared/data/mnist"
  args = [f"--experiment={row.experiment}", f"--data_dir={folder}", f"--split={split}",
          f"--epochs={row.epochs}"]
  if row.setting == "source":
    args.append("--setting=source")
  return " ".join(args)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  f = flags.FLAGS
  wanted = set(f.rows) if f.rows else None
  results = {}
  for row in _rows():
    finished = os.path.exists(os.path.join(f.runs_dir, row.id, "results.json"))
    if finished or (not f.report_only and (wanted is None or row.id in wanted)):
      logging.info("Row %s", row.id)
      chosen = wanted is None or row.id in wanted
      results[row.id] = run_row(row, f.runs_dir, f.n, rescore=f.rescore and chosen)
  text = markdown(results, floors(f.n), f.n)
  files.atomic_write(os.path.join(HERE, "RESULTS.md"), text.encode())
  print(text)


if __name__ == "__main__":
  flags.DEFINE_list("rows", None, "Row ids to run (default: all); finished rows are always reported.")
  flags.DEFINE_string("runs_dir", "runs/results", "Where the rows' run folders go.")
  flags.DEFINE_bool("report_only", False, "Train nothing: rewrite RESULTS.md from the finished rows.")
  flags.DEFINE_bool("rescore", False, "Score the finished rows (--rows, default all) again from their "
                    "checkpoints, after a change to how runs are sampled; training and wall times stay.")
  flags.DEFINE_integer("n", 10000, "Samples scored per row.")
  run_main(main)
