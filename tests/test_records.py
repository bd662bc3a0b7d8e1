"""Did my run reproduce it? A run's config matched to a RESULTS row, and the verdict's rule on known figures."""
import json
import os

import pytest

from gan_tf.errors import UserError
from tools import records, reproduce
from gan_tf.configs import get_config

SHA = "a" * 64


def write_row(folder, row, figures_per_seed, config, sha=SHA):
  """Records as tools/results.py writes them: seed 0 as <row>.json, the others as <row>-seedN.json."""
  os.makedirs(folder, exist_ok=True)
  for seed, figures in enumerate(figures_per_seed):
    name = row if seed == 0 else f"{row}-seed{seed}"
    record = {"figures": figures, "config": json.loads(config.replace(seed=seed).to_json()), "row": {}}
    if sha:
      record["evaluator"] = {"sha256": sha}
    with open(os.path.join(folder, f"{name}.json"), "w") as f:
      json.dump(record, f)
  return str(folder)


def result(sha=SHA, **figures):
  """make eval's result for these figures: each as (value, 95% interval) or a bare value."""
  out = {"evaluator": {"sha256": sha}, "intervals": {}}
  for key, value in figures.items():
    if isinstance(value, tuple):
      out[key], out["intervals"][key] = value[0], list(value[1])
    else:
      out[key] = value
  return out


def test_a_run_matches_the_row_it_trains_as_whatever_its_seed_folder_and_speed_flags(tmp_path):
  row_config = get_config("mlp", data_dir="/usr/share/datasets/fashion-mnist")
  folder = write_row(tmp_path / "r", "mlp-fashion-50-default", [{"classifier_score": 7.0}] * 3, row_config)
  write_row(folder, "mlp-fashion-50-source", [{"classifier_score": 5.0}] * 3, get_config("mlp", "source"))
  with open(os.path.join(folder, "floors.json"), "w") as f:
    json.dump({"fashion": {"classifier_score": 9.0}}, f)
  rows = records.read(folder)
  assert sorted(rows) == ["mlp-fashion-50-default", "mlp-fashion-50-source"]
  assert [r["config"].seed for r in rows["mlp-fashion-50-default"]] == [0, 1, 2]
  mine = row_config.replace(seed=7, data_dir="/elsewhere", jit_compile=False, steps_per_execution=1,
                            mixed_precision="bfloat16", eval_every=5, checkpoint_every=10)
  assert records.match(mine, rows) == ("mlp-fashion-50-default", {})
  assert records.match(get_config("mlp", "source", seed=3), rows) == ("mlp-fashion-50-source", {})
  # --epochs=2: no row; the nearest, and what differs
  assert records.match(mine.replace(epochs=2), rows) == ("mlp-fashion-50-default", {"epochs": (50, 2)})
  nearest, differs = records.match(mine.replace(epochs=2, split="train[:5%]", conditional=True), rows)
  assert nearest == "mlp-fashion-50-default" and set(differs) == {"epochs", "split", "conditional"}
  # A field the row's optimizer never reads is no difference (SGD's momentum under Adam).
  assert records.match(mine.replace(d_momentum=0.9), rows) == ("mlp-fashion-50-default", {})
  assert records.match(mine, {}) == (None, {})


def test_verdict_against_a_three_seed_row_is_its_mean_plus_minus_two_standard_deviations(tmp_path):
  seeds = [{"classifier_score": s, "frechet_features": d} for s, d in ((7.0, 6.0), (7.2, 6.4), (7.1, 6.2))]
  folder = write_row(tmp_path / "r", "row", seeds, get_config("mlp"))
  rows = records.read(folder)["row"]
  assert records.row_range(rows, "classifier_score") == pytest.approx((6.9, 7.3))   # 7.1 +- 2 x 0.1
  inside = records.verdict(result(classifier_score=(7.35, (7.28, 7.42)), frechet_features=6.5), "row", rows)
  assert inside["reproduces"] is True and inside["seeds"] == 3
  assert inside["figures"]["frechet_features"] == {"run": 6.5, "row": pytest.approx([5.8, 6.6]), "agrees": True}
  # Its interval overlaps the range: agrees; above it by more than its own spread: does not.
  outside = records.verdict(result(classifier_score=(7.5, (7.4, 7.6)), frechet_features=6.5), "row", rows)
  assert outside["reproduces"] is False
  assert not outside["figures"]["classifier_score"]["agrees"] and outside["figures"]["frechet_features"]["agrees"]
  # FD's resamples lie above FD itself: the value inside the range agrees though its interval is above it.
  biased = records.verdict(result(classifier_score=7.1, frechet_features=(6.5, (6.7, 6.9))), "row", rows)
  assert biased["figures"]["frechet_features"]["agrees"]
  # Only figures both report are compared (an older record has no precision).
  assert set(records.verdict(result(classifier_score=7.1, precision=0.7), "row", rows)["figures"]) == {
      "classifier_score"}


def test_verdict_against_a_one_seed_row_uses_its_bootstrap_interval(tmp_path):
  one = [{"classifier_score": 7.1, "label_accuracy": 0.97,
          "intervals": {"classifier_score": [7.0, 7.2], "label_accuracy": [0.965, 0.975]}}]
  rows = records.read(write_row(tmp_path / "r", "row", one, get_config("mlp", conditional=True)))["row"]
  assert records.row_range(rows, "classifier_score") == (7.0, 7.2)
  same = records.verdict(result(classifier_score=(7.15, (7.1, 7.2)), label_accuracy=(0.96, (0.955, 0.966))),
                         "row", rows)
  assert same["reproduces"] is True and same["seeds"] == 1
  worse = records.verdict(result(classifier_score=(7.15, (7.1, 7.2)), label_accuracy=(0.9, (0.89, 0.91))),
                          "row", rows)
  assert worse["reproduces"] is False and not worse["figures"]["label_accuracy"]["agrees"]


def test_a_row_scored_by_another_evaluator_is_not_compared(tmp_path):
  rows = records.read(write_row(tmp_path / "r", "row", [{"classifier_score": 7.1}] * 3, get_config("mlp"),
                                sha=None))["row"]
  verdict = records.verdict(result(classifier_score=7.1), "row", rows)
  assert verdict["reproduces"] is None and "another evaluator" in verdict["why"]


def test_make_reproduce_names_the_rows_when_asked_for_another(tmp_path):
  with pytest.raises(UserError, match="ROW='mlp-fashion-5-default' is no RESULTS row; rows: .*mlp-fashion-50-default"):
    reproduce.train_row("mlp-fashion-5-default", 0, str(tmp_path / "run"))
  assert not (tmp_path / "run").exists()
