"""Regenerates experiments/RESULTS.md: each row trained by its config, then scored like `make eval`.

Run: `make results` (a finished row is reused, an unfinished one resumed), `ARGS=--rows=ID,...`,
or `--report_only`. The dense rows run over SEEDS and report mean +- standard deviation; a row on MNIST's
8,000 digits carries the copy check (`make eval ARGS=--nearest`). Each row's record
(experiments/results/<row>.json: figures and config) and the floors' (floors.json) are committed: a clone rewrites the report from them, and a changed
default refuses a stale row. No figure in RESULTS.md is typed by hand.
"""
from gan_tf import quiet  # noqa: F401  (first: TensorFlow loads without its start-up lines)
import functools
import dataclasses
import json
import os
import time

import numpy as np
from absl import flags, logging

from gan_tf import configs, evaluator as evaluator_lib, export, files, images, metrics, rundir, sampling
from gan_tf import scoring, train
from tools import machine, records
from gan_tf.config import STACKED, Config, differences
from gan_tf.errors import UserError, run_main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FASHION = os.environ.get("GAN_TF_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
MNIST = os.environ.get("GAN_TF_MNIST", os.path.join(REPO, "..", "shared", "data", "mnist"))
RECORDS = os.path.join(REPO, "experiments", "results")   # each row's grid (.png) and record (.json)
REPORT = os.path.join(REPO, "experiments", "RESULTS.md")
README = os.path.join(REPO, "README.md")
README_BEGIN = "<!-- experiments table: written by make results from experiments/results/; do not edit -->"
README_END = "<!-- end of experiments table -->"
# The README's table: (experiment, its networks and source, data, the source row's group or None, gan_tf's).
README_ROWS = (
    ("`mlp` (`make train-mlp`)", "dense G 100-256-512-784, D 784-256-128-1: the classic TF1 GAN tutorial",
     "Fashion-MNIST", "mlp-fashion-50-source", "mlp-fashion-50-default"),
    ("`mlp`", "the same", "MNIST's 8,000 first test digits", "mlp-mnist-200-source", "mlp-mnist-200-default"),
    ("`mlp --conditional`", "the same networks, asked for a class ([docs/conditional.md](docs/conditional.md))",
     "Fashion-MNIST", None, "mlp-fashion-50-default-conditional"),
    ("`mlp --conditional`", "the same", "MNIST's 8,000 first test digits", None,
     "mlp-mnist-200-default-conditional"),
    ("`mlp_small` (`make train-mlp-small`)", "G 100-128-784, D 784-128-1: an introductory walk-through",
     "Fashion-MNIST", "mlp_small-fashion-50-source", "mlp_small-fashion-50-default"),
    ("`dcgan_tutorial` (`make train-dcgan-tutorial`)", "the [TensorFlow DCGAN tutorial]"
     "(https://www.tensorflow.org/tutorials/generative/dcgan)'s networks", "MNIST's 8,000 first test digits",
     "dcgan_tutorial-mnist-30-source", "dcgan_tutorial-mnist-30-default"),
    ("`dcgan_tutorial --conditional`", "the same networks, asked for a class", "MNIST's 8,000 first test digits",
     None, "dcgan_tutorial-mnist-30-default-conditional"),
    ("`dcgan` (`make train-dcgan`)", "the Keras Conv2D/UpSampling2D DCGAN program an article describes",
     "Fashion-MNIST", "dcgan-fashion-20-source", "dcgan-fashion-20-default"),
)
# row data -> (dataset, IDX folder, split); offline MNIST is its test split alone.
DATA = {"fashion": ("fashion_mnist", FASHION, "train"), "mnist": ("mnist", MNIST, "test[:80%]"),
        "stacked": ("stacked_mnist", MNIST, "train")}   # Stacked MNIST from MNIST's 10,000 test digits
# The conditional rows' targets: (least label accuracy, least share of the real data's score).
TARGETS = {"mlp-fashion-50-default-conditional": (0.85, 0.90), "mlp-mnist-200-default-conditional": (0.97, 0.90),
           "dcgan_tutorial-mnist-30-default-conditional": (0.97, None)}
BOOTSTRAP = 100   # resamples of each row's 95% intervals, as make eval's default
# Lesort et al. 2018 (arXiv:1806.10840), their table of classifiers trained on 50,000 generated samples and
# tested on the real test set, 8 seeds: (model, accuracy) per dataset, the first the real-data baseline.
LESORT = {"mnist": (("real data", 0.978), ("CGAN", 0.956), ("CVAE (their best)", 0.959)),
          "fashion": (("real data", 0.866), ("CGAN", 0.777), ("CVAE (their best)", 0.810))}
# PacGAN's Table 2 (Lin et al. 2018; fjxmlzn/PacGAN, stacked_MNIST_experiments), VEEGAN's setting:
# (model, modes of 1,000, KL to uniform), "± x" the standard error over their 10 trials.
PACGAN = (("DCGAN (as VEEGAN reports it)", "99.0", "3.40"), ("ALI", "16.0", "5.40"),
          ("Unrolled GAN", "48.7", "4.32"), ("VEEGAN", "150.0", "2.95"),
          ("DCGAN (PacGAN's runs)", "78.9 ± 6.46", "4.50 ± 0.127"),
          ("PacDCGAN2 (PacGAN)", "1000.0 ± 0.00", "0.06 ± 0.003"))
STACKED_TARGET = ("mlp-stacked-50-default", 990, 0.10)   # (row, least modes, most KL): PacGAN's level
SEEDS = (0, 1, 2)   # the dense rows' seeds (minutes each); the conv rows' (an hour each) is the first
DENSE = ("mlp", "mlp_small")


@dataclasses.dataclass(frozen=True)
class Row:
  experiment: str
  data: str          # key of DATA
  epochs: int
  setting: str       # "source" (as the source prescribes: --setting=source) or "default" (gan_tf's)
  conditional: bool = False
  seed: int = 0

  @property
  def group(self):
    """The table line the row is a seed of."""
    return (f"{self.experiment}-{self.data}-{self.epochs}-{self.setting}"
            + ("-conditional" if self.conditional else ""))

  @property
  def id(self):
    return self.group + (f"-seed{self.seed}" if self.seed else "")

  def config(self):
    dataset, data_dir, split = DATA[self.data]
    extra = {"conditional": True} if self.conditional else {}
    if self.seed:
      extra["seed"] = self.seed
    return configs.get_config(self.experiment, self.setting, dataset=dataset, data_dir=data_dir,
                                  split=split, epochs=self.epochs, **extra)


def all_rows():
  rows = []
  for experiment, data, epochs, conditional, only in (
      ("mlp", "fashion", 50, True, None), ("mlp_small", "fashion", 50, False, None),
      ("mlp", "mnist", 200, True, None), ("dcgan_tutorial", "mnist", 30, True, None),
      ("dcgan", "fashion", 20, False, None), ("mlp", "stacked", 50, False, None),
      ("dcgan_tutorial", "stacked", 2, False, "default")):
    seeds = SEEDS if experiment in DENSE else SEEDS[:1]
    settings = (["source"] if configs.source_settings(experiment) else []) + ["default"]
    settings = [only] if only else settings
    for setting, conditioned in [(s, False) for s in settings] + ([("default", True)] if conditional else []):
      rows += [Row(experiment, data, epochs, setting, conditioned, seed) for seed in seeds]
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
  n = scoring.STACKED_N if config.dataset in STACKED else n
  if os.path.exists(done):   # finished here: its record is written again
    trained = rundir.saved_config(workdir)
    _check_same_config(row, trained, config, f"its finished run in {workdir} was trained",
                       "delete that folder")
    with open(done) as f:
      result = json.load(f)
  elif os.path.exists(record):   # finished elsewhere: its committed record
    with open(record) as f:
      result = json.load(f)
    trained = Config.from_json(json.dumps(result.pop("config")))
    _check_same_config(row, trained, config, f"its record {record} was made", "delete that record")
    return dict(result, precision=trained.mixed_precision)
  else:
    start = time.time()
    generator = train.run(config, workdir).prepare_sampler()
    trained = rundir.saved_config(workdir)   # with `auto` resolved to the precision it trained in
    result = {"row": dataclasses.asdict(row), "train_seconds": time.time() - start,
              "machine": machine.machine()}
    reference = scoring.reference(config)
    result["figures"], fakes, labels = _score(reference, generator, config, n, nearest=row.data == "mnist")
    info = reference.evaluator.info
    result["evaluator"] = {"sha256": info["sha256"], "test_accuracy": info["test_accuracy"]}
    if not row.seed:   # one grid per table line; a conditional row's has a row of 10 per class
      grid, rows = ((np.concatenate([fakes[labels == c][:10] for c in range(config.num_classes)]),
                     config.num_classes) if config.conditional else (fakes[:36], None))
      if grid.shape[-1] > 1:   # a stacked row: 3 samples a row, each one's channels side by side
        grid, rows = images.channels_side_by_side(fakes[:30]), 10
      images.save_png(images.grid(grid, rows=rows), os.path.join(records_dir, f"{row.id}.png"), scale=1)
  # With a weight average, the same run scored with G's own weights shows what the average adds.
  if config.g_ema and "live_figures" not in result and rundir.latest_checkpoint(workdir):
    _, live = export.restore_generator(workdir, live=True)
    result["live_figures"] = _score(scoring.reference(config), live, config, n, full=False)[0]
  files.atomic_write(done, json.dumps(result).encode())
  files.atomic_write(record, json.dumps(dict(result, config=json.loads(trained.to_json())), indent=1,
                                        sort_keys=True).encode())
  return dict(result, precision=trained.mixed_precision)


def _score(reference, generator, config, n, nearest=False, full=True):
  """(figures, the uint8 samples, their labels (None if unconditional)) of n samples of generator, as
  `make eval` scores them (with --nearest: the copy check's figures too); full: with the bootstrap
  intervals, and a conditional row's CAS (`make eval ARGS=--cas`)."""
  sample = functools.partial(sampling.sample, generator, config.noise)
  figures, fakes, labels = scoring.score(reference, config, sample, n, 0, bootstrap=BOOTSTRAP if full else 0)
  if full and config.num_classes:
    figures["cas"] = scoring.classification_accuracy_score(reference, config, sample)
  if nearest:
    train_images, _ = scoring.floor_images(reference, config)
    figures["nearest"] = scoring.copy_check(reference, fakes, train_images)[0]
  return figures, fakes, labels


def _check_same_config(row, trained, config, made, remedy):
  """A finished row is reused only if it was trained with the row's config as it is now (data_dir aside:
  the same files may sit elsewhere; and any precision where the row's is `auto`, which the hardware that
  trained it resolved), so a changed default can never report an old run's figures."""
  ignored = {"data_dir"} | records.unread(trained) & records.unread(config)
  if config.mixed_precision == "auto":
    ignored.add("mixed_precision")
  changed = differences(trained, config, ignore=ignored)
  if changed:
    detail = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in sorted(changed.items()))
    raise UserError(f"{row.id}: {made} with another config ({detail}); {remedy} to train the row again")


