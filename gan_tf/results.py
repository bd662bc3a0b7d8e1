"""Regenerates experiments/RESULTS.md: each row trained by its config, then scored like `make eval`.

Run: `make results` (a finished row is reused, an unfinished one resumed), `ARGS=--rows=ID,...`,
or `--report_only`. Each row's record (experiments/results/<row>.json: figures and
config) and the floors' (floors.json) are committed: a clone rewrites the report from them, and a changed
default refuses a stale row. No figure in RESULTS.md is typed by hand.
"""
import dataclasses
import json
import os
import time

from absl import flags, logging

import experiments
from gan_tf import data, evaluator as evaluator_lib, execution, files, images, metrics, rundir, sampling
from gan_tf import train
from gan_tf.config import Config
from gan_tf.errors import UserError, run_main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FASHION = os.environ.get("GAN_TF_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
MNIST = os.environ.get("GAN_TF_MNIST", os.path.join(REPO, "..", "shared", "data", "mnist"))
RECORDS = os.path.join(REPO, "experiments", "results")   # each row's grid (.png) and record (.json)
REPORT = os.path.join(REPO, "experiments", "RESULTS.md")
# row data -> (dataset, IDX folder, split); offline MNIST is its test split alone.
DATA = {"fashion": ("fashion_mnist", FASHION, "train"), "mnist": ("mnist", MNIST, "test[:80%]")}


@dataclasses.dataclass(frozen=True)
class Row:
  experiment: str
  data: str          # key of DATA
  epochs: int
  setting: str       # "source" (as the source prescribes: --setting=source) or "default" (gan_tf's)

  @property
  def id(self):
    return f"{self.experiment}-{self.data}-{self.epochs}-{self.setting}"

  def config(self):
    dataset, data_dir, split = DATA[self.data]
    return experiments.get_config(self.experiment, self.setting, dataset=dataset, data_dir=data_dir,
                                  split=split, epochs=self.epochs)


def _rows():
  rows = []
  for experiment, data, epochs in (("mlp", "fashion", 50), ("mlp_small", "fashion", 50),
                                   ("mlp", "mnist", 200), ("dcgan_tutorial", "mnist", 30),
                                   ("dcgan", "fashion", 20)):
    if experiments.source_settings(experiment):   # the source trains differently from gan_tf's defaults
      rows.append(Row(experiment, data, epochs, "source"))
    rows.append(Row(experiment, data, epochs, "default"))
  return rows


def record_path(row, records_dir=RECORDS):
  """The row's record: its result and the config it was trained with, committed beside RESULTS.md."""
  return os.path.join(records_dir, f"{row.id}.json")


def run_row(row, runs_dir, n, records_dir=RECORDS):
  """The row's figures: from its record, else from its finished run, else trained and scored now, writing
  its sample grid and record beside RESULTS.md."""
  workdir = os.path.join(runs_dir, row.id)
  done = os.path.join(workdir, "results.json")
  record = record_path(row, records_dir)
  config = row.config()
  if os.path.exists(done):   # finished here: its record is written again
    trained = rundir.saved_config(workdir)
    _check_same_config(row, trained, config, f"its finished run in {workdir} was trained",
                       "delete that folder")
    with open(done) as f:
      result = json.load(f)
  elif os.path.exists(record):   # finished elsewhere: its committed record
    with open(record) as f:
      result = json.load(f)
    _check_same_config(row, Config.from_json(json.dumps(result.pop("config"))), config,
                       f"its record {record} was made", "delete that record")
    return result
  else:
    start = time.time()
    generator = train.run(config, workdir).sampler
    trained = config
    result = {"row": dataclasses.asdict(row), "train_seconds": time.time() - start,
              "machine": execution.machine()}
    result["figures"], fakes, result["evaluator_accuracy"] = _score(generator, config, n)
    images.save_png(images.grid(fakes[:36]), os.path.join(records_dir, f"{row.id}.png"), scale=1)
  # With a weight average, the same run scored with G's own weights shows what the average adds.
  if config.g_ema and "live_figures" not in result and rundir.latest_checkpoint(workdir):
    _, live = rundir.restore_generator(workdir, live=True)
    result["live_figures"] = _score(live, config, n)[0]
  files.atomic_write(done, json.dumps(result).encode())
  files.atomic_write(record, json.dumps(dict(result, config=json.loads(trained.to_json())), indent=1,
                                        sort_keys=True).encode())
  return result


def _score(generator, config, n):
  """(figures, the uint8 samples, the evaluator's test accuracy) of n samples of generator."""
  evaluator = evaluator_lib.load_evaluator(config)
  reference = evaluator_lib.reference_embeddings(evaluator, config)
  fakes = sampling.sample(generator, config.noise, n)
  figures = metrics.compare_embeddings(evaluator.embed(fakes), reference)
  return figures, fakes, evaluator.info["test_accuracy"]


def _check_same_config(row, trained, config, made, remedy):
  """A finished row is reused only if it was trained with the row's config as it is now (data_dir aside:
  the same files may sit elsewhere), so a changed default can never report an old run's figures."""
  ignored = {"data_dir"} | _unread(trained) & _unread(config)
  changed = {k: (getattr(trained, k), getattr(config, k)) for k in dataclasses.asdict(config)
             if k not in ignored and getattr(trained, k) != getattr(config, k)}
  if changed:
    detail = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in sorted(changed.items()))
    raise UserError(f"{row.id}: {made} with another config ({detail}); {remedy} to train the row again")


