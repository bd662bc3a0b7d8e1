"""The RESULTS rows' records (experiments/results/<row>[-seedN].json) read back, and whether a run reproduces
one: the rule docs/evaluation.md states ("Did my run reproduce it?"). Pure Python: no TensorFlow."""
import dataclasses
import glob
import json
import os
import re

import numpy as np

from gan_tf.config import Config, differences
from gan_tf.metrics import FIGURES

# Fields that do not shape what is trained: which seed, where the files are, monitoring, speed, distribution.
NOT_TRAINING = {"seed", "data_dir", "source"} | {
  f.name for f in dataclasses.fields(Config)
  if f.metadata["group"] in ("monitoring and checkpoints", "speed", "distribution")}
COMPARED = [key for key, figure in FIGURES.items() if figure.table and key != "classes_covered"]


def read(records_dir):
  """{row id: [its seeds' records, seed 0's first]} of a folder of records."""
  rows = {}
  for path in glob.glob(os.path.join(records_dir, "*.json")):
    row, seed = re.fullmatch(r"(.+?)(?:-seed(\d+))?", os.path.basename(path)[:-5]).groups()
    with open(path) as f:
      record = json.load(f)
    if "config" in record and "figures" in record:   # floors.json and the like are no rows
      record = dict(record, config=Config.from_json(json.dumps(record["config"])))
      rows.setdefault(row, []).append((int(seed or 0), record))
  return {row: [record for _, record in sorted(seeds, key=lambda s: s[0])] for row, seeds in sorted(rows.items())}


def unread(config):
  """Fields config's training never reads: the other optimizer's, and gp_weight without WGAN-GP."""
  fields = set()
  for net in ("d", "g"):
    sgd = getattr(config, f"{net}_optimizer") == "sgd"
    fields |= {f"{net}_beta_1"} if sgd else {f"{net}_momentum", f"{net}_nesterov"}
  return fields | ({"gp_weight"} if config.loss != "wasserstein_gp" else set())


def training_differences(row_config, config):
  """{field: (the row's, config's)} for every field that shapes training where the two differ."""
  return differences(row_config, config, NOT_TRAINING | (unread(row_config) & unread(config)))


def match(config, rows):
  """(row id, {}) of the row config trains as, else (the nearest row's id, its differing fields); (None, {})
  when there are no rows."""
  distance = {row: training_differences(records[0]["config"], config) for row, records in rows.items()}
  if not distance:
    return None, {}
  nearest = min(distance, key=lambda row: (len(distance[row]), row))
  return nearest, distance[nearest]


def row_range(records, key):
  """(low, high) the row allows for a figure: mean +- 2 standard deviations over its seeds, or a one-seed
  row's 95% bootstrap interval (its value alone without one); None when a seed lacks the figure."""
  values = [r["figures"].get(key) for r in records]
  if any(v is None for v in values):
    return None
  if len(values) > 1:
    mean, spread = float(np.mean(values)), 2 * float(np.std(values, ddof=1))
    return mean - spread, mean + spread
  return tuple(records[0]["figures"].get("intervals", {}).get(key, (values[0], values[0])))


def verdict(result, row, records):
  """Whether the evaluated run (make eval's result) reproduces the row: each figure both report agrees when
  the run's value or 95% interval overlaps the row's range, under the same evaluator."""
  scorers = {r.get("evaluator", {}).get("sha256") for r in records}
  if scorers != {result["evaluator"]["sha256"]}:
    return {"row": row, "reproduces": None, "why": "the row was scored by another evaluator "
        f"({', '.join(sorted(str(s)[:12] for s in scorers))}); its figures do not compare"}
  figures = {}
  for key in COMPARED:
    allowed = row_range(records, key)
    if key in result and allowed is not None:
      low, high = result.get("intervals", {}).get(key, (result[key], result[key]))
      low, high = min(low, result[key]), max(high, result[key])   # FD's and KID's resamples lie above them
      figures[key] = {"run": result[key], "row": list(allowed),
              "agrees": low <= allowed[1] and high >= allowed[0]}
  return {"row": row, "seeds": len(records), "figures": figures,
      "reproduces": bool(figures) and all(f["agrees"] for f in figures.values())}


def judge(config, result, rows):
  """The verdict on an evaluated run of config: against the row it trains as, else which row is nearest and
  the fields in which it differs."""
  row, differs = match(config, rows)
  if row and not differs:
    return verdict(result, row, rows[row])
  return {"row": None, "nearest": row, "differs": {k: list(v) for k, v in differs.items()}}


def describe(verdict):
  """The verdict as make eval's closing line."""
  if verdict["row"] is None:
    if verdict["nearest"] is None:
      return "no RESULTS row to compare with (no records)"
    differs = ", ".join(f"{k} {row!r} -> {run!r}" for k, (row, run) in verdict["differs"].items())
    return f"no RESULTS row trains as this run; the nearest, {verdict['nearest']}, differs in: {differs}"
  if verdict["reproduces"] is None:
    return f"{verdict['row']}: not compared: {verdict['why']}"
  outside = [f"{k} {f['run']:.4g} (row {f['row'][0]:.4g} to {f['row'][1]:.4g})"
             for k, f in verdict["figures"].items() if not f["agrees"]]
  seeds = f"{verdict['seeds']} seed{'s' * (verdict['seeds'] > 1)}"
  if verdict["reproduces"]:
    return f"verdict: reproduces {verdict['row']} ({seeds}): every figure inside the row's range"
  return (f"verdict: does not reproduce {verdict['row']} ({seeds}): "
          + "; ".join(outside or ["no figure in common"]))