def floors(n, records_dir=RECORDS, measure=True):
  """The real-data floor per dataset (n real training images scored like samples), measured or recorded."""
  path = os.path.join(records_dir, "floors.json")
  if not measure and os.path.exists(path):
    with open(path) as f:
      return json.load(f)
  missing = [f"{name} ({data_dir})" for name, (_, data_dir, _) in DATA.items() if not os.path.isdir(data_dir)]
  if missing:   # a floor not measured is never written: floors.json keeps the last measured ones
    raise UserError(f"cannot measure the real-data floors: no folder for {', '.join(missing)}; set "
                    "GAN_TF_FASHION_MNIST / GAN_TF_MNIST to the IDX folders (docs/data.md), or pass --report_only")
  out = {}
  for name, (dataset, data_dir, split) in DATA.items():
    config = configs.get_config("mlp", dataset=dataset, data_dir=data_dir, split=split)
    reference = scoring.reference(config)
    info = reference.evaluator.info
    real, labels = scoring.floor_images(reference, config)
    if dataset in STACKED:   # real stacks, scored on their modes at the rows' n
      floor = scoring.real_floor(reference, real, scoring.STACKED_N)
      real_split = f"{split} (stacks)"
    else:
      floor = scoring.real_floor(reference, real, n, labels=labels)
      real_split = info["train_split"]
    out[name] = dict(floor, accuracy=info["test_accuracy"], evaluator=info["sha256"], train_split=real_split,
                     eval_split=info["eval_split"])
  files.atomic_write(path, json.dumps(out, indent=1, sort_keys=True).encode())
  return out