def _unread(config):
  """Fields this config's training never reads: the other optimizer's, and gp_weight without WGAN-GP."""
  unread = set()
  for net in ("d", "g"):
    sgd = getattr(config, f"{net}_optimizer") == "sgd"
    unread |= {f"{net}_beta_1"} if sgd else {f"{net}_momentum", f"{net}_nesterov"}
  if config.loss != "wasserstein_gp":
    unread.add("gp_weight")
  return unread


def floors(n, records_dir=RECORDS, measure=True):
  """The real-data floor per dataset (n real training images scored like samples), measured or recorded."""
  path = os.path.join(records_dir, "floors.json")
  if not measure and os.path.exists(path):
    with open(path) as f:
      return json.load(f)
  out = {}
  for name, (dataset, data_dir, _) in DATA.items():
    if not os.path.isdir(data_dir):
      continue
    config = experiments.get_config("mlp", dataset=dataset, data_dir=data_dir)
    evaluator = evaluator_lib.load_evaluator(config)
    info = evaluator.info
    reference = evaluator_lib.reference_embeddings(evaluator, config)
    real, _ = data.load_images(config, info["train_split"])
    out[name] = dict(evaluator_lib.real_floor(evaluator, real, reference, n), accuracy=info["test_accuracy"],
                     train_split=info["train_split"], eval_split=info["eval_split"])
  files.atomic_write(path, json.dumps(out, indent=1, sort_keys=True).encode())
  return out


def _machine(result):
  """The machine a row was trained on, as one line (rows from before machines were recorded say so)."""
  return execution.describe(result["machine"]) if "machine" in result else "a machine not recorded"


def markdown(results, floor, n):
  machines = {_machine(result) for result in results.values()}
  machine_line = (next(iter(machines)) if len(machines) == 1
                  else "the machine named in each row's Settings line (rows come from more than one)")
  lines = ["# Results: sample quality of each experiment, as its source prescribes it and with gan_tf's "
           "defaults", "",
           "Regenerate: `make results` (or `python -m gan_tf.results`). Figures at n = "
           f"{n:,} samples against the evaluator's held-out split (gan_tf.evaluate); wall time on "
           f"{machine_line}.", "", "## Evaluators and the real-data floor", "",
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
    note = results.get(row.id, {}).get("imported_from")   # a row finished before records existed
    where += f" ({note})" if note else ""
    lines.append(f"- `{row.id}`: `{_flags(row)}`" + _deviations(row) + where)
  return "\n".join(lines) + "\n"


def _deviations(row):
  """For a default row whose source trains otherwise: where the two differ, and where the reasons are."""
  source = experiments.source_settings(row.experiment)
  if row.setting != "default" or not source:
    return ""
  default = experiments.get_config(row.experiment)
  changed = ", ".join(f"{k} {getattr(default, k)!r}" for k in sorted(source))
  return f"; against its source: {changed} (why: `experiments/{row.experiment}.py`)"


def _flags(row):
  dataset, _, split = DATA[row.data]
  folder = "/usr/share/datasets/fashion-mnist" if row.data == "fashion" else "../shared/data/mnist"
  args = [f"--experiment={row.experiment}", f"--dataset={dataset}", f"--data_dir={folder}",
          f"--split={split}", f"--epochs={row.epochs}"]
  if row.setting == "source":
    args.append("--setting=source")
  return " ".join(args)


def main():
  f = flags.FLAGS
  wanted = set(f.rows) if f.rows else None
  rows = [row for row in _rows()
          if os.path.exists(os.path.join(f.runs_dir, row.id, "results.json"))
          or os.path.exists(record_path(row))
          or (not f.report_only and (wanted is None or row.id in wanted))]
  results = {}
  for row in rows:
    logging.info("Row %s", row.id)
    results[row.id] = run_row(row, f.runs_dir, f.n)
  text = markdown(results, floors(f.n, measure=not f.report_only), f.n)
  files.atomic_write(REPORT, text.encode())
  print(text)


if __name__ == "__main__":
  flags.DEFINE_list("rows", None, "Row ids to run (default: all); finished rows are always reported.")
  flags.DEFINE_string("runs_dir", "runs/results", "Where the rows' run folders go.")
  flags.DEFINE_bool("report_only", False, "Train nothing: rewrite RESULTS.md from the finished rows.")
  flags.DEFINE_integer("n", 10000, "Samples scored per row.")
  run_main(main)