def shipped_evaluators():
  """The sha256 of each evaluator shipped in gan_tf/evaluators/."""
  hashes = set()
  for name in os.listdir(evaluator_lib.SHIPPED_DIR):
    if name.endswith(".json"):
      with open(os.path.join(evaluator_lib.SHIPPED_DIR, name)) as f:
        hashes.add(json.load(f)["sha256"])
  return hashes


def _scorers(results, shipped):
  """Which evaluators scored these results, in words."""
  named = sorted({r["evaluator"]["sha256"] for r in results if "evaluator" in r})
  words = [f"evaluator {digest[:12]}" + (" (shipped)" if digest in shipped else " (not a shipped one)")
           for digest in named]
  legacy = [r for r in results if "evaluator" not in r]
  if legacy:
    accuracies = sorted({f"{100 * r['evaluator_accuracy']:.2f}%" for r in legacy if "evaluator_accuracy" in r})
    words.append("evaluators trained on their machines before evaluators shipped"
                 + (f" (test accuracy {', '.join(accuracies)})" if accuracies else ""))
  return ", ".join(words)


def _machine(result):
  """The machine a row was trained on, as one line (rows from before machines were recorded say so)."""
  return machine.describe(result["machine"]) if "machine" in result else "a machine not recorded"


def markdown(results, floor, n):
  machines = {_machine(result) for result in results.values()}
  machine_line = (next(iter(machines)) if len(machines) == 1
                  else "the machine named in each row's Settings line (rows come from more than one)")
  lines = ["# Results: sample quality of each experiment, as its source prescribes it and with gan_tf's "
           "defaults", "",
           "Regenerate: `make results` (or `python -m tools.results`). Figures at n = "
           f"{n:,} samples against the evaluator's held-out split (gan_tf.evaluate); wall time on "
           f"{machine_line}.", "", "## Evaluators and the real-data floor", "",
           "| data | evaluator accuracy | trained on / scored against | real images | classifier score | "
           "FD features | "
           "KID | precision / recall | density / coverage | classes covered | intra-class FD | evaluator |",
           "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
  for name, f in floor.items():
    intra = f"{f['intra_frechet']:.2f}" if "intra_frechet" in f else ""
    lines.append(f"| {name} | {100 * f['accuracy']:.2f}% | {f['train_split']} / {f['eval_split']} | "
                 f"{f['n']:,} | {f['classifier_score']:.2f} | {f['frechet_features']:.2f} | {f['kid_mean']:+.4f} | "
                 f"{_pair([f], 'precision', 'recall')} | {_pair([f], 'density', 'coverage')} | "
                 f"{f['classes_covered']} | {intra} | {f.get('evaluator', '')[:12] or 'before shipping'} |")
  lines += ["", "MNIST offline is its 10,000-digit test split only: GANs train on `test[:80%]` (the 8,000 "
            "first digits), the evaluator trains on the same 8,000 and is scored on `test[80%:]`.", "",
            "Rows that sample with a moving average of G's weights (`--g_ema`) are scored with it; *live G's "
            "score* is the same run scored with G's own trained weights (`make eval RUN=... ARGS=--live`).",
            "",
            "A dense row is three runs (`--seed=0,1,2`: weights, noise and data order), shown as mean ± "
            "standard deviation; a conv row is one run (the *seeds* column). A conditional row asks for "
            "each class in turn: *label accuracy* is the share of samples the evaluator reads as the class "
            "asked for (its ceiling is the evaluator's accuracy above), *intra-class FD* the mean over "
            "classes of the FD between generated and real images of one class. *Copy ratio*: the samples' "
            "mean distance to their nearest training image over that of held-out real images, in pixels "
            "and in the evaluator's features (about 1: no copying; `make eval ARGS=--nearest`), for the "
            "rows on MNIST's 8,000 digits.", "",
            "The real-data floor scores n real training images like samples (all 8,000 where MNIST has no "
            "more), against the same held-out split.", "",
            "## Runs", "",
            "| row | epochs | seeds | compute dtype | wall | classifier score (% of real) | live G's score | "
            "FD features | KID | precision / recall | density / coverage | classes covered | label accuracy | "
            "intra-class FD | copy ratio | class histogram | samples |",
            "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
  groups = {}
  for row in all_rows():
    groups.setdefault(row.group, []).append(row)
  grey = {group: rows for group, rows in groups.items() if rows[0].data != "stacked"}
  for group, rows in grey.items():
    done = [results[row.id] for row in rows if row.id in results]
    seeds = f"{len(done)}" + ("" if len(done) == len(rows) else f" of {len(rows)}")
    if not done:
      lines.append(f"| {group} | {rows[0].epochs} | {seeds} | | not run yet |" + " |" * 12)
      continue
    figures = [result["figures"] for result in done]
    score = [f["classifier_score"] for f in figures]
    real = floor.get(rows[0].data, {}).get("classifier_score")
    share = f" ({100 * np.mean(score) / real:.0f}%)" if real else ""
    if len(figures) == 1 and "intervals" in figures[0]:   # one seed: the samples' 95% interval instead
      share = " [{:.2f}, {:.2f}]".format(*figures[0]["intervals"]["classifier_score"]) + share
    live = [r["live_figures"]["classifier_score"] for r in done if "live_figures" in r]
    covered = sorted({f["classes_covered"] for f in figures})
    near = [f["nearest"] for f in figures if "nearest" in f]
    copy = (_spread([x["pixels"]["ratio"] for x in near], ".2f") + " / "
            + _spread([x["features"]["ratio"] for x in near], ".2f")) if near else ""
    conditional = [f for f in figures if "label_accuracy" in f]
    accuracy = _spread([100 * f["label_accuracy"] for f in conditional], ".1f", "%") if conditional else ""
    intra = _spread([f["intra_frechet"] for f in conditional], ".2f") if conditional else ""
    dtype = ", ".join(sorted({r["precision"] for r in done}))
    lines.append(
        f"| {group} | {rows[0].epochs} | {seeds} | {dtype} | "
        f"{np.mean([r['train_seconds'] for r in done]) / 60:.1f} min | "
        f"{_spread(score, '.2f')}{share} | {_spread(live, '.2f')} | "
        f"{_spread([f['frechet_features'] for f in figures], '.2f')} | "
        f"{_spread([f['kid_mean'] for f in figures], '.4f')} | {_pair(figures, 'precision', 'recall')} | "
        f"{_pair(figures, 'density', 'coverage')} | {'-'.join(map(str, covered))} | {accuracy} | "
        f"{intra} | {copy} | {figures[0]['histogram']} | ![](results/{rows[0].id}.png) |")
  lines += _targets(groups, results, floor)
  lines += _factors(grey, results, floor)
  lines += _cas(groups, results)
  lines += _stacked(groups, results, floor)
  shipped = shipped_evaluators()
  lines += ["", "## Settings", "", "Each row's command, where its training differs from its source's, the "
            "machine it trained on, and the evaluator that scored it (by its sha256; the shipped ones are in "
            "`gan_tf/evaluators/`, and a figure compares to the digit only with figures of the same evaluator).",
            ""]
  for group, rows in groups.items():
    done = [row for row in rows if row.id in results]
    row_machines = sorted({_machine(results[row.id]) for row in done})
    where = f" (trained on {'; '.join(row_machines)})" if len(machines) > 1 and done else ""
    notes = sorted({results[row.id]["imported_from"] for row in done if "imported_from" in results[row.id]})
    where += "".join(f" ({note})" for note in notes)   # a row finished before records existed
    seeds = f" with `--seed=N` for N in {', '.join(str(row.seed) for row in rows)}" if len(rows) > 1 else ""
    where += f"; scored by {_scorers([results[row.id] for row in done], shipped)}" if done else ""
    lines.append(f"- `{group}`: `{_flags(rows[0])}`{seeds}" + _deviations(rows[0]) + where)
  return "\n".join(lines) + "\n"


def _targets(groups, results, floor):
  """The conditional rows against their targets: met, or missed by how much (on the seeds' mean)."""
  lines = ["", "## Conditional targets", "", "| row | label accuracy: target / reached | score, % of real: "
           "target / reached |", "|---|---|---|"]
  for group, (accuracy, share) in TARGETS.items():
    done = [results[row.id]["figures"] for row in groups[group] if row.id in results]
    if not done:
      lines.append(f"| {group} | ≥ {100 * accuracy:.0f}% / not run yet | |")
      continue
    reached = 100 * np.mean([f["label_accuracy"] for f in done])
    real = floor.get(groups[group][0].data, {}).get("classifier_score")
    score = 100 * np.mean([f["classifier_score"] for f in done]) / real if real else None
    cells = [_against(100 * accuracy, reached, "%")]
    cells.append(_against(100 * share, score, "%") if share and score else "no target")
    lines.append(f"| {group} | " + " | ".join(cells) + " |")
  return lines


def _cas(groups, results):
  """The conditional rows' CAS ratio beside Lesort et al.'s, with the target: above their best model."""
  lines = ["", "## Classification accuracy score beside a published table", "",
           "CAS: the evaluator's network trained on generated labelled samples alone, tested on the real "
           "reference split, over the same network trained on real images (`make eval ARGS=--cas`, "
           "docs/evaluation.md). Lesort et al. 2018 (arXiv:1806.10840; 50,000 samples, their classifiers, "
           "the datasets' own test splits, 8 seeds) as ratios to their real-data baseline. Ours: as many "
           "samples as the evaluator's real training images (60,000 on Fashion-MNIST, 8,000 on MNIST's "
           "test[:80%]), tested on the evaluator's reference split (test; MNIST's test[80%:]).", "",
           "| data | model | CAS | real-data baseline | ratio | target (their best) |", "|---|---|---:|---:|---:|---|"]
  targets = {data: max(acc for _, acc in rows[1:]) / rows[0][1] for data, rows in LESORT.items()}
  for data, rows in LESORT.items():
    for model, acc in rows[1:]:
      lines.append(f"| {data} | Lesort et al.: {model} | {acc:.3f} | {rows[0][1]:.3f} | {acc / rows[0][1]:.3f} | |")
    for group, members in groups.items():
      if members[0].data != data or not members[0].conditional:
        continue
      done = [results[row.id]["figures"]["cas"] for row in members
              if row.id in results and "cas" in results[row.id]["figures"]]
      if not done:
        lines.append(f"| {data} | gan_tf: {group} | not scored yet | | | ≥ {targets[data]:.3f} |")
        continue
      ratio = np.mean([c["ratio"] for c in done])
      verdict = "met" if ratio >= targets[data] else f"missed by {targets[data] - ratio:.3f}"
      seeds = f"{len(done)} seed" + ("s" if len(done) > 1 else "")
      lines.append(f"| {data} | gan_tf: {group} ({seeds}) | {_spread([c['cas'] for c in done], '.3f')} | "
                   f"{done[0]['real_baseline']:.3f} | {_spread([c['ratio'] for c in done], '.3f')} | "
                   f"≥ {targets[data]:.3f}: {verdict} |")
  return lines


def _stacked(groups, results, floor):
  """The Stacked MNIST rows' modes and KL beside PacGAN's table, with the target for gan_tf's defaults."""
  real = floor.get("stacked")
  lines = ["", "## Stacked MNIST: modes beside a published table", "",
           f"Each of {scoring.STACKED_N:,} samples is read channel by channel by the MNIST evaluator; its mode "
           "is the triple of digits (1,000 modes). *KL*: KL(the samples' modes ‖ uniform) in nats over the "
           "modes that occur (PacGAN's formula; ln 1000 = 6.91 for one mode, about 0.02 for a uniform draw "
           "of this size). *Confident*: the share of samples whose three digits the evaluator reads with "
           f"probability ≥ {metrics.CONFIDENT}. PacGAN's rows are its Table 2 (Lin et al. 2018, VEEGAN's "
           "setting, from its repository); their ± is the standard error over 10 trials, ours the standard "
           "deviation over 3 seeds with the standard error beside it.", "",
           "How our protocol differs: the stacks are drawn from MNIST's 10,000 test digits (offline; PacGAN "
           f"draws from all 70,000), {Config().stacked_size:,} of them as in PacGAN; the networks are each row's "
           "own (PacGAN's and VEEGAN's DCGAN is a 4-layer conv net with batch norm), trained for the epochs "
           "shown (PacGAN: 50 epochs at batch 64); the evaluator is gan_tf's shipped MNIST classifier, fitted "
           "to the same test digits' first 8,000"
           + (f" ({100 * real['accuracy']:.2f}% on {real['eval_split']})" if real else "")
           + ", not PacGAN's Keras CNN.", "",
           "| model | epochs | seeds | wall | modes (of 1,000) | KL | confident | samples |",
           "|---|---:|---:|---:|---:|---:|---:|---|"]
  lines += [f"| PacGAN's table: {model} | | | | {modes} | {kl} | | |" for model, modes, kl in PACGAN]
  if real:
    lines.append(f"| real stacks ({real['n']:,}) | | | | {real['modes']} | {real['mode_kl']:.3f} | "
                 f"{100 * real['confident_share']:.1f}% | |")
  for group, rows in groups.items():
    if rows[0].data != "stacked":
      continue
    done = [results[row.id] for row in rows if row.id in results]
    if not done:
      lines.append(f"| gan_tf: {group} | {rows[0].epochs} | 0 of {len(rows)} | not run yet | | | | |")
      continue
    figures = [r["figures"] for r in done]
    lines.append(f"| gan_tf: {group} | {rows[0].epochs} | {len(done)} | "
                 f"{np.mean([r['train_seconds'] for r in done]) / 60:.1f} min | "
                 f"{_with_error([f['modes'] for f in figures], '.1f')} | "
                 f"{_with_error([f['mode_kl'] for f in figures], '.3f')} | "
                 f"{_spread([100 * f['confident_share'] for f in figures], '.1f', '%')} | "
                 f"![](results/{rows[0].id}.png) |")
  group, least_modes, most_kl = STACKED_TARGET
  done = [results[row.id]["figures"] for row in groups.get(group, []) if row.id in results]
  if done:
    modes, kl = np.mean([f["modes"] for f in done]), np.mean([f["mode_kl"] for f in done])
    verdicts = ["met" if modes >= least_modes else f"missed by {least_modes - modes:.1f} modes",
                "met" if kl <= most_kl else f"missed by {kl - most_kl:.3f}"]
    lines += ["", f"Target for `{group}` (gan_tf's defaults, the `mlp` networks; mean of its seeds): "
              f"≥ {least_modes} modes: {modes:.1f}, {verdicts[0]}; KL ≤ {most_kl:.2f}: {kl:.3f}, {verdicts[1]}."]
  return lines


def _with_error(values, form):
  """'mean ± std (s.e. x)' of several values, as _spread of one."""
  if len(values) < 2:
    return _spread(values, form)
  return f"{_spread(values, form)} (s.e. {np.std(values, ddof=1) / np.sqrt(len(values)):{form}})"


def _factors(groups, results, floor):
  """The classifier score's two factors per row (the seeds' means): effective classes / classes per sample."""
  lines = ["", "## The classifier score's two factors", "",
           "exp(H(p(y))), the classes the samples spread over, and exp(E H(p(y|x))), the classes one sample "
           "looks like; the score is their ratio (docs/evaluation.md).", "",
           "| row | effective classes / classes per sample | real data |", "|---|---|---|"]
  for group, rows in groups.items():
    done = [results[row.id]["figures"] for row in rows if row.id in results]
    if not done or "effective_classes" not in done[0]:
      continue
    real = floor.get(rows[0].data, {})
    real_cell = (f"{real['effective_classes']:.2f} / {real['classes_per_sample']:.2f}"
                 if "effective_classes" in real else "")
    lines.append(f"| {group} | {np.mean([f['effective_classes'] for f in done]):.2f} / "
                 f"{np.mean([f['classes_per_sample'] for f in done]):.2f} | {real_cell} |")
  return lines


def _against(target, reached, unit):
  verdict = "met" if reached >= target else f"missed by {target - reached:.1f} points"
  return f"≥ {target:.0f}{unit} / {reached:.1f}{unit}: {verdict}"


def _pair(figures, first, second):
  """'first / second' over the figures that have both (mean ± std of several); '' where none has them."""
  have = [f for f in figures if first in f and second in f]
  if not have:
    return ""
  return f"{_spread([f[first] for f in have], '.2f')} / {_spread([f[second] for f in have], '.2f')}"


def _spread(values, form, unit=""):
  """'mean' of one value, 'mean ± std' (sample standard deviation) of several; '' of none."""
  if not values:
    return ""
  if len(values) == 1:
    return f"{values[0]:{form}}{unit}"
  return f"{np.mean(values):{form}}{unit} ± {np.std(values, ddof=1):{form}}{unit}"


def _deviations(row):
  """For a default row whose source trains otherwise: where the two differ, and where the reasons are."""
  changed = configs.against_source(row.config())
  if not changed:
    return ""
  listed = ", ".join(f"{k} {v!r}" for k, v in changed.items())
  return f"; against its source: {listed} (why: `gan_tf/configs/{row.experiment}.py`)"


def _flags(row):
  dataset, _, split = DATA[row.data]
  folder = "/usr/share/datasets/fashion-mnist" if row.data == "fashion" else "<MNIST's IDX folder>"
  args = [f"--experiment={row.experiment}", f"--dataset={dataset}", f"--data_dir={folder}",
          f"--split={split}", f"--epochs={row.epochs}"]
  if row.setting == "source":
    args.append("--setting=source")
  if row.conditional:
    args.append("--conditional")
  return " ".join(args)


def _short_machine(result):
  m = result.get("machine")
  if not m:
    return "machine not recorded"
  units = "native bf16" if m.get("native", {}).get("bfloat16") else ("AVX-512" if m.get("avx512") else "AVX2")
  return f"{m['cpus']}-core {m['cpu'].replace('(R)', '')}, {units}"


def readme_table(results):
  """The README's experiments table from the rows' results (as RESULTS.md's figures: seeds' means)."""
  groups = {}
  for row in all_rows():
    groups.setdefault(row.group, []).append(results.get(row.id))

  def score(group):
    done = [r["figures"]["classifier_score"] for r in groups.get(group, []) if r]
    return f"{np.mean(done):.2f}" if done else "—"
  lines = [README_BEGIN, "| experiment | network and source | data | epochs | wall time (machine) | "
           "score: source / gan_tf | label accuracy |", "|---|---|---|---:|---|---:|---:|"]
  for name, network, data_name, source, default in README_ROWS:
    done = [r for r in groups[default] if r]
    epochs = default.split("-")[2]
    wall = (f"{np.mean([r['train_seconds'] for r in done]) / 60:.1f} min ({_short_machine(done[0])})"
            if done else "not run yet")
    accuracy = [r["figures"]["label_accuracy"] for r in done if "label_accuracy" in r["figures"]]
    lines.append(f"| {name} | {network} | {data_name} | {epochs} | {wall} | "
                 f"{score(source) if source else '—'} / {score(default)} | "
                 f"{f'{100 * np.mean(accuracy):.1f}%' if accuracy else ''} |")
  return "\n".join(lines + [README_END])


def write_readme_table(results, path=README):
  """Replaces the README's table between its markers with readme_table(results)."""
  with open(path) as f:
    text = f.read()
  start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
  files.atomic_write(path, (text[:start] + readme_table(results) + text[end:]).encode())


def recorded_results(records_dir=RECORDS):
  """{row id: result} of every row with a committed record (checked against the row's config as now)."""
  return {row.id: run_row(row, os.devnull, 0, records_dir) for row in all_rows()
          if os.path.exists(record_path(row, records_dir))}


def main():
  f = flags.FLAGS
  wanted = set(f.rows) if f.rows else None
  rows = [row for row in all_rows()
          if os.path.exists(os.path.join(f.runs_dir, row.id, "results.json"))
          or os.path.exists(record_path(row))
          or (not f.report_only and (wanted is None or row.id in wanted))]
  results = {}
  for row in rows:
    logging.info("Row %s", row.id)
    results[row.id] = run_row(row, f.runs_dir, f.n)
  text = markdown(results, floors(f.n, measure=not f.report_only), f.n)
  files.atomic_write(REPORT, text.encode())
  write_readme_table(results)
  print(text)


if __name__ == "__main__":
  flags.DEFINE_list("rows", None, "Row ids to run (default: all); finished rows are always reported.")
  flags.DEFINE_string("runs_dir", "runs/results", "Where the rows' run folders go.")
  flags.DEFINE_bool("report_only", False, "Train nothing: rewrite RESULTS.md from the finished rows.")
  flags.DEFINE_integer("n", 10000, "Samples scored per row.")
  run_main(main)
